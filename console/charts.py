"""Charts drawn on the server as inline SVG: no script, no CDN, works offline."""

from collections import OrderedDict
from datetime import timedelta
from decimal import Decimal

from billing.money import format_money

PALETTE = ["#d62d3b", "#1f4fd1", "#1f7a4d", "#a15c07", "#7b3fc4", "#0f7f8c", "#5f6b7a"]


def stacked_bars(rows, *, start, end, value="amount", width=760, height=220):
    """Per-day stacked bars, one colour per series; `rows` have day, series and the value."""
    days = [start + timedelta(days=n) for n in range((end - start).days + 1)]
    series = list(OrderedDict.fromkeys(row["series"] for row in rows))
    totals = {day: Decimal(0) for day in days}
    cells = {}
    for row in rows:
        cells[(row["day"], row["series"])] = Decimal(row[value])
        totals[row["day"]] = totals.get(row["day"], Decimal(0)) + max(Decimal(row[value]), Decimal(0))
    peak = max(totals.values(), default=Decimal(0)) or Decimal(1)
    left, bottom, top = 72, 24, 10
    plot_w, plot_h = width - left - 10, height - bottom - top
    bar_w = max(plot_w / max(len(days), 1) - 2, 1)
    bars = []
    for index, day in enumerate(days):
        y = top + plot_h
        x = left + index * (plot_w / max(len(days), 1)) + 1
        for number, name in enumerate(series):
            amount = cells.get((day, name), Decimal(0))
            if amount <= 0:  # nothing, or a day a publisher's credit outweighed: no bar
                continue
            h = amount / peak * plot_h  # Decimal all the way: pixels, printed to 0.1
            y -= h
            colour = PALETTE[number % len(PALETTE)]
            bars.append(
                f'<rect x="{x:.1f}" y="{y:.1f}" width="{bar_w:.1f}" height="{h:.1f}" fill="{colour}">'
                f"<title>{day} {name}: {format_money(amount, 'amount')} USD</title></rect>"
            )
    peak_label = format_money(peak, "amount")
    labels = [
        f'<text x="{left - 6}" y="{top + 8}" text-anchor="end">{peak_label}</text>',
        f'<text x="{left - 6}" y="{top + plot_h}" text-anchor="end">0</text>',
        f'<text x="{left}" y="{height - 6}">{days[0]}</text>' if days else "",
        f'<text x="{width - 10}" y="{height - 6}" text-anchor="end">{days[-1]}</text>' if days else "",
    ]
    legend = "".join(
        f'<span class="legend"><i class="swatch-{n % len(PALETTE)}"></i>{name}</span>' for n, name in enumerate(series)
    )
    svg = (
        f'<svg class="chart" role="img" aria-label="Usage per day" viewBox="0 0 {width} {height}" '
        f'width="100%" xmlns="http://www.w3.org/2000/svg" font-size="11" fill="#5f6b7a">'
        f'<line x1="{left}" y1="{top + plot_h}" x2="{width - 10}" y2="{top + plot_h}" stroke="#dde2ea"/>'
        + "".join(bars)
        + "".join(labels)
        + "</svg>"
    )
    return svg, legend


def line_chart(points, *, targets=(), width=760, height=200):
    """A latency line over time with horizontal target lines; points are (label, value)."""
    left, bottom, top = 72, 24, 10
    plot_w, plot_h = width - left - 10, height - bottom - top
    peak = max([v for _, v in points] + [t for _, t in targets] + [1])
    step = plot_w / max(len(points) - 1, 1)

    def y(value):
        return top + plot_h - value / peak * plot_h

    path = " ".join(f"{'M' if i == 0 else 'L'}{left + i * step:.1f},{y(v):.1f}" for i, (_, v) in enumerate(points))
    marks = "".join(
        f'<circle cx="{left + i * step:.1f}" cy="{y(v):.1f}" r="2.5" fill="#1f4fd1"><title>{label}: {v} ms</title></circle>'
        for i, (label, v) in enumerate(points)
    )
    lines = "".join(
        f'<line x1="{left}" y1="{y(v):.1f}" x2="{width - 10}" y2="{y(v):.1f}" stroke="#d62d3b" stroke-dasharray="4 3"/>'
        f'<text x="{width - 12}" y="{y(v) - 3:.1f}" text-anchor="end">{name} {v} ms</text>'
        for name, v in targets
    )
    return (
        f'<svg class="chart" role="img" aria-label="Latency" viewBox="0 0 {width} {height}" width="100%" '
        f'xmlns="http://www.w3.org/2000/svg" font-size="11" fill="#5f6b7a">'
        f'<line x1="{left}" y1="{top + plot_h}" x2="{width - 10}" y2="{top + plot_h}" stroke="#dde2ea"/>'
        f'<text x="{left - 6}" y="{top + 8}" text-anchor="end">{peak} ms</text>'
        + lines
        + (f'<path d="{path}" fill="none" stroke="#1f4fd1" stroke-width="2"/>' if points else "")
        + marks
        + (f'<text x="{left}" y="{height - 6}">{points[0][0]}</text>' if points else "")
        + (
            f'<text x="{width - 10}" y="{height - 6}" text-anchor="end">{points[-1][0]}</text>'
            if len(points) > 1
            else ""
        )
        + "</svg>"
    )
