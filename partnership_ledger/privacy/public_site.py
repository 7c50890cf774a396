"""``verify --public``'s check of the published report site: its data files and its pages.

The site is made again from the published events (with the publication's date, from the
manifest), as ``publish`` made it, and compared with the published one: every data file
(``site/data/*.json``, each page's figures) and the site's checkpoint figure by figure, then
every other file (the HTML pages in each language, with their charts) byte for byte, once the
charts' element ids (numbered in the order a process draws them) are numbered again in the
order they appear on the page.
"""

from __future__ import annotations

import json
import os
import re
from datetime import datetime
from pathlib import Path
from typing import Any

import attrs

from .public import PublicVerifyResult, _first_difference

#: A chart's element ids (``chart12-title``...): the number depends on the process, not the page.
_CHART_ID = re.compile(rb"chart\d+")


def _canonical(page: bytes) -> bytes:
    """``page`` with its charts numbered in the order they first appear."""
    seen: dict[bytes, bytes] = {}
    return _CHART_ID.sub(lambda m: seen.setdefault(m.group(0), b"chart%d" % len(seen)), page)


def _files(site: Path) -> list[str]:
    return sorted(p.relative_to(site).as_posix() for p in site.rglob("*") if p.is_file())


def _differs(result: PublicVerifyResult, where: str, message: str) -> PublicVerifyResult:
    return attrs.evolve(result, ok=False, problem="figure", figure=where, message=message)


def _first_line_differing(a: bytes, b: bytes) -> int:
    lines_a, lines_b = a.splitlines(), b.splitlines()
    for i, (x, y) in enumerate(zip(lines_a, lines_b, strict=False), 1):
        if x != y:
            return i
    return min(len(lines_a), len(lines_b)) + 1


def verify_site(site: Path, work: Path, manifest: Any, result: PublicVerifyResult) -> PublicVerifyResult:
    """The report site made again from the published events (in ``work``, whose
    ``public.sqlite`` holds them) must be the published ``site``: its data, then its pages."""
    from ..application import PartnershipLedger
    from ..reports import write_site
    from ..storage.cipher import ENV_CIPHER_KEY

    made_at = manifest.get("made_at") if isinstance(manifest, dict) else None
    try:
        made = datetime.fromisoformat(str(made_at))
    except ValueError:
        return attrs.evolve(result, ok=False, problem="figure", message="the manifest's made_at is not a time")
    saved = os.environ.pop(ENV_CIPHER_KEY, None)
    try:
        with PartnershipLedger.open(work / "public.sqlite") as public:
            write_site(public, work / "site", made_at=made)
    finally:
        if saved is not None:
            os.environ[ENV_CIPHER_KEY] = saved
    again, published = _files(work / "site"), _files(site)
    if again != published:
        extra = sorted(set(published) ^ set(again))
        return _differs(
            result,
            f"site/{extra[0]}",
            f"the report site differs from what the published events give: site/{extra[0]} is added or missing",
        )
    data = [n for n in again if n == "checkpoint.json" or (n.startswith("data/") and n.endswith(".json"))]
    for name in data:
        try:
            shown = json.loads((site / name).read_bytes())
        except (OSError, ValueError, UnicodeDecodeError):
            return _differs(result, f"site/{name}", f"the report site's site/{name} cannot be read as JSON")
        where = _first_difference(shown, json.loads((work / "site" / name).read_bytes()))
        if where is not None:
            return _differs(
                result,
                f"site/{name}:{where}",
                f"the report site's figure site/{name}:{where} is not what the published events give",
            )
    pages = [n for n in again if n not in data]
    for name in pages:
        shown_page, made_page = _canonical((site / name).read_bytes()), _canonical((work / "site" / name).read_bytes())
        if shown_page != made_page:
            line = _first_line_differing(shown_page, made_page)
            return _differs(
                result,
                f"site/{name}:{line}",
                f"the report site's page site/{name} is not what the published events give (line {line} differs)",
            )
    return attrs.evolve(
        result,
        message=result.message + f"; so is every figure of the report site's {len(data) - 1} data files, "
        f"and each of its {len(pages)} pages is the page those events give",
    )
