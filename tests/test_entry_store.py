"""The generic cache entries (``iacscan.cache_store.EntryStore``) that the stage caches build on."""
from __future__ import annotations

import os
import time
from pathlib import Path

import pytest

from iacscan.cache_store import EntryStore, prune


def test_write_then_read_returns_the_same_data(tmp_path: Path) -> None:
    store = EntryStore(tmp_path / "c", "things", tag="t1")
    assert store.read("key") is None
    assert store.write("key", {"a": [1, 2.5, "x", None, True]})
    assert store.read("key") == {"a": [1, 2.5, "x", None, True]}
    assert (store.hits, store.misses, store.writes) == (1, 1, 1)
    assert store.path("key").parent.parent == tmp_path / "c" / "things"


@pytest.mark.parametrize("damage", ["truncate", "flip", "header", "empty"])
def test_a_damaged_entry_is_a_miss(tmp_path: Path, damage: str) -> None:
    store = EntryStore(tmp_path / "c", "things", tag="t1")
    store.write("key", {"a": "value"})
    path = store.path("key")
    raw = path.read_bytes()
    damaged = {"truncate": raw[:-3], "flip": raw.replace(b"value", b"valuf"),
               "header": b"{}\n" + raw.partition(b"\n")[2], "empty": b""}[damage]
    path.write_bytes(damaged)
    assert store.read("key") is None


def test_tag_kind_and_key_all_separate_entries(tmp_path: Path) -> None:
    one = EntryStore(tmp_path / "c", "things", tag="t1")
    one.write("key", 1)
    assert EntryStore(tmp_path / "c", "things", tag="t2").read("key") is None
    assert EntryStore(tmp_path / "c", "other", tag="t1").read("key") is None
    assert one.read("key2") is None
    assert one.read(b"key") == 1  # bytes and str keys with the same text are the same key


def test_an_entry_moved_under_another_name_is_refused(tmp_path: Path) -> None:
    store = EntryStore(tmp_path / "c", "things", tag="t1")
    store.write("a", "for a")
    store.path("b").parent.mkdir(parents=True, exist_ok=True)
    store.path("b").write_bytes(store.path("a").read_bytes())
    assert store.read("b") is None


def test_values_json_cannot_hold_are_not_written(tmp_path: Path) -> None:
    store = EntryStore(tmp_path / "c", "things", tag="t1")
    assert not store.write("nan", float("nan"))
    assert not store.write("set", {1, 2})
    assert store.read("nan") is None and store.writes == 0


def test_a_directory_others_can_write_is_not_used(tmp_path: Path) -> None:
    shared = tmp_path / "shared"
    shared.mkdir()
    shared.chmod(0o777)
    store = EntryStore(shared, "things", tag="t1")
    assert not store.usable
    assert not store.write("key", 1) and store.read("key") is None
    assert not (shared / "things").exists()


def test_old_entries_of_every_kind_are_pruned(tmp_path: Path) -> None:
    directory = tmp_path / "c"
    store = EntryStore(directory, "things", tag="t1")
    store.write("old", 1)
    store.write("new", 2)
    now = time.time()
    month_ago = now - 31 * 24 * 3600
    os.utime(store.path("old"), (month_ago, month_ago))
    os.utime(directory / "last-prune", (month_ago, month_ago))
    assert prune(directory, now) == 1
    assert store.read("old") is None and store.read("new") == 2
