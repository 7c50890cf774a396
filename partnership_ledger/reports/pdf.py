"""The report as a PDF for A4 paper, through WeasyPrint (the ``pdf`` extra).

The HTML report already has its print rules (``@page`` A4 with margins, tables that split
between rows and repeat their headers, figures kept whole, folded lists shown open); the
PDF adds what only a paged renderer does: a running header on every page (partnership,
date, root hash of the checkpoint) and page numbers. Fonts are embedded (WeasyPrint embeds
subsets of the fonts it uses): Noto Sans CJK JP for Japanese (Debian's ``fonts-noto-cjk``),
DejaVu Sans for the rest.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from ..errors import InvalidArgument
from .i18n import Language
from .render import render_report

#: Rules for WeasyPrint only (paged-media features a browser's HTML checker does not know).
PDF_CSS = """
@page { size: A4; margin: 15mm 13mm 13mm;
  @top-center { content: element(pagehead); width: 100%; vertical-align: bottom; padding-bottom: 2mm }
  @bottom-right { content: counter(page) " / " counter(pages); font-size: 8pt; color: #4a4a4a } }
.print-head { position: running(pagehead) }
body, svg text { font-family: "Noto Sans CJK JP", "Noto Sans", "DejaVu Sans", sans-serif !important }
code, pre, .hash { font-family: "Noto Sans Mono CJK JP", "DejaVu Sans Mono", monospace !important }
details > * { display: block }
details > summary { display: none }
"""


def render_pdf(model: Mapping[str, Any], language: Language | None = None, *, locale: str | None = None) -> bytes:
    """The report as a PDF (A4), in ``language`` (see :func:`.render.render_report`)."""
    try:
        from weasyprint import CSS, HTML  # type: ignore[import-untyped,import-not-found,unused-ignore]
    except ImportError:  # pragma: no cover - depends on the installation
        raise InvalidArgument(
            "a PDF needs WeasyPrint: pip install 'partnership-ledger[pdf]' "
            "(and Pango: apt-get install libpango-1.0-0 libpangoft2-1.0-0 fonts-noto-cjk)"
        ) from None
    page = render_report(model, "html", language, locale=locale)
    document = HTML(string=page).render(stylesheets=[CSS(string=PDF_CSS)])
    data: bytes = document.write_pdf()
    return data
