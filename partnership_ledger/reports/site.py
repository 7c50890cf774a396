"""A small static site: every partnership's report, in Japanese and English, with an index.

``write_site(ledger, folder)`` writes::

    index.html              the entrance, in both languages
    ja/index.html           every partnership: purpose, parties, headline indicators, targets
    ja/check.html           how to check the reports (signature, root hash, verify)
    ja/<page>.html          each partnership's report (and the same under en/)
    ja/<page>.all.html      for a partnership with sub-partnerships: the combined view
    data/<page>.json        each report's data (the JSON format)
    checkpoint.json         the integrity checkpoint every report was made from (signed
                            when a key is given)

``<page>`` is the partnership's key when it is made of lower-case letters, digits and "-"
only and is not a name the site uses itself (``index``, ``check``); otherwise the key
made safe (lower case, other characters as "-") followed by "-" and 8 hex digits of the
key's SHA-256, so that ``Index``, ``index`` and ``INDEX`` get three different files even on
a file system that ignores case. See :func:`page_name`.

Every page is self-contained and links only to its neighbours by relative paths, so the
folder can be copied as it is to any web server (or opened from disk).
"""

from __future__ import annotations

import hashlib
import json
import os
import re
from collections.abc import Mapping, Sequence
from datetime import UTC, datetime
from pathlib import Path
from typing import TYPE_CHECKING, Any

from .formatting import Formatter
from .i18n import LANGUAGES, N_, Language, translations
from .model import build_report, integrity_section
from .present import Sentence, present_card
from .render import environment, render_json, render_report

if TYPE_CHECKING:
    from ..application import PartnershipLedger

LANGUAGE_NAMES: dict[Language, str] = {"ja": "日本語", "en": "English"}


#: Page names the site uses for itself.
RESERVED_PAGES = frozenset({"index", "check"})
_PLAIN_KEY = re.compile(r"[a-z0-9][a-z0-9-]{0,79}\Z")


def page_name(key: str) -> str:
    """The file name (without extension) of a partnership's page: the key itself when it is
    lower-case letters, digits and "-" and not reserved (``puppet-tour``); otherwise a safe
    form of it with 8 hex digits of its SHA-256 (``index-1a2b3c4d``, ``th-lsp-0f…`` for
    ``TH-LSP``), so no key overwrites the index and no two keys differing only in case
    share a file."""
    if _PLAIN_KEY.match(key) and key not in RESERVED_PAGES:
        return key
    safe = re.sub(r"[^a-z0-9]+", "-", key.lower()).strip("-")[:60] or "p"
    return f"{safe}-{hashlib.sha256(key.encode('utf-8')).hexdigest()[:8]}"


def _ordered(models: Mapping[str, Mapping[str, Any]]) -> list[str]:
    """Partnerships with each one's sub-partnerships right after it."""
    kids: dict[str | None, list[str]] = {}
    for key, m in models.items():
        parent = m["partnership"]["parent"]
        kids.setdefault(parent["key"] if parent and parent["key"] in models else None, []).append(key)
    out: list[str] = []

    def walk(parent: str | None) -> None:
        for key in sorted(kids.get(parent, [])):
            out.append(key)
            walk(key)

    walk(None)
    return out


def _write(path: Path, text: str) -> None:
    tmp = path.with_name(path.name + ".tmp")
    tmp.write_text(text, encoding="utf-8")
    os.replace(tmp, path)


def _made(lang: Language, integrity: Mapping[str, Any], made_at: datetime | None) -> Sentence:
    f = Formatter(lang)
    return Sentence(
        f.gettext("Made on %(date)s from the ledger as it stood then (%(size)s recorded events)."),
        {"date": f.date((made_at or datetime.now(UTC)).date()), "size": f.integer(integrity["size"])},
    )


def write_site(
    ledger: PartnershipLedger,
    folder: Path,
    *,
    languages: Sequence[Language] = LANGUAGES,
    verify: bool = False,
    made_at: datetime | None = None,
    key_pem: bytes | None = None,
    locale: str | None = None,
) -> Path:
    """Write the site for every partnership of ``ledger`` into ``folder``; return its index.

    ``key_pem``: an Ed25519 private key (PEM) to sign ``checkpoint.json`` with (the chain is
    then verified first). ``locale``: ``en-GB`` or ``en-US`` for the English pages rather
    than the default of each partnership's currency.
    """
    folder.mkdir(parents=True, exist_ok=True)
    integrity = integrity_section(ledger, verify, key_pem)
    keys = [p["key"] for p in ledger.partnerships()]
    models = {k: build_report(ledger, k, integrity=integrity, made_at=made_at) for k in keys}
    rollups = {
        k: build_report(ledger, k, integrity=integrity, made_at=made_at, include_children=True)
        for k in keys
        if models[k]["sub_partnerships"]
    }
    order = _ordered(models)
    names = {k: page_name(k) for k in order}
    if len(set(names.values())) != len(names):  # pragma: no cover - 32 bits of SHA-256
        raise ValueError("two partnerships' keys give the same page name")
    (folder / "data").mkdir(exist_ok=True)
    for key in order:
        _write(folder / "data" / f"{names[key]}.json", render_json(models[key]))
        if key in rollups:
            _write(folder / "data" / f"{names[key]}.all.json", render_json(rollups[key]))
    _write(folder / "checkpoint.json", json.dumps(integrity["checkpoint"], indent=2) + "\n")
    for lang in languages:
        (folder / lang).mkdir(exist_ok=True)
        others = [x for x in languages if x != lang]
        loc = locale if lang == "en" else None
        t = translations(lang).gettext
        for key in order:
            for rolled in (False, True) if key in rollups else (False,):
                m = rollups[key] if rolled else models[key]
                page = names[key] + (".all" if rolled else "")
                parent = m["partnership"]["parent"]
                links = {
                    "index": "index.html",
                    "check": "check.html",
                    "other": {
                        "href": f"../{others[0]}/{page}.html",
                        "lang": others[0],
                        "label": LANGUAGE_NAMES[others[0]],
                    }
                    if others
                    else None,
                    "json": f"../data/{page}.json",
                    "parent": f"{names[parent['key']]}.html" if parent and parent["key"] in models else None,
                    "children": {
                        s["key"]: f"{names[s['key']]}.html" for s in m["sub_partnerships"] if s["key"] in models
                    },
                    "rollup": (
                        {"href": f"{names[key]}.html", "label": t(N_("See this partnership's own figures only."))}
                        if rolled
                        else {
                            "href": f"{names[key]}.all.html",
                            "label": t(N_("See the combined view, with the sub-partnerships.")),
                        }
                    )
                    if key in rollups
                    else None,
                }
                _write(folder / lang / f"{page}.html", render_report(m, "html", lang, links=links, locale=loc))
        cards = [present_card(models[k], lang, loc) | {"href": f"{names[k]}.html"} for k in order]
        index = environment("html", lang).get_template("index.html.j2")
        other = (
            {"href": f"../{others[0]}/index.html", "lang": others[0], "label": LANGUAGE_NAMES[others[0]]}
            if others
            else None
        )
        _write(
            folder / lang / "index.html",
            index.render(
                lang=lang, cards=cards, other=other, integrity=integrity, made=_made(lang, integrity, made_at)
            ),
        )
        check = environment("html", lang).get_template("check.html.j2")
        _write(
            folder / lang / "check.html",
            check.render(
                lang=lang,
                integrity=integrity,
                checkpoint_json=json.dumps(integrity["checkpoint"], indent=2),
                other=(
                    {"href": f"../{others[0]}/check.html", "lang": others[0], "label": LANGUAGE_NAMES[others[0]]}
                    if others
                    else None
                ),
            ),
        )
    entrance = [
        {
            "lang": lang,
            "href": f"{lang}/index.html",
            "title": translations(lang).gettext("Partnership reports for residents"),
            "text": translations(lang).gettext(
                "What each partnership set out to do, who put in what, who had a say, and whether the targets were met."
            ),
            "name": LANGUAGE_NAMES[lang],
        }
        for lang in languages
    ]
    home = environment("html", languages[0]).get_template("home.html.j2")
    _write(folder / "index.html", home.render(entrance=entrance))
    return folder / "index.html"
