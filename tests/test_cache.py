"""The parse cache on disk (iacscan.cache): hits, misses, corrupt and outdated entries."""
from __future__ import annotations

import json
import os
import stat
from pathlib import Path

import pytest

from iacscan.cache import DiskParseCache, default_dir, parser_tag
from iacscan.parsers.tf_files import load_file, parse_uncached, read_text, text_key
from iacscan.ruleset import load_ruleset
from iacscan.scan import ScanOptions, scan
from tests.helpers import CORPUS

SG_TF = """\
resource "aws_security_group" "ssh" {
  name        = "ssh"
  description = "ssh from anywhere"

  ingress {
    description = "ssh"
    from_port   = 22
    to_port     = 22
    protocol    = "tcp"
    cidr_blocks = ["0.0.0.0/0"]
  }
}
"""


@pytest.fixture
def tf_file(tmp_path: Path) -> Path:
    path = tmp_path / "src" / "main.tf"
    path.parent.mkdir()
    path.write_text(SG_TF)
    return path


def key_of(path: Path) -> tuple[bool, bytes]:
    return text_key(path, read_text(path))


def test_miss_then_hit_from_disk(tmp_path: Path, tf_file: Path) -> None:
    cache_dir = tmp_path / "cache"
    first = DiskParseCache(cache_dir)
    parsed = load_file(tf_file, "main.tf", first)
    assert (first.hits, first.writes) == (0, 1)
    entry = first.entry_path(key_of(tf_file))
    assert entry.is_file()

    second = DiskParseCache(cache_dir)  # a new process: nothing in memory
    again = load_file(tf_file, "main.tf", second)
    assert (second.hits, second.writes) == (1, 0)
    assert again == parsed
    assert [b.labels for b in again.blocks] == [["aws_security_group", "ssh"]]
    assert again.blocks[0].blocks[0].line == 5 and again.blocks[0].file == "main.tf"


def test_a_valid_entry_is_what_the_loader_uses(tmp_path: Path, tf_file: Path) -> None:
    """Proof the hit comes from disk: an entry rewritten (with a correct checksum) is read back."""
    from iacscan.cache import decode_entry, encode_entry

    cache = DiskParseCache(tmp_path / "cache")
    load_file(tf_file, "main.tf", cache)
    entry = cache.entry_path(key_of(tf_file))
    blocks = decode_entry(entry.read_bytes(), entry.name)
    assert blocks is not None
    blocks[0].labels = ["aws_security_group", "renamed"]
    entry.write_bytes(encode_entry(blocks, entry.name) or b"")
    result = load_file(tf_file, "main.tf", DiskParseCache(tmp_path / "cache"))
    assert result.blocks[0].labels == ["aws_security_group", "renamed"]


@pytest.mark.parametrize("damage", ["truncate", "garbage", "flip_body", "wrong_name", "bad_types", "empty"])
def test_a_damaged_entry_is_ignored_and_rewritten(tmp_path: Path, tf_file: Path, damage: str) -> None:
    cache = DiskParseCache(tmp_path / "cache")
    expected = load_file(tf_file, "main.tf", cache)
    entry = cache.entry_path(key_of(tf_file))
    raw = entry.read_bytes()
    head, _, body = raw.partition(b"\n")
    if damage == "truncate":
        entry.write_bytes(raw[: len(raw) // 2])
    elif damage == "garbage":
        entry.write_bytes(b"\x80\x04\x95 not json at all")
    elif damage == "flip_body":  # still valid JSON, but not what the checksum says
        entry.write_bytes(head + b"\n" + body.replace(b'"ssh"', b'"xyz"', 1))
    elif damage == "wrong_name":
        header = json.loads(head)
        header["name"] = "0" * 64
        entry.write_bytes(json.dumps(header).encode() + b"\n" + body)
    elif damage == "bad_types":  # a checksum that matches a body of the wrong shape
        import hashlib

        bad = b'[{"k": 1}]'
        header = json.loads(head)
        header["sha256"] = hashlib.sha256(bad).hexdigest()
        entry.write_bytes(json.dumps(header).encode() + b"\n" + bad)
    else:
        entry.write_bytes(b"")

    fresh = DiskParseCache(tmp_path / "cache")
    assert load_file(tf_file, "main.tf", fresh) == expected
    assert (fresh.hits, fresh.writes) == (0, 1)
    assert entry.read_bytes() == raw  # rewritten whole


def test_another_version_does_not_read_old_entries(tmp_path: Path, tf_file: Path) -> None:
    old = DiskParseCache(tmp_path / "cache", version="0.0.1")
    load_file(tf_file, "main.tf", old)
    new = DiskParseCache(tmp_path / "cache", version="9.9.9")
    assert new.tag != old.tag and "iacscan-9.9.9" in new.tag
    assert new.entry_path(key_of(tf_file)) != old.entry_path(key_of(tf_file))
    load_file(tf_file, "main.tf", new)
    assert (new.hits, new.writes) == (0, 1)


def test_an_old_entry_copied_under_the_new_name_is_refused(tmp_path: Path, tf_file: Path) -> None:
    """Entries name their key in the header: a file moved under another key is not trusted."""
    old = DiskParseCache(tmp_path / "cache", version="0.0.1")
    load_file(tf_file, "main.tf", old)
    new = DiskParseCache(tmp_path / "cache", version="9.9.9")
    target = new.entry_path(key_of(tf_file))
    target.parent.mkdir(parents=True, exist_ok=True)
    target.write_bytes(old.entry_path(key_of(tf_file)).read_bytes())
    load_file(tf_file, "main.tf", new)
    assert (new.hits, new.writes) == (0, 1)


def test_changed_content_is_a_miss(tmp_path: Path, tf_file: Path) -> None:
    cache_dir = tmp_path / "cache"
    load_file(tf_file, "main.tf", DiskParseCache(cache_dir))
    tf_file.write_text(SG_TF.replace("0.0.0.0/0", "10.0.0.0/8"))
    cache = DiskParseCache(cache_dir)
    result = load_file(tf_file, "main.tf", cache)
    assert (cache.hits, cache.writes) == (0, 1)
    assert result.blocks[0].blocks[0].attrs["cidr_blocks"] == ["10.0.0.0/8"]


def test_tf_json_files_are_cached_too(tmp_path: Path) -> None:
    path = tmp_path / "main.tf.json"
    path.write_text(json.dumps({"resource": {"aws_security_group": {"web": {"name": "web"}}}}, indent=2))
    load_file(path, "main.tf.json", DiskParseCache(tmp_path / "cache"))
    cache = DiskParseCache(tmp_path / "cache")
    result = load_file(path, "main.tf.json", cache)
    assert cache.hits == 1
    assert result.blocks[0].labels == ["aws_security_group", "web"] and result.blocks[0].line == 4


@pytest.mark.skipif(not hasattr(os, "getuid"), reason="POSIX permissions")
def test_a_directory_others_can_write_is_not_used(tmp_path: Path, tf_file: Path) -> None:
    cache_dir = tmp_path / "shared"
    cache_dir.mkdir()
    cache_dir.chmod(0o777)
    cache = DiskParseCache(cache_dir)
    assert not cache.usable
    assert load_file(tf_file, "main.tf", cache).blocks
    assert list(cache_dir.iterdir()) == []


def test_new_directories_are_private(tmp_path: Path, tf_file: Path) -> None:
    cache = DiskParseCache(tmp_path / "new" / "cache")
    load_file(tf_file, "main.tf", cache)
    mode = stat.S_IMODE((tmp_path / "new" / "cache").stat().st_mode)
    assert mode & 0o077 == 0


def test_an_unwritable_location_is_silently_skipped(tmp_path: Path, tf_file: Path) -> None:
    blocker = tmp_path / "file"
    blocker.write_text("not a directory")
    cache = DiskParseCache(blocker / "cache")
    assert not cache.usable
    assert load_file(tf_file, "main.tf", cache).blocks[0].labels == ["aws_security_group", "ssh"]


def test_default_dir_follows_the_environment(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    monkeypatch.setenv("IACSCAN_CACHE_DIR", str(tmp_path / "explicit"))
    assert default_dir() == tmp_path / "explicit"
    monkeypatch.delenv("IACSCAN_CACHE_DIR")
    monkeypatch.setenv("XDG_CACHE_HOME", str(tmp_path / "xdg"))
    assert default_dir() == tmp_path / "xdg" / "iacscan"
    monkeypatch.delenv("XDG_CACHE_HOME")
    monkeypatch.setenv("HOME", str(tmp_path / "home"))
    assert default_dir() == tmp_path / "home" / ".cache" / "iacscan"


def test_the_tag_names_every_input_of_the_parse() -> None:
    tag = parser_tag("1.2.3")
    assert tag.startswith("f1/iacscan-1.2.3/hcl2-8.") and "/parsers-" in tag


def test_a_scan_with_the_cache_finds_the_same_as_without(tmp_path: Path, tf_file: Path) -> None:
    root = tf_file.parent
    ruleset = load_ruleset(None)
    plain = scan(root, [root], ruleset)
    cached_options = ScanOptions(cache_dir=tmp_path / "cache")
    cold = scan(root, [root], ruleset, cached_options)
    warm = scan(root, [root], ruleset, ScanOptions(cache_dir=tmp_path / "cache"))
    expected = {("SG101", "aws_security_group.ssh", "main.tf", 5)}
    for result in (plain, cold, warm):
        assert {(f.rule_id, f.resource, f.file, f.line) for f in result.findings if f.rule_id == "SG101"} == expected
    assert [f.fingerprint for f in warm.findings] == [f.fingerprint for f in plain.findings]
    assert any((tmp_path / "cache" / "tf").rglob("*"))


@pytest.mark.skipif(not CORPUS.is_dir(), reason="the shared corpus is not beside this checkout")
def test_corpus_files_survive_the_round_trip() -> None:
    """Every parse result of a sample of real files is cacheable and comes back equal."""
    from iacscan.cache import decode_entry, encode_entry

    paths = sorted(CORPUS.rglob("*.tf"))[:80]
    assert paths
    for path in paths:
        blocks = parse_uncached(path, read_text(path))
        data = encode_entry(blocks, "n")
        assert data is not None, path
        assert decode_entry(data, "n") == blocks, path


def test_entries_unused_for_a_month_are_pruned_once_a_day(tmp_path: Path, tf_file: Path) -> None:
    import time

    from iacscan.cache import MAX_AGE, prune

    cache_dir = tmp_path / "cache"
    cache = DiskParseCache(cache_dir)
    load_file(tf_file, "main.tf", cache)
    kept = cache.entry_path(key_of(tf_file))
    old = kept.parent / ("0" * 64)
    old.write_bytes(b"an entry nobody used for long")
    stale_temp = kept.parent / ".tmp-abandoned"
    stale_temp.write_bytes(b"")
    now = time.time()
    os.utime(old, (now - MAX_AGE - 60, now - MAX_AGE - 60))
    os.utime(stale_temp, (now - 7200, now - 7200))
    assert prune(cache_dir, now) == 0  # pruned when the cache was opened: not again today
    os.utime(cache_dir / "last-prune", (now - 2 * 86400, now - 2 * 86400))
    assert prune(cache_dir, now) == 2
    assert kept.exists() and not old.exists() and not stale_temp.exists()


def test_a_hit_marks_the_entry_as_used(tmp_path: Path, tf_file: Path) -> None:
    cache_dir = tmp_path / "cache"
    load_file(tf_file, "main.tf", DiskParseCache(cache_dir))
    entry = DiskParseCache(cache_dir).entry_path(key_of(tf_file))
    os.utime(entry, (1_000_000, 1_000_000))
    load_file(tf_file, "main.tf", DiskParseCache(cache_dir))
    assert entry.stat().st_mtime > 1_000_000
