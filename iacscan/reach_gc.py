"""Pausing Python's cyclic garbage collector while large indexes are built.

Building the graph and reachability indexes of a large estate allocates hundreds of
thousands of small objects that all survive; every young collection promotes them and
the full collections they trigger walk the whole heap (the estate included) again and
again, for nothing: the build makes no garbage cycles. Reference counting still frees
everything as usual while the collector is paused.
"""
from __future__ import annotations

import gc
from collections.abc import Iterator
from contextlib import contextmanager


@contextmanager
def gc_paused() -> Iterator[None]:
    """Disable the cyclic collector for the block, restoring its previous state after."""
    was_enabled = gc.isenabled()
    gc.disable()
    try:
        yield
    finally:
        if was_enabled:
            gc.enable()
