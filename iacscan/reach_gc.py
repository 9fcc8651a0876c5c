"""Pausing Python's cyclic garbage collector while large indexes are built.

Building the graph and reachability indexes of a large estate allocates hundreds of
thousands of small objects that all survive. With the collector running, every young
collection walks them again, and the full collections they trigger walk the whole heap
(the estate included), for nothing: the build makes no garbage cycles. Reference
counting still frees everything as usual while the collector is paused.

When the block ends, the survivors are moved to the oldest generation (``gc.freeze()``
then ``gc.unfreeze()``, which the documentation describes as putting frozen objects
back into the oldest generation): they are long-lived like the estate, and this keeps
them from being walked by the next young collections and from counting towards a full
collection. They stay collectable; nothing is frozen when the block returns. This is
skipped when the program froze objects itself (its frozen set is left alone).
"""
from __future__ import annotations

import gc
from collections.abc import Iterator
from contextlib import contextmanager


@contextmanager
def gc_paused() -> Iterator[None]:
    """Disable the cyclic collector for the block, then age what the block built (above)
    and restore the collector's previous state. Nested blocks leave it to the outermost."""
    was_enabled = gc.isenabled()
    gc.disable()
    try:
        yield
    finally:
        if was_enabled:
            if gc.get_freeze_count() == 0:
                gc.freeze()
                gc.unfreeze()
            gc.enable()
