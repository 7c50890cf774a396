"""Charts of the report, drawn with matplotlib as SVG with the text kept as text.

Text stays ``<text>`` (``svg.fonttype = 'none'``), so Japanese labels render in the reader's
own fonts and can be selected, searched and read aloud. Each function returns the markup of
one ``<svg>`` element ready to be inlined: no XML prolog, no metadata, ids made unique, a
``<title>`` and ``role="img"``; the report puts a text alternative and a data table beside it.

Values arrive as Decimals; they become floats only as drawing coordinates (the numbers a
reader sees come from the Babel formatter, in the data tables).
"""

from __future__ import annotations

import io
import itertools
import logging
import re
import unicodedata
import warnings
from collections.abc import Callable, Sequence
from decimal import Decimal
from html import escape
from typing import Any

#: Colour-blind-safe colours (Okabe and Ito), then more for large partnerships.
PALETTE = (
    "#0072B2",
    "#E69F00",
    "#009E73",
    "#CC79A7",
    "#56B4E9",
    "#D55E00",
    "#F0E442",
    "#000000",
    "#999999",
    "#882255",
    "#44AA99",
    "#117733",
)
#: Fonts named in the SVG, best first: the reader's browser uses the first it has.
FONTS = "system-ui, 'Hiragino Sans', 'Noto Sans CJK JP', 'Noto Sans JP', 'Yu Gothic', Meiryo, 'DejaVu Sans', sans-serif"
#: Width of every chart in inches, and its text size in points. On a 360 px phone the chart
#: is 328 px wide (4 in = 288 pt of SVG), so 12 pt text shows at 13.7 CSS px: at least 12.
WIDTH = 4.0
FONT_SIZE = 12
RC: dict[str, Any] = {
    "svg.fonttype": "none",
    "svg.hashsalt": "partnership-ledger",  # the same chart gives the same SVG
    # Text is measured with the font matplotlib ships (fast, and the same SVG on every
    # machine); the SVG then names the reader's fonts (see FONTS).
    "font.family": "sans-serif",
    # Noto Sans CJK JP (Debian's fonts-noto-cjk) when installed, for the width of Japanese
    # text: matplotlib falls back to it glyph by glyph.
    "font.sans-serif": ["DejaVu Sans", "Noto Sans CJK JP"],
    "font.size": FONT_SIZE,
    "text.parse_math": False,  # "$" in a party's name is a dollar sign, not mathematics
    "axes.spines.top": False,
    "axes.spines.right": False,
    "axes.edgecolor": "#444444",
    "axes.labelcolor": "#222222",
    "xtick.color": "#222222",
    "ytick.color": "#222222",
    "legend.frameon": False,
}
_counter = itertools.count(1)


def _floats(values: Sequence[Decimal | int | None]) -> list[float]:
    return [float(v) if v is not None else float("nan") for v in values]


def text_width(text: str) -> int:
    """Width of ``text`` in columns: 2 for a wide (CJK) character, 1 for the others."""
    return sum(2 if unicodedata.east_asian_width(c) in "WF" else 1 for c in text)


def _short(text: str, limit: int = 28) -> str:
    """``text`` cut to at most ``limit`` columns (a CJK character counts two), with "…".
    Charts show short names; the table and the text alternative beside them the full ones."""
    if text_width(text) <= limit:
        return text
    out, used = [], 1  # room for the ellipsis
    for c in text:
        w = text_width(c)
        if used + w > limit:
            break
        out.append(c)
        used += w
    return "".join(out) + "…"


def _axes(height: float, *, left: float, right: float, top: float, bottom: float) -> tuple[Any, Any]:
    """A figure as wide as every chart and ``height`` inches high, with one plot placed by its
    margins (fractions of the figure), and that plot."""
    from matplotlib.figure import Figure

    fig = Figure(figsize=(WIDTH, height))
    fig.subplots_adjust(left=left, right=right, top=top, bottom=bottom)
    return fig, fig.add_subplot()


PREFIX = "@chart@"


def _svg(fig: Any) -> str:
    """The figure as an inline ``<svg>`` element, its ids prefixed with a placeholder."""
    buffer = io.StringIO()
    with warnings.catch_warnings():
        # Measuring text in a font that lacks some glyphs only affects layout; the reader's
        # browser draws the text in its own fonts.
        warnings.simplefilter("ignore")
        # "tight": the figure grows to hold every label, with a margin for fonts a little
        # wider than the ones measured here, so no text falls outside the picture.
        fig.savefig(
            buffer,
            format="svg",
            bbox_inches="tight",
            pad_inches=0.12,
            metadata={"Date": None, "Creator": None, "Format": None, "Type": None},
        )
    text = buffer.getvalue()
    text = text[text.index("<svg") :]
    text = re.sub(r"\s*<metadata>.*?</metadata>", "", text, flags=re.S)
    text = re.sub(r"\s*<style type=\"text/css\">.*?</style>", "", text, flags=re.S)
    text = re.sub(r'\bid="([^"]+)"', rf'id="{PREFIX}-\1"', text)
    text = re.sub(r'href="#([^"]+)"', rf'href="#{PREFIX}-\1"', text)
    text = re.sub(r"url\(#([^)]+)\)", rf"url(#{PREFIX}-\1)", text)
    text = re.sub(r"font-family: [^;\"]*", f"font-family: {FONTS}", text)
    head_end = text.index(">") + 1
    head = re.sub(r'\s(width|height)="[^"]*"', "", text[:head_end])
    head = head.replace("<svg", f'<svg role="img" aria-labelledby="{PREFIX}-title" class="chart"', 1)
    return f'{head}\n <title id="{PREFIX}-title">@title@</title>{text[head_end:]}'


def _finish(raw: str, title: str) -> str:
    """A drawn chart with ids unique in the page and its (translated) title."""
    prefix = f"chart{next(_counter)}"
    return raw.replace(PREFIX, prefix).replace("@title@", escape(title), 1)


def _quiet_fonts() -> None:
    logging.getLogger("matplotlib.font_manager").setLevel(logging.ERROR)


# Charts hold only the ledger's own words and numbers (party names, periods, amounts,
# units), never a translated label: legends of series and titles are written by the report
# around the chart. So a chart is the same in Japanese and English, and is drawn once.
_drawn: dict[tuple[Any, ...], str] = {}
#: Colours of the voice-and-burden series and of the target series, for the HTML legends.
VOICE_COLOURS = (PALETTE[0], PALETTE[1], PALETTE[2])
TARGET_COLOURS = (PALETTE[7], PALETTE[1], PALETTE[0])


def _matplotlib() -> Any:
    """matplotlib, imported when the first chart is drawn (not by every CLI command)."""
    import matplotlib

    matplotlib.use("Agg")  # never a window, never a GUI toolkit
    return matplotlib


def _cached(key: tuple[Any, ...], draw: Callable[[], str]) -> str:
    if key not in _drawn:
        if len(_drawn) > 256:
            _drawn.clear()
        _quiet_fonts()
        with _matplotlib().rc_context(RC):
            _drawn[key] = draw()
    return _drawn[key]


def contributions_chart(
    parties: Sequence[str],
    years: Sequence[int],
    values: Sequence[Sequence[Decimal]],
    money: Callable[[Decimal], str],
    title: str,
) -> str:
    """Stacked bars: per fiscal year, the value each party delivered, in :data:`PALETTE`
    order (the report writes the legend in HTML, with the parties' full names).

    ``money`` formats the axis's amounts; it must not depend on the report's language.
    """
    key = ("contributions", tuple(parties), tuple(years), tuple(tuple(v) for v in values), money(Decimal(1)))

    def draw() -> str:
        below = 0.5
        height = 2.6 + below
        fig, ax = _axes(height, left=1.15 / WIDTH, right=0.98, top=1 - 0.15 / height, bottom=below / height)
        from matplotlib.collections import PolyCollection

        # One collection of rectangles a party (not one artist a bar): a partnership of
        # twenty years and a dozen parties draws in a fraction of the time.
        width = 0.8
        ups = [0.0] * len(years)  # positive values stack up, negative ones (corrections) down
        downs = [0.0] * len(years)
        for i, (_party, row) in enumerate(zip(parties, values, strict=True)):
            colour = PALETTE[i % len(PALETTE)]
            boxes = []
            for x, value in enumerate(row):
                h = float(value)
                if h == 0:
                    continue
                base = ups[x] if h > 0 else downs[x]
                boxes.append(
                    [(x - width / 2, base), (x - width / 2, base + h), (x + width / 2, base + h), (x + width / 2, base)]
                )
                if h > 0:
                    ups[x] += h
                else:
                    downs[x] += h
            ax.add_collection(PolyCollection(boxes, facecolors=colour, edgecolors="white", linewidths=0.5))
        low, high = min(downs, default=0.0), max(ups, default=0.0)
        pad = (high - low) * 0.04 or 1.0
        ax.set_ylim(low - pad if low < 0 else 0, high + pad)
        ax.set_xlim(-0.6, len(years) - 0.4)
        # Room on the left for the longest amount on the axis (about 0.09 in a character).
        longest = max(len(money(Decimal(round(v)))) for v in (high + pad, low - pad))
        fig.subplots_adjust(left=min(0.5, (0.3 + 0.09 * longest) / WIDTH))
        _period_ticks(ax, [str(y) for y in years])
        from matplotlib.ticker import FuncFormatter, MaxNLocator

        ax.yaxis.set_major_locator(MaxNLocator(5))
        ax.yaxis.set_major_formatter(FuncFormatter(lambda x, _pos: money(Decimal(round(x)))))
        return _svg(fig)

    return _finish(_cached(key, draw), title)


def voice_burden_chart(
    parties: Sequence[str],
    shares: Sequence[Decimal | None],
    voice_shares: Sequence[Decimal | None],
    participation: Sequence[Decimal | None],
    title: str,
) -> str:
    """Horizontal bars per party: share of resources, share of the say, decisions taken part
    in (in :data:`VOICE_COLOURS`; the report writes the legend)."""
    key = ("voice", tuple(parties), tuple(shares), tuple(voice_shares), tuple(participation))

    def draw() -> str:
        n = len(parties)
        # Each party: its name on a line of its own above its three bars, so that a name
        # has the chart's whole width (names cut to fit; the table has them whole).
        step = 1.5
        height = 0.55 + 0.62 * n
        fig, ax = _axes(height, left=0.04, right=0.94, top=1 - 0.05 / height, bottom=0.4 / height)
        positions = [i * step for i in range(n)]
        bar = 0.28
        for j, values in enumerate((shares, voice_shares, participation)):
            ax.barh(
                [p + j * bar for p in positions],
                [v * 100 for v in _floats(values)],
                height=bar,
                color=VOICE_COLOURS[j],
            )
        room = int((WIDTH * 0.9 * 72) / (FONT_SIZE * 0.62))  # columns of text across the chart
        for p, name in zip(positions, parties, strict=True):
            ax.text(0.5, p - bar * 0.9, _short(name, room), va="bottom", ha="left", fontsize=FONT_SIZE)
        ax.set_yticks([])
        ax.spines["left"].set_visible(True)
        ax.set_ylim(positions[-1] + 3 * bar if n else 1, -1.0)
        ax.set_xlim(0, 100)
        from matplotlib.ticker import PercentFormatter

        ax.xaxis.set_major_formatter(PercentFormatter(100, decimals=0))
        return _svg(fig)

    return _finish(_cached(key, draw), title)


def target_chart(
    periods: Sequence[str],
    baseline: Sequence[Decimal | None],
    targets: Sequence[Decimal | None],
    measured: Sequence[Decimal | None],
    unit: str,
    title: str,
) -> str:
    """A target's trajectory: the baseline (square), the targets (dashed) and the
    measurements (solid), in :data:`TARGET_COLOURS`; the report writes the legend."""
    key = ("target", tuple(periods), tuple(baseline), tuple(targets), tuple(measured), unit)

    def draw() -> str:
        height = 2.4
        fig, ax = _axes(height, left=0.85 / WIDTH, right=0.97, top=1 - 0.15 / height, bottom=0.45 / height)
        x = list(range(len(periods)))
        target_line = [t if t is not None else b for t, b in zip(targets, baseline, strict=True)]
        measured_line = [m if m is not None else b for m, b in zip(measured, baseline, strict=True)]
        ax.plot(x, _floats(baseline), "s", color=TARGET_COLOURS[0], markersize=7)
        _line(ax, x, target_line, color=TARGET_COLOURS[1], style="--", marker="o")
        _line(ax, x, measured_line, color=TARGET_COLOURS[2], style="-", marker="D")
        _period_ticks(ax, list(periods))
        ax.set_ylabel(_short(unit, 20))
        return _svg(fig)

    return _finish(_cached(key, draw), title)


def _period_ticks(ax: Any, labels: list[str], room: int = 34) -> None:
    """Label every period when they fit side by side, otherwise every second, third...
    (never slanted: upright labels are cheaper to draw and easier to read; the table beside
    the chart has every period)."""
    width = sum(text_width(label) + 2 for label in labels)
    step = max(1, -(-width // room))
    positions = list(range(len(labels)))
    ax.set_xticks(positions[::step], labels[::step])
    if step > 1:
        ax.set_xticks(positions, minor=True)


def _line(ax: Any, x: list[int], values: Sequence[Decimal | None], **style: Any) -> None:
    """Points joined across the periods that have a value (gaps are bridged, not dropped)."""
    points = [(i, float(v)) for i, v in zip(x, values, strict=True) if v is not None]
    if not points:
        return
    xs, ys = zip(*points, strict=True)
    ax.plot(xs, ys, linestyle=style["style"], marker=style["marker"], color=style["color"], markersize=5)
