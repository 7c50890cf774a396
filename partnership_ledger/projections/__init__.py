"""Read models materialized from the events, in the ledger's own database.

Each read model is fed the events in notification order; a tracking row records the last
position applied, written in the same transaction as the read models, so every event is
applied exactly once, after a crash, a restart or writes by another process.
"""

from .runner import Projections, ReadModel

__all__ = ["Projections", "ReadModel"]
