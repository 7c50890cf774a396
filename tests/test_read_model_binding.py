"""The runner registers sqlite3 adapters for None and bytes (a quicker path than sqlite3's
fallback, see projections/runner.py): what is bound must stay exactly what it was."""

from __future__ import annotations

import sqlite3

from partnership_ledger.projections import runner  # noqa: F401 - registers the adapters


class Text(str):
    pass


def test_none_and_bytes_bind_as_null_and_blob_and_other_types_as_before() -> None:
    assert (type(None), sqlite3.PrepareProtocol) in sqlite3.adapters
    assert (bytes, sqlite3.PrepareProtocol) in sqlite3.adapters
    con = sqlite3.connect(":memory:")
    con.execute("CREATE TABLE t (a, b, c, d, e, f, g)")
    blob = b"\x00\xffabc\x00"
    con.execute("INSERT INTO t VALUES (?,?,?,?,?,?,?)", (None, blob, b"", "x", 2**40, 1.5, bytearray(b"q")))
    con.executemany("INSERT INTO t VALUES (?,?,?,?,?,?,?)", [(None, None, blob, None, None, None, None)])
    rows = con.execute("SELECT typeof(a), a, typeof(b), b, typeof(c), c, d, e, f, g FROM t").fetchall()
    assert rows == [
        ("null", None, "blob", blob, "blob", b"", "x", 2**40, 1.5, b"q"),
        ("null", None, "null", None, "blob", blob, None, None, None, None),
    ]
    # A str subclass is still adapted as before (its text), not changed by the registration.
    con.execute("INSERT INTO t (a) VALUES (?)", (Text("sub"),))
    assert con.execute("SELECT a FROM t WHERE a = 'sub'").fetchone() == ("sub",)


def test_an_adapter_the_program_registered_first_is_left_in_place() -> None:
    import subprocess
    import sys

    code = (
        "import sqlite3\n"
        "def mine(b): return b'mine:' + b\n"
        "sqlite3.register_adapter(bytes, mine)\n"
        "import partnership_ledger.projections.runner\n"
        "assert sqlite3.adapters[(bytes, sqlite3.PrepareProtocol)] is mine\n"
        "assert (type(None), sqlite3.PrepareProtocol) in sqlite3.adapters\n"
        "con = sqlite3.connect(':memory:')\n"
        "print(con.execute('SELECT ?', (b'x',)).fetchone()[0])\n"
    )
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert out.stdout.strip() == "b'mine:x'"
