"""Tamper evidence: the hash chain over stored events, its verification, and checkpoints.

``chain`` makes the one encoding every link hashes (recorders and ``verify`` alike),
``verify`` walks the chain and names the first bad position, ``checkpoint`` signs and checks
``{size, position, root}`` so that a truncated or replaced tail is caught too.
"""

from .chain import GENESIS, canonical_record, chain_head, chain_links, link_hash
from .checkpoint import (
    CHECKPOINT_FORMAT,
    checkpoint_trust,
    generate_keypair,
    make_checkpoint,
    read_checkpoint,
    verify_checkpoint,
)
from .verify import VerifyResult, foreign_row, verify_chain

__all__ = [
    "CHECKPOINT_FORMAT",
    "GENESIS",
    "VerifyResult",
    "canonical_record",
    "chain_head",
    "chain_links",
    "checkpoint_trust",
    "foreign_row",
    "generate_keypair",
    "link_hash",
    "make_checkpoint",
    "read_checkpoint",
    "verify_chain",
    "verify_checkpoint",
]
