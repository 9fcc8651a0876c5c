"""Parse many Terraform files in worker processes (``iacscan scan --jobs N``).

``preparse`` fills the loader's parse cache (keyed by file content) before the modules are
read; the loader then finds every file already parsed. Files that fail are left to the
serial path, which reports them. Any problem with the pool falls back to serial parsing.

With the on-disk parse cache (``iacscan.cache.DiskParseCache``) each worker writes the
entries of the files it parsed itself, so encoding and writing entries (which costs more
than ``hcl_fast`` parsing) is spread over the workers too; the parent only keeps the
blocks in memory.
"""
from __future__ import annotations

import os
from concurrent.futures import ProcessPoolExecutor
from pathlib import Path
from typing import Any

from iacscan.parsers.tf_files import Block, ParseCache, parse_uncached, read_text, text_key
from iacscan.parsers.tf_module import tf_files

#: Below this much unique text the pool costs more than it saves (hcl_fast reads ~1.5 MB/s).
MIN_BYTES = 400_000

Key = tuple[bool, bytes]
_WORKER_CACHE: Any = None


def default_jobs() -> int:
    """The number of worker processes when ``--jobs`` is not given: the number of cores."""
    try:
        return max(1, len(os.sched_getaffinity(0)))
    except (AttributeError, OSError):
        return max(1, os.cpu_count() or 1)


def preparse(directories: list[Path], cache: ParseCache, jobs: int | None = None) -> None:
    """Parse the Terraform files of ``directories`` in ``jobs`` processes into ``cache`` when
    worth it (``jobs`` None: one per core; 1: never)."""
    workers = default_jobs() if jobs is None else jobs
    if workers < 2:
        return
    todo: dict[Key, Path] = {}
    size = 0
    for directory in directories:
        for path in tf_files(directory):
            try:
                key = text_key(path, read_text(path))
            except (OSError, ValueError):  # unreadable, not UTF-8, over the size limit: the serial path reports it
                continue
            if key not in todo and key not in cache:
                todo[key] = path
                size += path.stat().st_size
    if size < MIN_BYTES or len(todo) < 2:
        return
    _run(todo, cache, min(workers, len(todo)))


def _disk_dir(cache: ParseCache) -> str | None:
    """The directory of an on-disk parse cache that workers may write to, else None."""
    from iacscan.cache import DiskParseCache

    if isinstance(cache, DiskParseCache) and cache.usable:
        return str(cache.directory)
    return None


def _run(todo: dict[Key, Path], cache: ParseCache, workers: int) -> None:
    paths = sorted(todo.values(), key=lambda p: -p.stat().st_size)  # big files first
    disk = _disk_dir(cache)
    chunk = max(1, min(64, len(paths) // (workers * 8)))
    try:
        with ProcessPoolExecutor(max_workers=workers, initializer=_init_worker, initargs=(disk,)) as pool:
            for key, blocks, stored in pool.map(_parse_one, paths, chunksize=chunk):
                if key is None or blocks is None:
                    continue
                if stored:
                    dict.__setitem__(cache, key, blocks)  # the worker wrote the disk entry already
                else:
                    cache[key] = blocks
    except Exception:  # noqa: BLE001 - no pool (sandbox, pickling): the serial path parses
        return


def _init_worker(disk: str | None) -> None:
    global _WORKER_CACHE
    if disk is not None:
        from iacscan.cache import DiskParseCache

        _WORKER_CACHE = DiskParseCache(Path(disk))


def _parse_one(path: Path) -> tuple[Key | None, list[Block] | None, bool]:
    try:
        text = read_text(path)
        key = text_key(path, text)
        blocks = parse_uncached(path, text)
    except Exception:  # noqa: BLE001 - reported by the serial path
        return None, None, False
    if _WORKER_CACHE is None:
        return key, blocks, False
    try:
        _WORKER_CACHE[key] = blocks  # writes the disk entry
        dict.clear(_WORKER_CACHE)  # the parent keeps the blocks in memory, not the worker
    except Exception:  # noqa: BLE001 - a cache problem is only a miss next time
        return key, blocks, False
    return key, blocks, True
