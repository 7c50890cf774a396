"""Reading journals: a JSON array or JSON Lines, one raw operation at a time, from a file or memory.

A journal is read a chunk at a time and each operation is handed on as soon as it is decoded,
so that a journal of any size is never all in memory. The values are ``json``'s own, with
two marks for what the journal refuses but must name (:class:`~.fields.JsonNumber`,
:class:`~.fields.DuplicateKeys`); a text that is not JSON is
refused in ``json.loads``'s own words, at the line and column of the whole journal.
"""

from __future__ import annotations

import codecs
import io
import json
import re
from collections.abc import Iterable, Iterator
from pathlib import Path
from typing import Any, BinaryIO, NoReturn

from ..errors import JournalError, JournalProblem, StorageError
from .fields import MAX_DIGITS, DuplicateKeys, JsonNumber
from .ids import Validator
from .operations import Operation

#: Bytes (or characters) read at a time.
CHUNK = 1 << 20
#: JSON's own whitespace (json skips only these between values).
_JSON_WS = re.compile(r"[ \t\n\r]*")
#: How near the end of the text read so far a syntax error may be only the text breaking off.
_NEAR_END = 16


def _pairs(pairs: list[tuple[str, Any]]) -> dict[str, Any]:
    """An object, marked as :class:`DuplicateKeys` if a name appears in it twice."""
    made = dict(pairs)
    if len(made) == len(pairs):
        return made
    marked = DuplicateKeys(made)
    marked.duplicates = []
    seen: set[str] = set()
    for k, _ in pairs:
        if k in seen:
            marked.duplicates.append(k)
        seen.add(k)
    return marked


_DECODER = json.JSONDecoder(object_pairs_hook=_pairs, parse_float=JsonNumber, parse_constant=JsonNumber)


def loads(text: str) -> Any:
    """One JSON value, with floats, NaN/Infinity and names given twice marked, as ``json.loads``
    reads it (which refuses a byte order mark, then decodes as :data:`_DECODER` does)."""
    return json.loads(text) if text.startswith("\ufeff") else _DECODER.decode(text)


def json_message(e: json.JSONDecodeError) -> str:
    """``json``'s message as a whole sentence: some end with "at", the position being apart
    ("Unterminated string starting at"); the caller names the position."""
    msg = e.msg
    return msg[: -len(" at")] + " there" if msg.endswith(" at") else msg


def unreadable(e: RecursionError | ValueError) -> str:
    """What is wrong with a value nested too deeply or a number ``json`` could not convert,
    without Python's own advice (``sys.set_int_max_str_digits()``), no help to whoever wrote it."""
    if isinstance(e, RecursionError):
        return "is nested too deeply to be a journal"
    if "digits" in str(e):
        return f"has a number with far more digits than a journal allows (at most {MAX_DIGITS})"
    return f"has a number that cannot be read: {e}"


# -- the text -----------------------------------------------------------------------------


def _undecodable(value: Any) -> bool:
    """Whether a value read with ``surrogateescape`` holds bytes that were not UTF-8."""
    if isinstance(value, str):
        return any("\udc80" <= c <= "\udcff" for c in value)
    if isinstance(value, dict):
        return any(_undecodable(k) or _undecodable(v) for k, v in value.items())
    if isinstance(value, list):
        return any(_undecodable(v) for v in value)
    return False


class _Reader:
    """A journal being read: its text a piece at a time, without its byte order mark; the text
    read but not yet consumed (``buf``), and where that starts in the journal.

    Bytes that are not UTF-8 are kept as lone surrogates (``surrogateescape``), and the offset
    of the first in :attr:`bad_byte`: the reader names the operation they are in.
    """

    def __init__(self, data: BinaryIO | str, source: str | None, chunk_size: int) -> None:
        self.source = source
        self.chunk_size = chunk_size  # read at a time; text consumed beyond this is forgotten
        self._data = data
        self._decoder = codecs.getincrementaldecoder("utf-8")()
        self._fed = 0  # bytes (or characters of a text) read so far
        self._first = True
        self._done = False
        self.bad_byte: int | None = None
        self.buf = ""
        self.line = 1  # line and column of buf[0]
        self.column = 1

    def read(self) -> str:
        """The next piece of text; "" once there is no more."""
        while not self._done:
            piece = self._next()
            if self._first and piece:
                piece = piece.removeprefix("\ufeff")
                self._first = False
            if piece:
                return piece
        return ""

    def _next(self) -> str:
        if isinstance(self._data, str):  # a journal given as text (io.StringIO would copy it, 4 bytes a character)
            piece = self._data[self._fed : self._fed + self.chunk_size]
            self._fed += len(piece)
            self._done = not piece
            return piece
        try:
            data = self._data.read(self.chunk_size)
        except OSError as e:
            raise StorageError(f"cannot read {self.source or 'the journal'}: {e.strerror or e}") from None
        final = not data
        pending = len(self._decoder.getstate()[0])  # bytes of a character cut by the last read
        try:
            piece = self._decoder.decode(data, final)
        except UnicodeDecodeError as e:
            self.bad_byte = self._fed - pending + e.start
            state = self._decoder.getstate()
            self._decoder = codecs.getincrementaldecoder("utf-8")("surrogateescape")
            self._decoder.setstate(state)
            piece = self._decoder.decode(data, final)
        self._fed += len(data)
        self._done = final
        return piece

    def more(self, at_least: int = 0) -> bool:
        """Read on into ``buf`` (``at_least`` more characters if there are); False if nothing was left."""
        pieces = [self.buf]
        got = 0
        while True:
            piece = self.read()
            pieces.append(piece)
            got += len(piece)
            if not piece or got >= at_least:
                break
        self.buf = "".join(pieces)
        return got > 0

    def _at(self, pos: int) -> tuple[int, int]:
        """The line and column of ``buf[pos]`` in the journal."""
        newlines = self.buf.count("\n", 0, pos)
        if newlines:
            return self.line + newlines, pos - self.buf.rfind("\n", 0, pos)
        return self.line, self.column + pos

    def drop(self, pos: int) -> None:
        """Forget the text before ``pos``."""
        self.line, self.column = self._at(pos)
        self.buf = self.buf[pos:]

    def where(self, pos: int) -> str:
        line, column = self._at(pos)
        return f"line {line}, column {column}"

    def check_bytes(self, value: Any, index: int) -> None:
        """Refuse a value that holds bytes that are not UTF-8, naming its operation and field."""
        if self.bad_byte is None or not _undecodable(value):
            return
        message = f"is not valid UTF-8 (byte {self.bad_byte})"
        if not isinstance(value, dict):
            self.refuse(message, index, "encoding")
        op = value.get("op")
        name = op if isinstance(op, str) and not _undecodable(op) else None
        field = next((k for k, v in value.items() if _undecodable(k) or _undecodable(v)), None)
        if field is not None and _undecodable(field):
            field = None
        raise JournalError([JournalProblem(message, index, name, field, "encoding")], self.source)

    def fail(self, message: str, index: int | None = None) -> NoReturn:
        """Refuse the journal; but a journal that is not UTF-8 is refused as such first."""
        while self.bad_byte is None and self.read():
            pass  # read to the end (keeping nothing), to learn whether any byte is not UTF-8
        self.end()
        self.refuse(message, index)

    def end(self) -> None:
        """At the end of a journal read whole: one that is not UTF-8 is refused."""
        if self.bad_byte is not None:
            self.refuse(f"is not valid UTF-8 (byte {self.bad_byte})", rule="encoding")

    def refuse(self, message: str, index: int | None = None, rule: str = "json") -> NoReturn:
        raise JournalError([JournalProblem(message, index, rule=rule)], self.source)


# -- a JSON array -------------------------------------------------------------------------


def _skip(r: _Reader, pos: int) -> int:
    """The first position from ``pos`` on that is not JSON whitespace (``len(buf)`` at the end)."""
    while True:
        end = _JSON_WS.match(r.buf, pos).end()  # type: ignore[union-attr]  # "*" always matches
        if end < len(r.buf) or not r.more():
            return end
        pos = end


def _json_fault(r: _Reader, prefix: str, start: int, end: int) -> NoReturn:
    """Refuse the array in ``json.loads``'s words for the text from ``start`` to ``end`` (where
    it goes wrong), read after ``prefix`` (which puts the parser in the state it was in)."""
    try:
        json.loads(prefix + r.buf[start:end])
    except json.JSONDecodeError as e:
        pos = start + e.pos - len(prefix)
        r.fail(f"is not valid JSON at {r.where(pos)}: {json_message(e)}")
    r.fail(f"is not valid JSON at {r.where(end)}")  # pragma: no cover - the text is not JSON


def _value(r: _Reader, pos: int) -> tuple[Any, int]:
    """The JSON value at ``pos`` and where it ends, reading on while the text breaks off in it."""
    while True:
        try:
            value, end = _DECODER.raw_decode(r.buf, pos)
        except json.JSONDecodeError as e:
            cut = e.msg.startswith("Unterminated string") or e.pos >= len(r.buf) - _NEAR_END
            if cut and r.more(len(r.buf) - pos):
                continue
            r.fail(f"is not valid JSON at {r.where(e.pos)}: {json_message(e)}")
        except (RecursionError, ValueError) as e:  # e.g. an integer with more digits than Python converts
            r.fail(unreadable(e))
        # A number near the end of the text read so far may go on in the next piece ("1" of "1.5").
        if end >= len(r.buf) - _NEAR_END and r.more(max(len(r.buf) - pos, _NEAR_END)):
            continue
        return value, end


def _array(r: _Reader) -> Iterator[Any]:
    pos = _skip(r, 0)
    if r.buf[pos : pos + 1] != "[":  # whitespace that JSON does not allow before it
        _json_fault(r, "", 0, pos + 1)
    start = pos + 1
    pos = _skip(r, start)
    if pos == len(r.buf):
        _json_fault(r, "[", start, pos)
    index = 0
    if r.buf[pos] != "]":
        while True:
            if pos > r.chunk_size:
                r.drop(pos)
                pos = 0
            value, end = _value(r, pos)
            r.check_bytes(value, index)
            yield value
            index += 1
            pos = _skip(r, end)
            if pos == len(r.buf) or r.buf[pos] not in ",]":
                _json_fault(r, "[0", end, pos + 1)
            if r.buf[pos] == "]":
                break
            comma = pos
            pos = _skip(r, comma + 1)
            if pos == len(r.buf) or r.buf[pos] == "]":
                _json_fault(r, "[0,", comma + 1, pos + 1)
    close = pos
    pos = _skip(r, close + 1)
    if pos != len(r.buf):
        _json_fault(r, "[]", close + 1, pos + 1)
    r.end()


# -- JSON Lines ---------------------------------------------------------------------------


def _lines(r: _Reader) -> Iterator[Any]:
    """The values of JSON Lines: split at ``\\n`` only (a ``\\r`` before it is JSON whitespace;
    U+2028, NEL and the like are text inside a string, never a line break)."""
    index = 0
    lineno = 0
    parts: list[str] = []
    piece = r.buf
    while piece:
        *lines, last = piece.split("\n")
        if lines:
            lines[0] = "".join(parts) + lines[0]
            parts = []
        parts.append(last)
        for line in lines:
            lineno += 1
            if line.strip():
                yield _line(r, line, lineno, index)
                index += 1
        piece = r.read()
    final = "".join(parts)
    if final.strip():
        yield _line(r, final, lineno + 1, index)
    r.end()


def _line(r: _Reader, line: str, lineno: int, index: int) -> Any:
    try:
        value = loads(line)
    except json.JSONDecodeError as e:
        r.fail(f"line {lineno} is not valid JSON at column {e.pos + 1}: {json_message(e)}", index)
    except (RecursionError, ValueError) as e:
        r.fail(unreadable(e))
    r.check_bytes(value, index)
    return value


# -- journals -----------------------------------------------------------------------------


def _read(r: _Reader) -> Iterator[Any]:
    first = 0
    while True:  # the first character that is not whitespace says which kind of journal
        while first < len(r.buf) and r.buf[first].isspace():
            first += 1
        if first < len(r.buf) or not r.more():
            break
    if first == len(r.buf):
        r.end()
        r.refuse("is empty: a journal is a JSON array or JSON Lines", rule="shape")
    yield from _array(r) if r.buf[first] == "[" else _lines(r)


def _file(path: Path, source: str, chunk_size: int) -> Iterator[Any]:
    if path.is_dir():
        raise StorageError(f"cannot read {source}: it is a folder, not a file")
    try:
        stream = path.open("rb")
    except FileNotFoundError:
        raise StorageError(f"cannot read {source}: there is no such file") from None
    except OSError as e:
        raise StorageError(f"cannot read {source}: {e.strerror or e}") from None
    with stream:
        yield from _read(_Reader(stream, source, chunk_size))


def iter_raw(data: bytes | str | Path, source: str | None = None, *, chunk_size: int = CHUNK) -> Iterator[Any]:
    """The raw operations of a journal (a file, its bytes or its text), one at a time.

    The journal is read ``chunk_size`` bytes at a time and never held whole. A journal that
    is empty, not UTF-8 or not JSON raises :class:`JournalError` when reading reaches the
    fault (the operations before it have been handed on); a file that cannot be read,
    :class:`StorageError`.
    """
    if isinstance(data, Path):
        return _file(data, source or str(data), chunk_size)
    return _read(_Reader(io.BytesIO(data) if isinstance(data, bytes) else data, source, chunk_size))


def read_raw(data: bytes | str | Path, source: str | None = None) -> list[Any]:
    """The raw operations of a journal, all at once (see :func:`iter_raw`)."""
    return list(iter_raw(data, source))


def _validated(raws: Iterable[Any], source: str | None) -> Iterator[Operation]:
    """Each valid operation as it is read; at the end, the :class:`JournalError` listing every
    problem, if there is one."""
    validator = Validator()
    yield from (op for op in map(validator.add, raws) if op is not None)
    error = validator.error(source)
    if error is not None:
        raise error


def parse_operations(raws: Iterable[Any], source: str | None = None) -> list[Operation]:
    """Validate raw operations; raise :class:`JournalError` listing every problem."""
    return list(_validated(raws, source))


def parse_journal(data: bytes | str | Path, source: str | None = None) -> list[Operation]:
    """Read and validate a whole journal (JSON array or JSON Lines)."""
    return parse_operations(iter_raw(data, source), source)


def check_journal(data: bytes | str | Path, source: str | None = None) -> int:
    """Check every operation of a journal, keeping none of them; how many there are.

    Raises the :class:`JournalError` that lists every problem, as :func:`parse_journal` does.
    """
    return sum(1 for _op in _validated(iter_raw(data, source), source))
