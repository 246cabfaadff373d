"""Server-rendered, accessible SVG charts for the staff statistics dashboard.

Dependency-free: every function returns a plain string (inline SVG or an HTML table)
ready to be inserted in a page. No JavaScript, no external resources, no CSS classes:
presentation is carried by SVG attributes only.

Accessibility: each chart is ``role="img"`` named by its ``<title>`` and described by a
``<desc>`` summary; values are written as text (never conveyed by colour alone) and
`data_table` gives the same figures as a real table for screen readers and copy-paste.

Safety: every text coming from the caller (titles, labels, series names, units) is
escaped, and characters that XML forbids (control characters) are dropped, so the
output is always well-formed XML whatever the data.

Output is deterministic: same arguments, same string. Element ids derive from a hash
of the chart kind, its arguments and data, so two different charts on one page never
share ids (two strictly identical charts share them, harmlessly: same content).
"""

from __future__ import annotations

import hashlib
import html
import math
import numbers
import re
from decimal import ROUND_HALF_UP, Decimal
from xml.sax.saxutils import escape as _xml_escape

__all__ = [
    "PALETTE",
    "bar_chart",
    "data_table",
    "format_number",
    "line_chart",
    "significant",
    "stacked_bar_chart",
]

# Okabe–Ito colour-blind-safe palette, ordered so the first colours contrast most.
PALETTE = (
    "#0072B2",  # blue
    "#E69F00",  # orange
    "#009E73",  # bluish green
    "#CC79A7",  # reddish purple
    "#56B4E9",  # sky blue
    "#D55E00",  # vermillion
    "#F0E442",  # yellow
    "#000000",  # black
)
NO_DATA = "Aucune donnée"

THIN_SPACE = "\u202f"  # narrow no-break space: French thousands separator
NBSP = "\u00a0"  # between a number and its unit
ELLIPSIS = "…"

FONT = "system-ui, -apple-system, 'Segoe UI', Roboto, Arial, sans-serif"
TEXT_COLOUR = "#1f1f1f"
MUTED_COLOUR = "#555555"
GRID_COLOUR = "#d9d9d9"
AXIS_COLOUR = "#767676"
TITLE_SIZE = 15
LABEL_SIZE = 12
SMALL_SIZE = 11
CHAR_WIDTH = 0.6  # average glyph width as a fraction of the font size (sans-serif)
PAD = 12
MIN_WIDTH = 240

# Characters XML 1.0 does not allow (C0 controls except tab/newline/CR, surrogates,
# U+FFFE/U+FFFF): dropped so a stray byte in a label never breaks the page.
_INVALID_XML = re.compile("[\x00-\x08\x0b\x0c\x0e-\x1f\ud800-\udfff\ufffe\uffff]")
_SPACES = re.compile(r"\s+")


# ---------------------------------------------------------------------------
# Numbers


def significant(value: float, digits: int = 2) -> Decimal:
    """`value` to `digits` significant digits, whole from 10**digits on: 0.0142857 →
    0.014, 1.28 → 1.3, 27.4 → 27, 134.2 → 134. A small rate is never written 0:
    format_number writes the decimals a Decimal carries."""
    number = Decimal(repr(float(value)))
    if not number.is_finite() or number == 0:
        return number
    if abs(number) >= 10**digits:
        return number.quantize(Decimal(1), rounding=ROUND_HALF_UP)
    exponent = number.adjusted() - digits + 1  # the last significant digit's place
    return number.quantize(Decimal(1).scaleb(exponent), rounding=ROUND_HALF_UP)


def format_number(value: float) -> str:
    """A number written the French way: "1 234", "12,5", "3", "-0,4".

    Thousands are separated by a narrow no-break space (U+202F), decimals use a
    comma, at most one decimal is shown (rounded half away from zero) and whole
    numbers have none; a Decimal keeps the decimals it carries ("0,014": see
    `significant`). Not-a-number is written "—", infinities "∞" and "-∞".
    """
    if isinstance(value, bool):
        value = int(value)
    if isinstance(value, numbers.Integral):
        number = Decimal(int(value))
    else:
        if isinstance(value, Decimal):
            number = value
        else:
            as_float = float(value)
            if math.isnan(as_float):
                return "—"
            if math.isinf(as_float):
                return "∞" if as_float > 0 else "-∞"
            number = Decimal(repr(as_float))  # the shortest repr: 2.25 stays 2.25
        if not number.is_finite():
            return "—" if number.is_nan() else ("∞" if number > 0 else "-∞")
    places = min(number.as_tuple().exponent, -1) if isinstance(value, Decimal) else -1
    rounded = number.quantize(Decimal(1).scaleb(places), rounding=ROUND_HALF_UP)
    if rounded == 0:
        return "0"
    negative = rounded < 0
    units, _, tenths = f"{abs(rounded):f}".partition(".")
    groups = []
    while len(units) > 3:
        groups.insert(0, units[-3:])
        units = units[:-3]
    groups.insert(0, units)
    text = THIN_SPACE.join(groups)
    if tenths.rstrip("0"):
        text += "," + tenths.rstrip("0")
    return ("-" if negative else "") + text


def _finite(value: float) -> float:
    """The value for geometry: non-finite values count as 0."""
    value = float(value)
    return value if math.isfinite(value) else 0.0


def _nice_ticks(low: float, high: float, integral: bool) -> list[float]:
    """4–5 round tick values covering [low, high], including 0 (3 intervals at least)."""
    low, high = min(low, 0.0), max(high, 0.0)
    if high == low:
        high = 1.0
    span = high - low
    # Steps are 1, 2, 2.5 or 5 times a power of ten, at least 0.1 (one decimal is
    # shown) or 1 for whole numbers; 0.25 is skipped as it would need two decimals.
    exponent = max(math.floor(math.log10(span / 4)) - 1, 0 if integral else -1)
    candidates = [
        mantissa * 10.0**power
        for power in range(exponent, exponent + 4)
        for mantissa in (1, 2, 2.5, 5)
        if not (mantissa == 2.5 and power < 0)
    ]
    step = candidates[-1]
    for candidate in candidates:
        if math.ceil(high / candidate - 1e-9) - math.floor(low / candidate + 1e-9) <= 4:
            step = candidate
            break
    first = math.floor(low / step + 1e-9)
    last = math.ceil(high / step - 1e-9)
    while last - first < 3:
        last += 1
    return [_clean_float(i * step) for i in range(first, last + 1)]


def _clean_float(value: float) -> float:
    return round(value, 6) + 0.0  # 0.30000000000000004 -> 0.3, -0.0 -> 0.0


# ---------------------------------------------------------------------------
# Text


def _clean(text: object) -> str:
    """Caller text as one line without characters XML forbids."""
    return _SPACES.sub(" ", _INVALID_XML.sub("", str(text))).strip()


def _esc(text: str) -> str:
    """Escaped for XML text and double- or single-quoted attribute values."""
    return _xml_escape(text, {'"': "&quot;", "'": "&apos;"})


def _text_width(text: str, size: float) -> float:
    return len(text) * size * CHAR_WIDTH


def _max_chars(space: float, size: float) -> int:
    return max(4, int(space / (size * CHAR_WIDTH)))


def _fit(text: str, max_chars: int) -> tuple[str, bool]:
    """The text shortened to max_chars with an ellipsis, and whether it was."""
    if len(text) <= max_chars:
        return text, False
    return text[: max_chars - 1].rstrip() + ELLIPSIS, True


def _num(value: float) -> str:
    """A coordinate, deterministic and short."""
    text = f"{value:.1f}"
    if text.endswith(".0"):
        text = text[:-2]
    return "0" if text == "-0" else text


def _label(
    text: str,
    x: float,
    y: float,
    *,
    max_chars: int,
    size: int = LABEL_SIZE,
    anchor: str = "start",
    fill: str = TEXT_COLOUR,
    weight: str | None = None,
    halo: bool = False,
) -> str:
    """A <text> element; when shortened, its full text is kept in a <title> child."""
    shown, cut = _fit(text, max_chars)
    attrs = [f'x="{_num(x)}"', f'y="{_num(y)}"', f'font-size="{size}"', f'fill="{fill}"']
    if anchor != "start":
        attrs.append(f'text-anchor="{anchor}"')
    if weight:
        attrs.append(f'font-weight="{weight}"')
    if halo:
        attrs.append(
            'stroke="#ffffff" stroke-width="3" stroke-linejoin="round" paint-order="stroke"'
        )
    tooltip = f"<title>{_esc(text)}</title>" if cut else ""
    return f"<text {' '.join(attrs)}>{tooltip}{_esc(shown)}</text>"


def _with_unit(value: float, unit: str) -> str:
    text = format_number(value)
    return f"{text}{NBSP}{unit}" if unit else text


def _plural(count: int, singular: str, plural: str) -> str:
    return f"{format_number(count)} {singular if count == 1 else plural}"


# ---------------------------------------------------------------------------
# SVG frame


def _chart_id(kind: str, *parts: object) -> str:
    digest = hashlib.sha1(repr((kind,) + parts).encode("utf-8", "surrogatepass"))
    return f"chart-{kind}-{digest.hexdigest()[:12]}"


def _svg(
    chart_id: str,
    width: int,
    height: float,
    title: str,
    desc: str,
    body: list[str],
    defs: list[str] | None = None,
) -> str:
    height = math.ceil(height)
    head = (
        f'<svg xmlns="http://www.w3.org/2000/svg" id="{chart_id}" width="{width}" '
        f'height="{height}" viewBox="0 0 {width} {height}" role="img" '
        f'aria-labelledby="{chart_id}-title" aria-describedby="{chart_id}-desc" '
        f'font-family="{_esc(FONT)}">'
    )
    parts = [
        head,
        f'<title id="{chart_id}-title">{_esc(title)}</title>',
        f'<desc id="{chart_id}-desc">{_esc(desc)}</desc>',
    ]
    if defs:
        parts.append("<defs>" + "".join(defs) + "</defs>")
    parts.append(f'<rect width="{width}" height="{height}" fill="#ffffff"/>')
    parts.append(
        _label(
            title,
            PAD,
            PAD + TITLE_SIZE,
            size=TITLE_SIZE,
            weight="bold",
            max_chars=_max_chars(width - 2 * PAD, TITLE_SIZE),
        )
    )
    parts.extend(body)
    parts.append("</svg>")
    return "\n".join(parts)


def _no_data(chart_id: str, width: int, title: str) -> str:
    body = [
        _label(NO_DATA, width / 2, 62, anchor="middle", fill=MUTED_COLOUR, max_chars=40, size=13)
    ]
    return _svg(chart_id, width, 84, title, NO_DATA, body)


# ---------------------------------------------------------------------------
# Charts

BAR_ROW = 28
BAR_HEIGHT = 18


def bar_chart(
    title: str, rows: list[tuple[str, float]], *, unit: str = "", width: int = 640
) -> str:
    """Horizontal bars, one per (label, value), in the given order.

    The largest value spans the whole bar area; each value is written at the end of
    its bar (with the unit, e.g. "12,5 %"). Negative or non-finite values are drawn
    as empty bars but still written.
    """
    title, unit = _clean(title), _clean(unit)
    rows = [(_clean(label), value) for label, value in rows]
    width = max(int(width), MIN_WIDTH)
    chart_id = _chart_id("bar", title, rows, unit, width)
    if not rows:
        return _no_data(chart_id, width, title)

    amounts = [max(_finite(value), 0.0) for _, value in rows]
    top_value = max(amounts)
    texts = [_with_unit(value, unit) for _, value in rows]
    label_space = min(max(width * 0.3, 80), 240)
    value_space = max(_text_width(t, LABEL_SIZE) for t in texts) + 8
    bar_x = PAD + label_space + 8
    full = max(width - PAD - value_space - bar_x, 40)
    top = PAD + TITLE_SIZE + 16
    label_chars = _max_chars(label_space, LABEL_SIZE)

    body = []
    for index, ((label, _), amount, text) in enumerate(zip(rows, amounts, texts)):
        y = top + index * BAR_ROW
        middle = y + BAR_ROW / 2 + LABEL_SIZE * 0.35
        bar = full * amount / top_value if top_value > 0 else 0.0
        body.append(
            "<g>"
            + _label(label, PAD + label_space, middle, anchor="end", max_chars=label_chars)
            + f'<rect x="{_num(bar_x)}" y="{_num(y + (BAR_ROW - BAR_HEIGHT) / 2)}" '
            f'width="{_num(bar)}" height="{BAR_HEIGHT}" fill="{PALETTE[0]}"/>'
            + _label(text, bar_x + bar + 6, middle, max_chars=len(text))
            + "</g>"
        )
    bottom = top + len(rows) * BAR_ROW
    body.append(
        f'<line x1="{_num(bar_x)}" y1="{_num(top)}" x2="{_num(bar_x)}" '
        f'y2="{_num(bottom)}" stroke="{AXIS_COLOUR}" stroke-width="1"/>'
    )

    best = max(range(len(rows)), key=lambda i: (_finite(rows[i][1]), -i))
    desc = f"{_plural(len(rows), 'valeur', 'valeurs')}, maximum {texts[best]} ({rows[best][0]})"
    return _svg(chart_id, width, bottom + PAD, title, desc, body)


def _is_light(colour: str) -> bool:
    r, g, b = (int(colour[i : i + 2], 16) / 255 for i in (1, 3, 5))
    return 0.2126 * r + 0.7152 * g + 0.0722 * b > 0.5


def _pattern(pattern_id: str, colour: str, kind: int) -> str:
    """A fill that tells apart series sharing a palette colour (after the 8th)."""
    ink = "#000000" if _is_light(colour) else "#ffffff"
    base = f'<rect width="6" height="6" fill="{colour}"/>'
    if kind == 0:  # lines "/"
        inner, transform = f'<path d="M0 0V6" stroke="{ink}" stroke-width="2"/>', "rotate(45)"
    elif kind == 1:  # lines "\"
        inner, transform = f'<path d="M0 0V6" stroke="{ink}" stroke-width="2"/>', "rotate(-45)"
    elif kind == 2:  # cross-hatch
        inner = f'<path d="M0 0V6M0 0H6" stroke="{ink}" stroke-width="1.5"/>'
        transform = "rotate(45)"
    else:  # dots
        inner, transform = f'<circle cx="3" cy="3" r="1.4" fill="{ink}"/>', ""
    transform_attr = f' patternTransform="{transform}"' if transform else ""
    return (
        f'<pattern id="{pattern_id}" patternUnits="userSpaceOnUse" width="6" '
        f'height="6"{transform_attr}>{base}{inner}</pattern>'
    )


def stacked_bar_chart(
    title: str, categories: list[str], series: list[tuple[str, list[float]]], *, width: int = 720
) -> str:
    """One horizontal bar per category, one segment per series, with a legend.

    ``series`` is a list of (name, values) where values follow ``categories``. The
    largest total spans the whole bar area; totals are written at the bar ends and
    each segment's value is written on it when it fits (every segment also has a
    tooltip). Colours follow the Okabe–Ito palette; from the 9th series on, the
    colours come back with hatching or dots so no two series look alike.
    """
    title = _clean(title)
    categories = [_clean(c) for c in categories]
    series = [(_clean(name), list(values)) for name, values in series]
    for name, values in series:
        if len(values) != len(categories):
            raise ValueError(
                f"series {name!r} has {len(values)} values for {len(categories)} categories"
            )
    width = max(int(width), MIN_WIDTH)
    chart_id = _chart_id("stacked", title, categories, series, width)
    if not categories or not series:
        return _no_data(chart_id, width, title)

    fills, defs = [], []
    for index in range(len(series)):
        colour = PALETTE[index % len(PALETTE)]
        cycle = index // len(PALETTE)
        if cycle == 0:
            fills.append(colour)
        else:
            pattern_id = f"{chart_id}-p{index}"
            defs.append(_pattern(pattern_id, colour, (cycle - 1) % 4))
            fills.append(f"url(#{pattern_id})")

    body = []
    # Legend, wrapped over as many lines as needed, in segment order.
    legend_chars = 28
    x, y = PAD, PAD + TITLE_SIZE + 18
    for index, (name, _) in enumerate(series):
        shown, _cut = _fit(name, legend_chars)
        item = 12 + 6 + _text_width(shown, LABEL_SIZE) + 16
        if x > PAD and x + item > width - PAD:
            x, y = PAD, y + 20
        body.append(
            "<g>" + f'<rect x="{_num(x)}" y="{_num(y - 10)}" width="12" height="12" '
            f'fill="{fills[index]}" stroke="{TEXT_COLOUR}" stroke-width="0.5"/>'
            + _label(name, x + 18, y, max_chars=legend_chars)
            + "</g>"
        )
        x += item

    totals = [
        sum(max(_finite(values[c]), 0.0) for _, values in series) for c in range(len(categories))
    ]
    top_total = max(totals)
    total_texts = [format_number(t) for t in totals]
    label_space = min(max(width * 0.25, 80), 200)
    value_space = max(_text_width(t, LABEL_SIZE) for t in total_texts) + 8
    bar_x = PAD + label_space + 8
    full = max(width - PAD - value_space - bar_x, 40)
    top = y + 16
    label_chars = _max_chars(label_space, LABEL_SIZE)

    for row, category in enumerate(categories):
        y_row = top + row * BAR_ROW
        middle = y_row + BAR_ROW / 2 + LABEL_SIZE * 0.35
        parts = [
            "<g>",
            _label(category, PAD + label_space, middle, anchor="end", max_chars=label_chars),
        ]
        x = bar_x
        for index, (name, values) in enumerate(series):
            amount = max(_finite(values[row]), 0.0)
            if amount <= 0:
                continue
            segment = full * amount / top_total
            text = format_number(values[row])
            parts.append(
                f'<rect x="{_num(x)}" y="{_num(y_row + (BAR_ROW - BAR_HEIGHT) / 2)}" '
                f'width="{_num(segment)}" height="{BAR_HEIGHT}" fill="{fills[index]}" '
                f'stroke="#ffffff" stroke-width="1">'
                f"<title>{_esc(f'{category} — {name} : {text}')}</title></rect>"
            )
            if segment >= _text_width(text, SMALL_SIZE) + 8:
                parts.append(
                    _label(
                        text,
                        x + segment / 2,
                        y_row + BAR_ROW / 2 + SMALL_SIZE * 0.35,
                        size=SMALL_SIZE,
                        anchor="middle",
                        max_chars=len(text),
                        halo=True,
                    )
                )
            x += segment
        parts.append(_label(total_texts[row], x + 6, middle, max_chars=len(total_texts[row])))
        parts.append("</g>")
        body.append("".join(parts))
    bottom = top + len(categories) * BAR_ROW
    body.append(
        f'<line x1="{_num(bar_x)}" y1="{_num(top)}" x2="{_num(bar_x)}" '
        f'y2="{_num(bottom)}" stroke="{AXIS_COLOUR}" stroke-width="1"/>'
    )

    best = max(range(len(categories)), key=lambda i: (totals[i], -i))
    desc = (
        f"{_plural(len(categories), 'catégorie', 'catégories')}, "
        f"{_plural(len(series), 'série', 'séries')}, total maximum "
        f"{total_texts[best]} ({categories[best]})"
    )
    return _svg(chart_id, width, bottom + PAD, title, desc, body, defs)


def line_chart(
    title: str, points: list[tuple[str, float]], *, width: int = 720, height: int = 260
) -> str:
    """A trend over periods (x labels such as "2026-01"), with dots and a line.

    The y axis has 4–5 round ticks starting at 0. Points are evenly spaced; x labels
    and values are thinned out when they would overlap (the last period is always
    labelled). Non-finite values leave a gap in the line.
    """
    title = _clean(title)
    points = [(_clean(label), value) for label, value in points]
    width = max(int(width), MIN_WIDTH)
    height = max(int(height), 160)
    chart_id = _chart_id("line", title, points, width, height)
    if not points:
        return _no_data(chart_id, width, title)

    finite = [float(v) for _, v in points if math.isfinite(float(v))]
    integral = all(v == int(v) for v in finite)
    ticks = _nice_ticks(min(finite, default=0.0), max(finite, default=0.0), integral)
    tick_texts = [format_number(t) for t in ticks]
    left = PAD + max(_text_width(t, SMALL_SIZE) for t in tick_texts) + 8
    right = width - PAD
    top = PAD + TITLE_SIZE + 28
    bottom = height - 30
    low, high = ticks[0], ticks[-1]

    def y_of(value: float) -> float:
        return bottom - (value - low) / (high - low) * (bottom - top)

    body = []
    for tick, text in zip(ticks, tick_texts):
        y = y_of(tick)
        colour = AXIS_COLOUR if tick == 0 else GRID_COLOUR
        body.append(
            f'<line x1="{_num(left)}" y1="{_num(y)}" x2="{_num(right)}" '
            f'y2="{_num(y)}" stroke="{colour}" stroke-width="1"/>'
        )
        body.append(
            _label(
                text,
                left - 6,
                y + SMALL_SIZE * 0.35,
                size=SMALL_SIZE,
                anchor="end",
                fill=MUTED_COLOUR,
                max_chars=len(text),
            )
        )

    count = len(points)
    band = (right - left) / count
    xs = [left + (i + 0.5) * band for i in range(count)]
    label_chars = _max_chars(max(band * 3, 60), SMALL_SIZE)  # a label may use 3 bands
    widest = max(
        max(_text_width(_fit(lab, label_chars)[0], SMALL_SIZE) for lab, _ in points),
        max(_text_width(format_number(v), SMALL_SIZE) for _, v in points),
    )
    every = max(1, math.ceil((widest + 8) / band))
    shown = {i for i in range(count) if (count - 1 - i) % every == 0}

    path, pen_down = [], False
    for x, (_, value) in zip(xs, points):
        if not math.isfinite(float(value)):
            pen_down = False
            continue
        path.append(f"{'L' if pen_down else 'M'}{_num(x)} {_num(y_of(float(value)))}")
        pen_down = True
    if len(path) > 1:
        body.append(
            f'<path d="{" ".join(path)}" fill="none" stroke="{PALETTE[0]}" '
            f'stroke-width="2" stroke-linejoin="round"/>'
        )

    for index, (x, (label, value)) in enumerate(zip(xs, points)):
        text = format_number(value)
        parts = ["<g>"]
        if math.isfinite(float(value)):
            y = y_of(float(value))
            parts.append(
                f'<circle cx="{_num(x)}" cy="{_num(y)}" r="3.5" '
                f'fill="{PALETTE[0]}" stroke="#ffffff" stroke-width="1">'
                f"<title>{_esc(f'{label} : {text}')}</title></circle>"
            )
            if index in shown:
                parts.append(
                    _label(
                        text,
                        x,
                        y - 8,
                        size=SMALL_SIZE,
                        anchor="middle",
                        max_chars=len(text),
                        halo=True,
                    )
                )
        if index in shown:
            parts.append(
                _label(
                    label,
                    x,
                    bottom + 18,
                    size=SMALL_SIZE,
                    anchor="middle",
                    fill=MUTED_COLOUR,
                    max_chars=label_chars,
                )
            )
        parts.append("</g>")
        if len(parts) > 2:
            body.append("".join(parts))

    if finite:
        best = max(
            (i for i in range(count) if math.isfinite(float(points[i][1]))),
            key=lambda i: (float(points[i][1]), -i),
        )
        summary = f"maximum {format_number(points[best][1])} ({points[best][0]})"
        summary += f", dernier {format_number(points[-1][1])}"
    else:
        summary = NO_DATA
    span = points[0][0] if count == 1 else f"de {points[0][0]} à {points[-1][0]}"
    desc = f"{_plural(count, 'point', 'points')} {span}, {summary}"
    return _svg(chart_id, width, height, title, desc, body)


# ---------------------------------------------------------------------------
# Table


def _cell(value: object) -> tuple[str, bool]:
    """A cell's escaped text and whether it is a number."""
    if value is None:
        return "", False
    if isinstance(value, (numbers.Real, Decimal)) and not isinstance(value, bool):
        return html.escape(format_number(value)), True
    return html.escape(_INVALID_XML.sub("", str(value))), False


def data_table(caption: str, header: list[str], rows: list[list[object]]) -> str:
    """An HTML table with the figures of a chart, for screen readers and copy-paste.

    Every cell is escaped; numbers are formatted with `format_number` and aligned
    right. The first cell of each row is its header (``<th scope="row">``).
    """
    parts = ["<table>", f"<caption>{_cell(caption)[0]}</caption>"]
    if header:
        parts.append(
            "<thead><tr>"
            + "".join(f'<th scope="col">{_cell(name)[0]}</th>' for name in header)
            + "</tr></thead>"
        )
    parts.append("<tbody>")
    if not rows:
        span = f' colspan="{len(header)}"' if len(header) > 1 else ""
        parts.append(f"<tr><td{span}>{NO_DATA}</td></tr>")
    for row in rows:
        cells = []
        for position, value in enumerate(row):
            text, numeric = _cell(value)
            # A class, not a style attribute: the console's CSP forbids inline styles.
            style = ' class="num"' if numeric else ""
            if position == 0:
                cells.append(f'<th scope="row"{style}>{text}</th>')
            else:
                cells.append(f"<td{style}>{text}</td>")
        parts.append("<tr>" + "".join(cells) + "</tr>")
    parts.append("</tbody></table>")
    return "\n".join(parts)
