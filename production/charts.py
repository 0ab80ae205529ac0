"""Small charts drawn on the server as SVG (no JavaScript, no library): the geometry of a
line over time and of bars per day, in a fixed box, with axis labels. The template
templates/staff/_chart.html draws a Chart, with its <title> and <desc> for screen readers."""

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import date, datetime

from django.utils.formats import date_format

WIDTH, HEIGHT = 600, 180
LEFT, RIGHT, TOP, BOTTOM = 44, 8, 10, 24  # room for the axis labels
X_TICKS = 4  # labelled dates along the bottom


@dataclass(frozen=True)
class Tick:
    at: float  # x for the bottom axis, y for the left one
    label: str
    anchor: str = "middle"  # of the label (SVG text-anchor): the ends stay inside the box


@dataclass(frozen=True)
class Bar:
    x: float
    y: float
    width: float
    height: float
    label: str  # shown on hover (<title>)


@dataclass(frozen=True)
class Chart:
    title: str
    description: str
    points: str = ""  # the line's "x,y x,y ...", for <polyline>
    last: tuple[float, float] | None = None  # the line's last point, marked
    bars: tuple[Bar, ...] = ()
    x_ticks: tuple[Tick, ...] = ()
    y_ticks: tuple[Tick, ...] = ()
    width: int = WIDTH
    height: int = HEIGHT
    left: int = LEFT
    right: int = WIDTH - RIGHT
    top: int = TOP
    bottom: int = HEIGHT - BOTTOM


def nice_ceiling(value: int) -> int:
    """The smallest of 1, 2, 5, 10, 20, 50... at or above `value` (at least 1): the top of
    the vertical axis."""
    step = 1
    while True:
        for factor in (1, 2, 5):
            if step * factor >= value:
                return step * factor
        step *= 10


def _y_axis(top_value: int) -> tuple[float, tuple[Tick, ...]]:
    """Pixels per unit, and the ticks 0, half (when a whole number) and the top."""
    scale = (HEIGHT - BOTTOM - TOP) / top_value
    values = [0, top_value // 2, top_value] if top_value % 2 == 0 else [0, top_value]
    return scale, tuple(Tick(at=_y(v, scale), label=str(v)) for v in values)


def _y(value: float, scale: float) -> float:
    return round(HEIGHT - BOTTOM - value * scale, 1)


def _day_label(day: date) -> str:
    return date_format(day, "j N")


def _x_ticks(ticks: list[tuple[float, date]]) -> tuple[Tick, ...]:
    """Date labels along the bottom, the first starting at its place, the last ending at
    its place, the others centred on it."""
    last = len(ticks) - 1
    return tuple(
        Tick(
            at=x,
            label=_day_label(day),
            anchor="start" if n == 0 else "end" if n == last else "middle",
        )
        for n, (x, day) in enumerate(ticks)
    )


def line_chart(
    points: Sequence[tuple[datetime, int]],
    *,
    start: datetime,
    end: datetime,
    title: str,
    description: str,
) -> Chart:
    """A line through `points` (moments between `start` and `end`, values from 0), the
    dates labelled in `start`'s timezone."""
    span = (end - start).total_seconds() or 1
    inner = WIDTH - RIGHT - LEFT
    scale, y_ticks = _y_axis(nice_ceiling(max((v for _at, v in points), default=0)))

    def x(moment: datetime) -> float:
        return round(LEFT + (moment - start).total_seconds() / span * inner, 1)

    ticks = [start + (end - start) * n / (X_TICKS - 1) for n in range(X_TICKS)]
    xy = [(x(at), _y(value, scale)) for at, value in points]
    return Chart(
        title=title,
        description=description,
        points=" ".join(f"{px},{py}" for px, py in xy),
        last=xy[-1] if xy else None,
        x_ticks=_x_ticks([(x(t), t.astimezone(start.tzinfo).date()) for t in ticks]),
        y_ticks=y_ticks,
    )


def bar_chart(
    values: Sequence[tuple[date, int]], *, title: str, description: str, bar_label: str
) -> Chart:
    """One bar per day (in order), each with its <title>: `bar_label` % {day, count}."""
    scale, y_ticks = _y_axis(nice_ceiling(max((v for _day, v in values), default=0)))
    slot = (WIDTH - RIGHT - LEFT) / max(len(values), 1)
    bars = tuple(
        Bar(
            x=round(LEFT + n * slot + slot * 0.1, 1),
            y=_y(value, scale),
            width=round(slot * 0.8, 1),
            height=round(value * scale, 1),
            label=bar_label % {"day": _day_label(day), "count": value},
        )
        for n, (day, value) in enumerate(values)
    )
    labelled = sorted({0, len(values) // 3, 2 * len(values) // 3, len(values) - 1})
    x_ticks = _x_ticks(
        [
            (round(LEFT + (n + 0.5) * slot, 1), values[n][0])
            for n in labelled
            if 0 <= n < len(values)
        ]
    )
    return Chart(title=title, description=description, bars=bars, x_ticks=x_ticks, y_ticks=y_ticks)
