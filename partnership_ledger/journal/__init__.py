"""The journal format: reading, checking and writing journals of operations (see docs/journal.md).

A journal is a JSON array, or JSON Lines, of operations applied in order. The package is
split by job: :mod:`.fields` parses each kind of field value, :mod:`.operations` is the table
of ops and their fields, :mod:`.ids` gives each operation its id, :mod:`.readers` reads
journals one operation at a time, :mod:`.writers` writes them back out. The names other
code uses are all importable from here.
"""

from __future__ import annotations

from .fields import (
    CHANGES,
    ENUM_CHOICES,
    FieldError,
    a_date,
    changes,
    enum_of,
    key,
    period_value,
    votes,
)
from .ids import Validator, op_fingerprint
from .operations import COMMON, KEY_FIELDS, OPS, OPT, REQ, Operation, check, keys_named
from .readers import (
    check_journal,
    iter_raw,
    json_message,
    parse_journal,
    parse_operations,
    read_raw,
)
from .writers import dump_operation, to_json_value

__all__ = [
    "CHANGES",
    "COMMON",
    "ENUM_CHOICES",
    "KEY_FIELDS",
    "OPS",
    "OPT",
    "REQ",
    "FieldError",
    "Operation",
    "Validator",
    "a_date",
    "changes",
    "check",
    "check_journal",
    "dump_operation",
    "enum_of",
    "iter_raw",
    "json_message",
    "key",
    "keys_named",
    "op_fingerprint",
    "parse_journal",
    "parse_operations",
    "period_value",
    "read_raw",
    "to_json_value",
    "votes",
]
