"""core.sql, the one loader of the apps' SQL files: placeholders in both forms, casts and
quoted colons left alone, comments out, enum markers written as literals, and anything it was
not given refused when the file is loaded (at import), not when the statement runs."""

from enum import StrEnum
from pathlib import Path

import pytest

from core import sql


class Colour(StrEnum):
    RED = "red"
    DARK_BLUE = "dark blue"
    QUOTED = "it's"


def render(text: str, **given):
    return sql.render(text, path=Path("test.sql"), **given)


def test_placeholders_in_both_forms_numbered_by_first_appearance():
    statement = render("SELECT :b, :a, :b + 1")
    assert statement.sql == "SELECT %(b)s, %(a)s, %(b)s + 1"
    assert statement.positional == "SELECT $1, $2, $1 + 1"
    assert statement.names == ("b", "a")
    assert statement.args({"a": 10, "b": 20, "unused": 0}) == [20, 10]


def test_casts_and_colons_in_literals_are_not_placeholders():
    statement = render("SELECT :now::timestamptz, x::text, 'a:b' || ':c', arr[1:2]")
    assert statement.sql == "SELECT %(now)s::timestamptz, x::text, 'a:b' || ':c', arr[1:2]"
    assert statement.names == ("now",)


def test_comments_go_but_not_inside_literals():
    statement = render("-- why\nSELECT 1, -- a note\n  '--kept' -- :gone\n")
    assert statement.sql == "SELECT 1,\n  '--kept'"
    assert statement.names == ()


def test_a_percent_is_escaped_for_the_driver_only():
    statement = render("SELECT 7 % :n, '100%'")
    assert statement.sql == "SELECT 7 %% %(n)s, '100%%'"
    assert statement.positional == "SELECT 7 % $1, '100%'"


def test_enum_markers_become_literals():
    statement = render(
        "WHERE c IN ({Colour.RED}, {Colour.DARK_BLUE}, {Colour.QUOTED})", Colour=Colour
    )
    assert statement.sql == "WHERE c IN ('red', 'dark blue', 'it''s')"
    assert statement.names == ()


def test_fragments_are_written_as_given():
    order = sql.columns("f", ["due_date", "id"])
    assert render("ORDER BY {order}", order=order).sql == "ORDER BY f.due_date, f.id"


@pytest.mark.parametrize(
    ("text", "given"),
    [
        ("SELECT {Colour.RED}", {}),  # an enum not given
        ("SELECT {Colour.GREEN}", {"Colour": Colour}),  # no such member
        ("SELECT {order}", {"order": "f.id"}),  # a plain string is no fragment
        ("SELECT {Colour}", {"Colour": Colour}),  # an enum without its member
        ("SELECT {order.x}", {"order": sql.Fragment("f.id")}),  # a fragment is no enum
        ("SELECT $1", {}),  # positional parameters are made, not written
    ],
)
def test_what_was_not_given_is_refused(text, given):
    with pytest.raises(sql.SQLFileError):
        render(text, **given)


def test_a_prepared_statement_declares_every_placeholder_once():
    statement = render("SELECT :a + :b")
    assert statement.prepare("p", {"b": "integer", "a": "bigint"}) == (
        "PREPARE p (bigint, integer) AS SELECT $1 + $2"
    )
    assert statement.execute("p") == "EXECUTE p (%s, %s)"
    with pytest.raises(sql.SQLFileError):
        statement.prepare("p", {"a": "bigint"})


def test_load_reads_the_file(tmp_path):
    path = tmp_path / "one.sql"
    path.write_text("-- one\nSELECT {Colour.RED}, :x\n")
    assert sql.load(path, Colour=Colour).sql == "SELECT 'red', %(x)s"
    with pytest.raises(sql.SQLFileError):
        sql.load(path)


def test_a_fragment_is_read_as_the_statement_is(tmp_path):
    path = tmp_path / "part.sql"
    path.write_text("-- why\n:x = {Colour.RED}")
    statement = render("SELECT {part}, :y", part=sql.fragment(path), Colour=Colour)
    assert " ".join(statement.sql.split()) == "SELECT %(x)s = 'red', %(y)s"
    assert statement.names == ("x", "y")
