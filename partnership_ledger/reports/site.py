"""A small static site: every partnership's report, in Japanese and English, with an index.

``write_site(ledger, folder)`` writes::

    index.html            the entrance, in both languages
    ja/index.html         every partnership: purpose, parties, headline indicators, targets
    ja/<key>.html         each partnership's report (and the same under en/)
    data/<key>.json       each report's data (the JSON format)
    checkpoint.json       the integrity checkpoint every report was made from

Every page is self-contained and links only to its neighbours by relative paths, so the
folder can be copied as it is to any web server (or opened from disk).
"""

from __future__ import annotations

import json
import os
from collections.abc import Mapping, Sequence
from datetime import UTC, datetime
from pathlib import Path
from typing import TYPE_CHECKING, Any

from .formatting import Formatter
from .i18n import LANGUAGES, Language, translations
from .model import build_report, integrity_section
from .present import Sentence, present_card
from .render import environment, render_html, render_json

if TYPE_CHECKING:
    from ..application import PartnershipLedger

LANGUAGE_NAMES: dict[Language, str] = {"ja": "日本語", "en": "English"}


def page_name(key: str) -> str:
    """The file name of a partnership's page: its key (":" is not safe in a relative URL)."""
    return key.replace(":", "~")


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
        f.gettext("Made on %(date)s from the ledger's first %(size)s recorded events."),
        {"date": f.date((made_at or datetime.now(UTC)).date()), "size": f.integer(integrity["size"])},
    )


def write_site(
    ledger: PartnershipLedger,
    folder: Path,
    *,
    languages: Sequence[Language] = LANGUAGES,
    verify: bool = False,
    made_at: datetime | None = None,
) -> Path:
    """Write the site for every partnership of ``ledger`` into ``folder``; return its index."""
    folder.mkdir(parents=True, exist_ok=True)
    integrity = integrity_section(ledger, verify)
    keys = [p["key"] for p in ledger.partnerships()]
    models = {k: build_report(ledger, k, integrity=integrity, made_at=made_at) for k in keys}
    order = _ordered(models)
    (folder / "data").mkdir(exist_ok=True)
    for key in order:
        _write(folder / "data" / f"{page_name(key)}.json", render_json(models[key]))
    _write(folder / "checkpoint.json", json.dumps(integrity["checkpoint"], indent=2) + "\n")
    for lang in languages:
        (folder / lang).mkdir(exist_ok=True)
        others = [x for x in languages if x != lang]
        for key in order:
            m = models[key]
            parent = m["partnership"]["parent"]
            links = {
                "index": "index.html",
                "other": {
                    "href": f"../{others[0]}/{page_name(key)}.html",
                    "lang": others[0],
                    "label": LANGUAGE_NAMES[others[0]],
                }
                if others
                else None,
                "json": f"../data/{page_name(key)}.json",
                "parent": f"{page_name(parent['key'])}.html" if parent and parent["key"] in models else None,
                "children": {
                    s["key"]: f"{page_name(s['key'])}.html" for s in m["sub_partnerships"] if s["key"] in models
                },
            }
            _write(folder / lang / f"{page_name(key)}.html", render_html(m, lang, links=links))
        cards = [present_card(models[k], lang) | {"href": f"{page_name(k)}.html"} for k in order]
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
