"""Pausing Python's cyclic garbage collector while a scan builds what it keeps.

A scan allocates millions of small objects that mostly survive until it ends (parsed
blocks, evaluated instances, the model, the graph and reachability indexes). With the
collector running, every young collection walks them again and the full collections they
trigger walk the whole heap, for nothing: measured on the synthetic L estate
(``docs/performance.md``) the collector took 4-8 s of CPU of a scan, a third of it. Reference
counting still frees everything as usual while the collector is paused; only garbage
*cycles* wait (the Terraform evaluator's scopes: about 100 MB on a cold scan of L, freed by
the first collection after the scan).

``iacscan.scan.scan`` pauses it for the whole scan; the graph, the reachability build and
the root cache pause it too, for callers that use them on their own.

When the outermost block ends, the survivors are moved to the oldest generation
(``gc.freeze()`` then ``gc.unfreeze()``, which the documentation describes as putting frozen
objects back into the oldest generation): they are long-lived, and this keeps them from
being walked by the next young collections and from counting towards a full collection.
They stay collectable; nothing is frozen when the block returns. This is skipped when the
program froze objects itself (its frozen set is left alone).
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
