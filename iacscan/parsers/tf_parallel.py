"""Parse many Terraform files in worker processes (python-hcl2 parses ~13 µs/byte, so a big
repository spends nearly all its load time in the parser).

``preparse`` fills the loader's parse cache (keyed by file content) before the modules are
read; the loader then finds every file already parsed. Files that fail are left to the
serial path, which reports them. Any problem with the pool falls back to serial parsing.
"""
from __future__ import annotations

import os
from concurrent.futures import ProcessPoolExecutor
from pathlib import Path

from iacscan.parsers.tf_files import Block, ParseCache, parse_uncached, read_text, text_key
from iacscan.parsers.tf_module import tf_files

#: Below this much unique text the pool costs more than it saves.
MIN_BYTES = 400_000
MAX_WORKERS = 4


def preparse(directories: list[Path], cache: ParseCache) -> None:
    """Parse the Terraform files of ``directories`` in parallel into ``cache`` when worth it."""
    workers = min(MAX_WORKERS, os.cpu_count() or 1)
    if workers < 2:
        return
    todo: dict[tuple[bool, bytes], Path] = {}
    size = 0
    for directory in directories:
        for path in tf_files(directory):
            try:
                key = text_key(path, read_text(path))
            except (OSError, UnicodeError):
                continue
            if key not in cache and key not in todo:
                todo[key] = path
                size += path.stat().st_size
    if size < MIN_BYTES or len(todo) < 2:
        return
    _run(todo, cache, workers)


def _run(todo: dict[tuple[bool, bytes], Path], cache: ParseCache, workers: int) -> None:
    paths = sorted(todo.values(), key=lambda p: -p.stat().st_size)  # big files first
    try:
        with ProcessPoolExecutor(max_workers=workers) as pool:
            for key, blocks in pool.map(_parse_one, paths, chunksize=4):
                if key is not None and blocks is not None:
                    cache[key] = blocks
    except Exception:  # noqa: BLE001 - no pool (sandbox, pickling): the serial path parses
        return


def _parse_one(path: Path) -> tuple[tuple[bool, bytes] | None, list[Block] | None]:
    try:
        text = read_text(path)
        return text_key(path, text), parse_uncached(path, text)
    except Exception:  # noqa: BLE001 - reported by the serial path
        return None, None
