"""The transparency report for residents: one partnership's ledger as a page anyone can read.

One report model, several renderers (as hledger does)::

    from partnership_ledger.reports import build_report, render_report, write_site

    model = build_report(ledger, "puppet-tour")          # plain data; the JSON format
    html = render_report(model, "html")                   # Japanese for a ledger in yen
    md = render_report(model, "md", language="en")
    pdf = render_pdf(model)                               # A4 (the pdf extra: WeasyPrint)
    index = write_site(ledger, Path("site"))              # every partnership, both languages

See ``docs/report.md``.
"""

from .i18n import LANGUAGES, default_language
from .model import REPORT_FORMAT, build_report, integrity_section
from .pdf import render_pdf
from .render import FORMATS, render_json, render_report
from .site import write_site

__all__ = [
    "FORMATS",
    "LANGUAGES",
    "REPORT_FORMAT",
    "build_report",
    "default_language",
    "integrity_section",
    "render_json",
    "render_pdf",
    "render_report",
    "write_site",
]
