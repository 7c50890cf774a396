"""A report's view in pieces: a translated :class:`Sentence` with its values, and a :class:`Table`."""

from __future__ import annotations

import re
from collections.abc import Mapping, Sequence

import attrs


@attrs.frozen
class Sentence:
    """A translated sentence with ``%(name)s`` placeholders and the values to put in them.

    Renderers escape the text and each value for their format (and isolate each value's
    writing direction), so ledger data can never become markup.
    """

    text: str
    args: Mapping[str, str] = attrs.field(factory=dict)

    def plain(self) -> str:
        return self.text % dict(self.args) if self.args else self.text


@attrs.frozen
class Table:
    """A table: caption, column headers, rows of cells (first cell heads its row)."""

    caption: str
    head: Sequence[str]
    rows: Sequence[Sequence[str]]
    numeric: Sequence[bool] = ()
    foot: Sequence[str] | None = None


def sentence_parts(sentence: Sentence) -> list[tuple[str, bool]]:
    """``sentence`` as (text, is_value) pieces, for renderers that escape each piece."""
    parts: list[tuple[str, bool]] = []
    pos = 0
    for m in re.finditer(r"%\((\w+)\)s|%%", sentence.text):
        parts.append((sentence.text[pos : m.start()], False))
        if m.group(0) == "%%":
            parts.append(("%", False))
        else:
            parts.append((sentence.args.get(m.group(1), ""), True))
        pos = m.end()
    parts.append((sentence.text[pos:], False))
    return [(text, is_value) for text, is_value in parts if text]
