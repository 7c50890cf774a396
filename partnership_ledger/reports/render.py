"""Renderers of the report: JSON (the model itself), HTML and Markdown (Jinja2 templates).

The templates only lay out the view that :mod:`.present` made (no arithmetic); every value
from the ledger is escaped for the output format:

- HTML: Jinja2 autoescaping, with each value in a sentence isolated in ``<bdi>`` so that
  right-to-left text cannot reorder what surrounds it;
- Markdown: every ASCII character that Markdown or HTML would read as syntax is
  backslash-escaped, line breaks become spaces, and each value is wrapped in Unicode
  directional isolates (U+2068 … U+2069).
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

FORMATS = ("html", "md", "json")
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


# Every value starts with an isolate character (never at the start of a line), so only the
# characters that are syntax in the middle of a line need escaping.
_MD_SPECIAL = re.compile(r"([\\`*_{}\[\]<>#|~&$:])")
_MD_SPACE = re.compile(r"[\r\n\t\v\f\u2028\u2029]+")


def md_escape(value: Any) -> str:
    """``value`` as Markdown text that renders literally, on one line."""
    if isinstance(value, MarkdownSafe):
        return value
    text = _MD_SPACE.sub(" ", "" if value is None else str(value))
    text = _MD_SPECIAL.sub(r"\\\1", text)
    # "www." would become a link (GitHub's autolinks).
    return MarkdownSafe(text.replace("www.", "www\\."))


def md_isolate(value: Any) -> MarkdownSafe:
    return MarkdownSafe(FSI + md_escape(value) + PDI)


def md_say(sentence: Sentence) -> MarkdownSafe:
    return MarkdownSafe(
        "".join(md_isolate(text) if is_value else md_escape(text) for text, is_value in sentence_parts(sentence))
    )


def md_cell(value: Any) -> MarkdownSafe:
    text = md_escape(value)
    return MarkdownSafe(FSI + text + PDI if text.strip() else " ")


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


def html_say(sentence: Sentence) -> Markup:
    """A sentence with each value escaped and isolated in ``<bdi>``."""
    return Markup("").join(
        Markup("<bdi>%s</bdi>") % text if is_value else escape(text) for text, is_value in sentence_parts(sentence)
    )


def text_say(sentence: Sentence) -> Markup:
    """A sentence for a place that takes no markup (``<title>``): values isolated by FSI/PDI."""
    return Markup("").join(
        escape(FSI + text + PDI if is_value else text) for text, is_value in sentence_parts(sentence)
    )


def bidi(value: Any) -> Markup:
    return Markup("<bdi>") + escape(value) + Markup("</bdi>")


# -- environments ------------------------------------------------------------------------------


@cache
def environment(kind: str, language: Language) -> Environment:
    """The Jinja2 environment of an output ``kind`` (``html`` or ``md``) in ``language``."""
    if kind == "html":
        env = Environment(
            loader=PackageLoader("partnership_ledger.reports", "templates"),
            autoescape=True,
            undefined=StrictUndefined,
            extensions=["jinja2.ext.i18n"],
            trim_blocks=True,
            lstrip_blocks=True,
        )
        env.filters.update(say=html_say, say_text=text_say, bidi=bidi)
    else:
        env = Environment(
            loader=PackageLoader("partnership_ledger.reports", "templates"),
            autoescape=False,
            undefined=StrictUndefined,
            extensions=["jinja2.ext.i18n"],
            finalize=md_finalize,
            keep_trailing_newline=True,  # a table must end with a blank line
            trim_blocks=True,
            lstrip_blocks=True,
        )
        env.filters.update(say=md_say, cell=md_cell, isolate=md_isolate, safe_code=md_code, json_code=md_json_code)
    env.install_gettext_translations(translations(language), newstyle=True)  # type: ignore[attr-defined]
    env.globals["csp"] = CONTENT_SECURITY_POLICY
    return env


NO_LINKS: dict[str, Any] = {"index": None, "other": None, "json": None, "parent": None, "children": {}}


def render_html(
    model: Mapping[str, Any], language: Language | None = None, *, links: Mapping[str, Any] | None = None
) -> str:
    """The report as one self-contained HTML page (inline CSS and SVG, no script)."""
    lang = check_language(language or model["language"])
    view = present(model, lang, with_charts=True)
    return environment("html", lang).get_template("report.html.j2").render(v=view, links={**NO_LINKS, **(links or {})})


def render_markdown(
    model: Mapping[str, Any], language: Language | None = None, *, links: Mapping[str, Any] | None = None
) -> str:
    """The report as Markdown (GitHub-flavoured tables; the charts' data as tables)."""
    lang = check_language(language or model["language"])
    view = present(model, lang, with_charts=False)
    return environment("md", lang).get_template("report.md.j2").render(v=view, links={**NO_LINKS, **(links or {})})


def render_report(model: Mapping[str, Any], fmt: str = "html", language: str | None = None) -> str:
    """The report in ``fmt`` (``html``, ``md`` or ``json``) and ``language`` (``ja``/``en``;
    by default Japanese for a ledger in yen, otherwise English; JSON has no language)."""
    lang = check_language(language) if language is not None else None
    if fmt == "json":
        return render_json(model)
    if fmt == "html":
        return render_html(model, lang)
    if fmt in ("md", "markdown"):
        return render_markdown(model, lang)
    from ..errors import InvalidArgument

    raise InvalidArgument(f"the report format must be html, md or json, not {fmt!r}")
