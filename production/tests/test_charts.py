"""The server-drawn SVG charts of the backlog dashboard: scales, positions, labels, and the
markup (no JavaScript; a title and a description; numbers never in the French format)."""

from datetime import UTC, date, datetime, timedelta

import pytest
from django.template.loader import render_to_string
from django.utils import translation

from production import charts

START = datetime(2025, 11, 1, tzinfo=UTC)
END = START + timedelta(days=30)


@pytest.mark.parametrize(
    ("value", "top"), [(0, 1), (1, 1), (2, 2), (3, 5), (7, 10), (11, 20), (200, 200), (201, 500)]
)
def test_the_vertical_axis_ends_at_a_round_number(value, top):
    assert charts.nice_ceiling(value) == top


def test_a_line_spans_the_box_from_start_to_end():
    chart = charts.line_chart(
        [(START, 0), (START + timedelta(days=15), 50), (END, 100)],
        start=START,
        end=END,
        title="t",
        description="d",
    )
    bottom, top = chart.bottom, chart.top
    points = [tuple(map(float, xy.split(","))) for xy in chart.points.split()]
    middle = ((chart.left + chart.right) / 2, (top + bottom) / 2)
    assert points == [(chart.left, bottom), middle, (chart.right, top)]
    assert chart.last == (chart.right, top)
    assert [tick.label for tick in chart.y_ticks] == ["0", "50", "100"]
    assert [tick.at for tick in chart.x_ticks] == [44.0, 226.7, 409.3, 592.0]


def test_bars_are_as_tall_as_their_count_and_say_it():
    days = [(date(2025, 11, 1) + timedelta(days=n), n % 3) for n in range(30)]
    chart = charts.bar_chart(days, title="t", description="d", bar_label="%(day)s: %(count)d")
    assert len(chart.bars) == 30
    full = chart.bottom - chart.top
    assert [bar.height for bar in chart.bars[:3]] == [0, full / 2, full]
    assert all(bar.y + bar.height == chart.bottom for bar in chart.bars)
    assert chart.bars[2].label == "3 nov.: 2"  # the active language's (French here)
    assert [tick.label for tick in chart.x_ticks] == ["1 nov.", "11 nov.", "21 nov.", "30 nov."]


def test_the_markup_is_accessible_and_its_numbers_are_not_localised():
    chart = charts.bar_chart(
        [(date(2025, 11, 1), 1), (date(2025, 11, 2), 3)],
        title="Dossiers par jour",
        description="Du 1er au 2 novembre",
        bar_label="%(day)s : %(count)d dossier(s)",
    )
    with translation.override("fr"):
        svg = render_to_string("staff/_chart.html", {"chart": chart, "id": "c"})
    assert 'role="img" aria-labelledby="c-title c-desc"' in svg
    assert '<title id="c-title">Dossiers par jour</title>' in svg
    assert '<desc id="c-desc">Du 1er au 2 novembre</desc>' in svg
    assert "<title>2 nov. : 3 dossier(s)</title>" in svg
    assert svg.count("<rect") == 2
    assert "<script" not in svg
    assert 'width="219,2"' not in svg
    assert 'width="219.2"' in svg


def test_nothing_to_draw_is_an_empty_chart():
    line = charts.line_chart([], start=START, end=END, title="t", description="d")
    bars = charts.bar_chart([], title="t", description="d", bar_label="%(day)s %(count)d")
    assert (line.points, line.last, bars.bars, bars.x_ticks) == ("", None, (), ())
    assert [tick.label for tick in line.y_ticks] == ["0", "1"]
