"""The one pause of Python's cyclic garbage collector that the library makes (process-wide).

A big import or a rebuild allocates millions of objects that live until it ends
(operations, aggregates, decoded events); the collector would walk them over and over to
find next to no garbage. Reference counting still frees memory meanwhile. The pause is
process-wide (``gc.disable()``): see docs/embedding.md.
"""

from __future__ import annotations

import gc
from collections.abc import Iterator
from contextlib import contextmanager


@contextmanager
def collector_paused() -> Iterator[None]:
    """Disable the cyclic garbage collector until the block ends, then restore it as it was
    (nested pauses, or a program that had turned it off itself, leave it off)."""
    enabled = gc.isenabled()
    gc.disable()
    try:
        yield
    finally:
        if enabled:
            gc.enable()
