"""Renderers of the report: JSON (the model itself), HTML and Markdown (Jinja2 templates).

The templates only lay out the view that :mod:`.present` made (no arithmetic); every value
from the ledger is escaped for the output format:

- HTML: Jinja2 autoescaping, with each value in a sentence isolated in ``<bdi>`` so that
  right-to-left text cannot reorder what surrounds it; dates and amounts never break
  across lines;
- Markdown: plain text that pastes as it reads (``72,090,000円`` stays a number): only the
  characters that Markdown or HTML would read as syntax where they stand are
  backslash-escaped, line breaks become spaces, and a value is wrapped in Unicode
  directional isolates (U+2068 … U+2069) only when it holds right-to-left text.
"""

from __future__ import annotations

import enum
import json
import re
from collections.abc import Mapping
from datetime import date
from decimal import Decimal
from functools import cache
from typing import Any

from jinja2 import Environment, PackageLoader, StrictUndefined
from markupsafe import Markup, escape

from .i18n import Language, check_language, translations
from .present import Sentence, present, sentence_parts

FORMATS = ("html", "md", "json", "pdf")
#: The page may load nothing at all: no script, no image, no font, no frame, no form target.
CONTENT_SECURITY_POLICY = "default-src 'none'; style-src 'unsafe-inline'; base-uri 'none'; form-action 'none'"
FSI, PDI = "\u2068", "\u2069"


# -- JSON --------------------------------------------------------------------------------------


def _json_default(o: Any) -> Any:
    if isinstance(o, Decimal):
        return format(o, "f")
    if isinstance(o, date):
        return o.isoformat()
    if isinstance(o, enum.Enum):
        return o.value
    raise TypeError(f"{type(o).__name__} in a report model")


def render_json(model: Mapping[str, Any]) -> str:
    """The model as JSON: amounts and ratios as decimal strings, dates ISO."""
    return json.dumps(model, default=_json_default, ensure_ascii=False, indent=2) + "\n"


# -- Markdown escaping ----------------------------------------------------------------------------


class MarkdownSafe(str):
    """Markdown text already escaped (not escaped again on output)."""

    __slots__ = ()


# Syntax anywhere in a line: code, emphasis, links, raw HTML, strikethrough, table cells.
_MD_SPECIAL = re.compile(r"([\\`*\[\]<>~])")
# "_" only where it could open or close emphasis (not inside a word such as snake_case).
_MD_UNDERSCORE = re.compile(r"(?<![0-9A-Za-z])_|_(?![0-9A-Za-z])")
# "&" only where it would start an entity ("&amp;", "&#38;").
_MD_ENTITY = re.compile(r"&(?=#?\w+;)")
# What starts a block when it begins a line: heading, quote, list item, rule, setext line.
_MD_LINE_START = re.compile(r"\A(\s*|\s*\d+)((?<=\d)[.)]|(?<!\d)[#>+=-])")
# GitHub's autolinks: www., http://, e-mail addresses.
_MD_AUTOLINK = re.compile(r"(?i)(www)\.|(https?|ftp):(?=//)|@(?=[\w.-]+\.\w)")
_MD_SPACE = re.compile(r"[\r\n\t\v\f\u2028\u2029]+")
#: Right-to-left letters and explicit direction controls.
_RTL = re.compile(
    "[\u0590-\u08ff\ufb1d-\ufdff\ufe70-\ufeff\U00010800-\U00010fff\U0001e800-\U0001efff"
    "\u200f\u061c\u202a-\u202e\u2066-\u2069]"
)


def has_rtl(text: str) -> bool:
    """Whether ``text`` holds right-to-left letters or direction controls."""
    return _RTL.search(text) is not None


def _autolink(m: re.Match[str]) -> str:
    if m.group(1):
        return m.group(1) + "\\."
    if m.group(2):
        return m.group(2) + "\\:"
    return "\\@"


def md_escape(value: Any, *, line_start: bool = True, cell: bool = False) -> str:
    """``value`` as Markdown text that renders literally, on one line, escaping only what
    would be read as syntax (so that ``72,090,000円`` or ``Phase: active`` stay as they are):
    block markers only when the value may begin a line (``line_start``), "|" only in a
    table ``cell``."""
    if isinstance(value, MarkdownSafe):
        return value
    text = _MD_SPACE.sub(" ", "" if value is None else str(value))
    text = _MD_SPECIAL.sub(r"\\\1", text)
    if cell:
        text = text.replace("|", "\\|")
    text = _MD_UNDERSCORE.sub(r"\\_", text)
    text = _MD_ENTITY.sub(r"\\&", text)
    text = _MD_AUTOLINK.sub(_autolink, text)
    if line_start:
        text = _MD_LINE_START.sub(lambda m: m.group(1) + "\\" + m.group(2), text)
    return MarkdownSafe(text)


def md_isolate(value: Any, *, line_start: bool = True, cell: bool = False) -> MarkdownSafe:
    """A value, escaped; isolated by FSI/PDI only when it holds right-to-left text."""
    text = md_escape(value, line_start=line_start, cell=cell)
    return MarkdownSafe(FSI + text + PDI if has_rtl(text) else text)


def md_say(sentence: Sentence) -> MarkdownSafe:
    return MarkdownSafe(
        "".join(
            md_isolate(text, line_start=i == 0) if is_value else md_escape(text, line_start=i == 0)
            for i, (text, is_value) in enumerate(sentence_parts(sentence))
        )
    )


def md_cell(value: Any) -> MarkdownSafe:
    text = md_isolate(value, line_start=False, cell=True)
    return MarkdownSafe(text if text.strip() else " ")


_CODE_SAFE = re.compile(r"[A-Za-z0-9 ._/=-]*\Z")


def md_code(value: Any) -> MarkdownSafe:
    """Text for a code span or block: only ever program-made text (hashes, commands)."""
    text = str(value)
    if not _CODE_SAFE.match(text):
        raise ValueError(f"unexpected text in a Markdown code span: {text!r}")
    return MarkdownSafe(text)


def md_json_code(value: Mapping[str, Any]) -> MarkdownSafe:
    """A checkpoint (integers and hex strings) as JSON for a code block."""
    text = json.dumps(dict(value), ensure_ascii=True)
    if "`" in text or "\n" in text:
        raise ValueError("unexpected text in a Markdown code block")
    return MarkdownSafe(text)


def md_finalize(value: Any) -> Any:
    if isinstance(value, Sentence):
        return md_say(value)
    return md_escape(value)


# -- HTML escaping ------------------------------------------------------------------------------


def text_say(sentence: Sentence) -> Markup:
    """A sentence for a place that takes no markup (``<title>``): a value isolated by FSI/PDI
    only when it holds right-to-left text."""
    return Markup("").join(
        escape(FSI + text + PDI if is_value and has_rtl(text) else text) for text, is_value in sentence_parts(sentence)
    )


def bidi(value: Any) -> Markup:
    return Markup("<bdi>") + escape(value) + Markup("</bdi>")


#: A date, an amount, a share or a fiscal year: kept on one line.
_UNBREAKABLE = re.compile(
    r"\A(?:[-+−±–~約¥£$€]?\s?[\d,.]+\s?(?:%|円|万円|pt|ポイント)?"
    r"|\d{4}年\d{1,2}月(?:\d{1,2}日)?|\d{4}年度(?:（[^）]{2,6}年度）)?|\d{4}/\d{2}"
    r"|\d{1,2} [A-Z][a-z]+ \d{4}|[A-Z][a-z]+ \d{1,2}, \d{4}|[A-Z][a-z]+ \d{4})\Z"
)


def unbreakable(text: str) -> bool:
    return _UNBREAKABLE.match(text) is not None


def nowrap(value: Any) -> Markup:
    """A table cell's text; a date or an amount in a span that never breaks."""
    text = "" if value is None else str(value)
    if unbreakable(text):
        return Markup('<span class="nw">') + escape(text) + Markup("</span>")
    return escape(text)


def html_say_nowrap(sentence: Sentence) -> Markup:
    """A sentence with each value in ``<bdi>`` (dates and amounts that never break)."""
    return Markup("").join(
        (Markup('<bdi class="nw">%s</bdi>') if unbreakable(text) else Markup("<bdi>%s</bdi>")) % text
        if is_value
        else escape(text)
        for text, is_value in sentence_parts(sentence)
    )


# -- environments ------------------------------------------------------------------------------


@cache
def environment(kind: str, language: Language) -> Environment:
    """The Jinja2 environment of an output ``kind`` (``html`` or ``md``) in ``language``."""
    html = kind == "html"
    env = Environment(
        loader=PackageLoader("partnership_ledger.reports", "templates"),
        autoescape=html,
        undefined=StrictUndefined,
        extensions=["jinja2.ext.i18n"],
        finalize=None if html else md_finalize,
        keep_trailing_newline=not html,  # a Markdown table must end with a blank line
        trim_blocks=True,
        lstrip_blocks=True,
    )
    if html:
        env.filters.update(say=html_say_nowrap, say_text=text_say, bidi=bidi, nw=nowrap)
    else:
        env.filters.update(say=md_say, cell=md_cell, isolate=md_isolate, safe_code=md_code, json_code=md_json_code)
    env.install_gettext_translations(translations(language), newstyle=True)  # type: ignore[attr-defined]
    env.globals["csp"] = CONTENT_SECURITY_POLICY
    return env


NO_LINKS: dict[str, Any] = {
    "index": None,
    "other": None,
    "json": None,
    "parent": None,
    "children": {},
    "check": None,
    "rollup": None,
}


def render_report(
    model: Mapping[str, Any],
    fmt: str = "html",
    language: str | None = None,
    *,
    links: Mapping[str, Any] | None = None,
    locale: str | None = None,
) -> str:
    """The report in ``fmt`` and ``language`` (``ja``/``en``; by default Japanese for a ledger
    in yen, otherwise English; JSON has no language):

    - ``html``: one self-contained page (inline CSS and SVG, no script), for a phone, a
      desktop and print (A4);
    - ``md`` (or ``markdown``): GitHub-flavoured tables, the charts' data as tables;
    - ``json``: the model itself (:func:`render_json`).

    ``links`` are a site's links to other pages (see :mod:`.site`). For ``pdf`` (bytes, not
    text) see :func:`.pdf.render_pdf`."""
    lang = check_language(language) if language is not None else None
    if fmt == "json":
        return render_json(model)
    if fmt == "markdown":
        fmt = "md"
    if fmt in ("html", "md"):
        lang = check_language(lang or model["language"])
        view = present(model, lang, with_charts=fmt == "html", locale=locale)
        template = environment(fmt, lang).get_template(f"report.{fmt}.j2")
        return template.render(v=view, links={**NO_LINKS, **(links or {})})
    from ..errors import InvalidArgument

    if fmt == "pdf":
        raise InvalidArgument("a PDF is bytes: use partnership_ledger.reports.render_pdf")
    raise InvalidArgument(f"the report format must be html, md, json or pdf, not {fmt!r}")
