"""The project page's monitoring chart (双监控图), drawn on the server as inline SVG: no script, no library.

Execution rate (预算执行率) at each monitoring report against time progress (序时进度, M/12) and the ruleset's
thresholds (执行进度要求): below a threshold is the yellow band, more than the red margin below it the red band.
Each point is coloured by the deviation the log recorded for its month (红色预警 / 黄色预警), not by a fresh
computation: the chart shows what was decided. The same figures are given as a table beside it (for screen readers
and for copying).
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from decimal import ROUND_HALF_UP, Decimal, InvalidOperation

from markupsafe import Markup, escape

HUNDRED = Decimal(100)
CENT = Decimal("0.01")

WIDTH, HEIGHT = 640, 280
LEFT, RIGHT, TOP, BOTTOM = 48, 16, 16, 40
PLOT_W, PLOT_H = WIDTH - LEFT - RIGHT, HEIGHT - TOP - BOTTOM


@dataclass(frozen=True)
class Point:
    """One monitoring report: through ``month``, ``executed`` of ``approved`` (at the time), and the deviation the
    log recorded for the month (``None``, ``"yellow"`` or ``"red"``)."""

    month: int
    executed: Decimal
    approved: Decimal | None
    rate: Decimal | None
    time_progress: Decimal
    threshold: Decimal | None
    level: str | None


def decimal(value: object) -> Decimal | None:
    try:
        return None if value is None else Decimal(str(value))
    except InvalidOperation:
        return None


def rate_of(executed: Decimal, approved: Decimal | None) -> Decimal | None:
    if approved is None or approved <= 0:
        return None
    return (executed / approved * HUNDRED).quantize(CENT, rounding=ROUND_HALF_UP)


def threshold_at(month: int, thresholds: Sequence[tuple[int, Decimal]]) -> Decimal | None:
    """The threshold of the latest checkpoint month at or before ``month`` (rules.monitoring._threshold)."""
    found = None
    for checkpoint, rate in thresholds:
        if checkpoint <= month:
            found = rate
    return found


def points(
    reports: Sequence[tuple[int, Decimal, Decimal | None]],
    deviations: Sequence[dict[str, object]],
    thresholds: Sequence[tuple[int, Decimal]],
) -> list[Point]:
    """The chart's points from the reports (month, executed, approved when reported) and the recorded deviations
    (whose execution rate, where there is one, is the one the log decided on)."""
    recorded = {int(str(d["month"])): d for d in deviations if d.get("month") is not None}
    out = []
    for month, executed, approved in reports:
        deviation = recorded.get(month)
        rate = decimal(deviation.get("execution_rate")) if deviation else None
        out.append(
            Point(
                month=month,
                executed=executed,
                approved=approved,
                rate=rate if rate is not None else rate_of(executed, approved),
                time_progress=(Decimal(month) * HUNDRED / 12).quantize(CENT, rounding=ROUND_HALF_UP),
                threshold=threshold_at(month, thresholds),
                level=str(deviation["level"]) if deviation and deviation.get("level") else None,
            )
        )
    return out


def _x(month: float) -> float:
    return LEFT + PLOT_W * month / 12


def _y(rate: float) -> float:
    return TOP + PLOT_H * (1 - min(max(rate, 0.0), 100.0) / 100)


def _f(value: float) -> str:
    return f"{value:.1f}"


def monitoring_svg(
    chart: Sequence[Point],
    thresholds: Sequence[tuple[int, Decimal]],
    red_margin: Decimal,
    words: dict[str, str],
) -> Markup:
    """The chart as an ``<svg>`` element. ``words``: its title, description and legend in the page's language
    (keys ``title``, ``desc``, ``progress``, ``threshold``, ``red_line``, ``rate``, ``month``)."""
    parts: list[str] = [
        f'<svg class="chart" viewBox="0 0 {WIDTH} {HEIGHT}" width="{WIDTH}" height="{HEIGHT}" role="img" '
        'aria-labelledby="chart-title chart-desc" xmlns="http://www.w3.org/2000/svg">',
        f'<title id="chart-title">{escape(words["title"])}</title>',
        f'<desc id="chart-desc">{escape(words["desc"])}</desc>',
    ]
    # the bands: from each threshold month to the next, yellow below the threshold, red below it less the margin
    steps = sorted(thresholds)
    for i, (month, rate) in enumerate(steps):
        end = steps[i + 1][0] if i + 1 < len(steps) else 12
        red_top = float(rate - red_margin)
        x0, x1 = _x(month), _x(end)
        parts.append(
            f'<rect class="band-yellow" x="{_f(x0)}" y="{_f(_y(float(rate)))}" width="{_f(x1 - x0)}" '
            f'height="{_f(_y(max(red_top, 0)) - _y(float(rate)))}"/>'
        )
        if red_top > 0:
            parts.append(
                f'<rect class="band-red" x="{_f(x0)}" y="{_f(_y(red_top))}" width="{_f(x1 - x0)}" '
                f'height="{_f(_y(0) - _y(red_top))}"/>'
            )
        parts.append(
            f'<line class="threshold" x1="{_f(x0)}" y1="{_f(_y(float(rate)))}" x2="{_f(x1)}" '
            f'y2="{_f(_y(float(rate)))}"><title>{escape(words["threshold"])} {rate}%</title></line>'
        )
    # axes and grid
    for tick in (0, 25, 50, 75, 100):
        y = _f(_y(tick))
        parts.append(f'<line class="grid" x1="{LEFT}" y1="{y}" x2="{WIDTH - RIGHT}" y2="{y}"/>')
        parts.append(f'<text class="tick" x="{LEFT - 6}" y="{y}" text-anchor="end" dy="4">{tick}%</text>')
    for month in range(13):
        x = _f(_x(month))
        parts.append(f'<text class="tick" x="{x}" y="{HEIGHT - BOTTOM + 16}" text-anchor="middle">{month}</text>')
    parts.append(
        f'<text class="axis" x="{_f(LEFT + PLOT_W / 2)}" y="{HEIGHT - 4}" text-anchor="middle">'
        f"{escape(words['month'])}</text>"
    )
    parts.append(
        f'<line class="progress" x1="{_f(_x(0))}" y1="{_f(_y(0))}" x2="{_f(_x(12))}" y2="{_f(_y(100))}">'
        f"<title>{escape(words['progress'])}</title></line>"
    )
    drawn = [p for p in chart if p.rate is not None]
    if len(drawn) > 1:
        line = " ".join(f"{_f(_x(p.month))},{_f(_y(float(p.rate or 0)))}" for p in drawn)
        parts.append(f'<polyline class="rate" points="{line}"/>')
    for p in drawn:
        cls = f"point {p.level}" if p.level in ("red", "yellow") else "point"
        x, y = _f(_x(p.month)), _f(_y(float(p.rate or 0)))
        parts.append(
            f'<circle class="{cls}" cx="{x}" cy="{y}" r="6"><title>{escape(words["rate"])} {p.month}: '
            f"{p.rate}%</title></circle>"
        )
        parts.append(f'<text class="value" x="{x}" y="{y}" dy="-10" text-anchor="middle">{p.rate}%</text>')
    # the legend
    legend = (("progress", "legend-progress"), ("threshold", "legend-threshold"), ("red_line", "legend-red"))
    for i, (key, cls) in enumerate(legend):
        left = LEFT + 8 + i * 150
        parts.append(f'<line class="{cls}" x1="{left}" y1="{TOP + 8}" x2="{left + 24}" y2="{TOP + 8}"/>')
        parts.append(f'<text class="legend" x="{left + 30}" y="{TOP + 12}">{escape(words[key])}</text>')
    parts.append("</svg>")
    return Markup("".join(parts))  # noqa: S704 (every text above is escaped; the rest is numbers)
