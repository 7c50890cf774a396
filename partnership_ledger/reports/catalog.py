"""Keeping the message catalogs: extract the messages, update the ``.po``, compile the ``.mo``.

    python -m partnership_ledger.reports.catalog update    # new messages into ja/messages.po
    python -m partnership_ledger.reports.catalog compile   # ja/messages.po -> messages.mo
    python -m partnership_ledger.reports.catalog check     # exit 1 if a message lacks Japanese

Messages are found in this package's Python modules (``_``, ``N_``, ``gettext``,
``ngettext``, ``n_``) and templates (``_()`` of ``jinja2.ext.i18n``).
"""

from __future__ import annotations

import io
import sys
from pathlib import Path

from babel.messages.catalog import Catalog
from babel.messages.extract import DEFAULT_KEYWORDS, extract_from_dir
from babel.messages.mofile import write_mo
from babel.messages.pofile import read_po, write_po

from .i18n import DOMAIN, LANGUAGES

PACKAGE = Path(__file__).resolve().parent
METHODS = [
    ("**/templates/**.j2", "jinja2.ext:babel_extract"),
    ("**.py", "python"),
]
OPTIONS = {"**/templates/**.j2": {"extensions": "jinja2.ext.i18n", "trim_blocks": "true", "lstrip_blocks": "true"}}
KEYWORDS = {**DEFAULT_KEYWORDS, "n_": (1, 2)}


def po_path(language: str) -> Path:
    return PACKAGE / "locales" / language / "LC_MESSAGES" / f"{DOMAIN}.po"


def extract() -> Catalog:
    """Every message the report uses, from the sources."""
    catalog = Catalog(project="partnership-ledger", domain=DOMAIN, charset="utf-8")
    for filename, lineno, message, comments, context in extract_from_dir(
        str(PACKAGE), METHODS, OPTIONS, keywords=KEYWORDS, strip_comment_tags=True
    ):
        catalog.add(message, None, [(filename, lineno)], auto_comments=comments, context=context)
    return catalog


def read(language: str) -> Catalog:
    with open(po_path(language), "rb") as f:
        return read_po(f, locale=language, domain=DOMAIN)


def missing(language: str) -> list[str]:
    """Messages the sources use that ``language``'s .po does not translate (or marks fuzzy)."""
    po = read(language)
    out = []
    for message in extract():
        if not message.id:
            continue
        found = po.get(message.id, context=message.context)
        translated = (
            found is not None
            and not found.fuzzy
            and (all(found.string) if isinstance(found.string, (list, tuple)) else bool(found.string))
        )
        if not translated:
            out.append(message.id if isinstance(message.id, str) else message.id[0])
    return out


def compiled(language: str) -> bytes:
    """The .mo bytes of ``language``'s .po (what ``compile`` writes)."""
    buffer = io.BytesIO()
    write_mo(buffer, read(language), use_fuzzy=False)
    return buffer.getvalue()


def update(language: str) -> None:
    """Add new messages to the .po (untranslated), drop ones no longer used."""
    template = extract()
    path = po_path(language)
    if path.exists():
        po = read(language)
        po.update(template, no_fuzzy_matching=True)
    else:
        path.parent.mkdir(parents=True, exist_ok=True)
        po = Catalog(locale=language, domain=DOMAIN, project="partnership-ledger", charset="utf-8")
        po.update(template, no_fuzzy_matching=True)
    with open(path, "wb") as f:
        write_po(f, po, width=100, omit_header=False, ignore_obsolete=True, sort_output=False, include_lineno=False)


def main(argv: list[str] | None = None) -> int:
    args = sys.argv[1:] if argv is None else argv
    command = args[0] if args else "check"
    languages = [x for x in LANGUAGES if x != "en"]
    if command == "update":
        for lang in languages:
            update(lang)
    elif command == "compile":
        for lang in languages:
            po_path(lang).with_suffix(".mo").write_bytes(compiled(lang))
    elif command == "check":
        problems = [(lang, m) for lang in languages for m in missing(lang)]
        for lang, m in problems:
            print(f"{lang}: no translation for {m!r}", file=sys.stderr)
        return 1 if problems else 0
    else:
        print("usage: python -m partnership_ledger.reports.catalog update|compile|check", file=sys.stderr)
        return 2
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
