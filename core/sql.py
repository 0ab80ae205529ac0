"""The one way the apps read their hand-written SQL files.

A statement lives in a `.sql` file beside the module that runs it, and is read once, when
that module is imported, by `load()`:

    BOOK = sql.load(Path(__file__).with_name("book.sql"), AppointmentStatus=Appointment.Status)

What a file may hold besides SQL:

- `-- comments`, taken out (not inside a quoted literal): they say why, for the reader, and
  PostgreSQL need not parse them on every run;
- `:name` placeholders, one style for every file. A cast (`:now::timestamptz`, `x::text`)
  is not one, nor a colon inside a quoted literal (`'appointment:'`). The statement gives
  them as `%(name)s` for `cursor.execute(statement.sql, {...})` (`Statement.sql`) and as
  `$1, $2, ...` in the order of their first appearance for a prepared statement
  (`Statement.prepare()`, `Statement.execute`, `Statement.args()`);
- `{Name.MEMBER}` markers, written as the quoted value of that member of the enum passed to
  load() under that name (`{AppointmentStatus.PENDING}` becomes `'pending'`). Statuses are
  literals, not parameters: a partial index whose predicate names a status is used only
  when the query names it too, and a prepared statement keeps one plan for it;
- `{name}` markers (no dot), written as the `Fragment` passed under that name: a piece of
  SQL defined once in Python and shared by several statements (the order in which files
  are taken, production.models.QUEUE_ORDER).

A marker or a name that load() was not given is an error when the module is imported, not
when the statement first runs.
"""

import re
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from enum import Enum
from pathlib import Path


class Fragment(str):
    """A piece of SQL written into statements by a `{name}` marker: code, never a value
    that came from outside. It may hold placeholders and markers of its own."""


def fragment(path: Path) -> Fragment:
    """A piece of SQL shared by several statements, from its own file."""
    return Fragment(path.read_text())


def columns(alias: str, names: Sequence[str]) -> Fragment:
    """`a.x, a.y` for an ORDER BY or a select list, from column names kept in Python."""
    return Fragment(", ".join(f"{alias}.{name}" for name in names))


# One pass over the text, left to right: quoted literals and identifiers are copied as they
# are, so that nothing inside them is read as a comment, a placeholder or a marker.
_TOKENS = re.compile(
    r"""
      (?P<literal>'(?:[^']|'')*'|"(?:[^"]|"")*")
    | (?P<comment>--[^\n]*)
    | (?P<cast>::)
    | :(?P<placeholder>[A-Za-z_][A-Za-z0-9_]*)
    | \{(?P<marker>[A-Za-z_][A-Za-z0-9_]*)(?:\.(?P<member>[A-Za-z_][A-Za-z0-9_]*))?\}
    | (?P<dollar>\$)
    """,
    re.VERBOSE,
)


class SQLFileError(ValueError):
    """A statement's file names what load() was not given."""


@dataclass(frozen=True)
class Statement:
    """A statement read from its file, in the two forms the code runs it in."""

    path: Path
    sql: str  # with %(name)s placeholders, for cursor.execute(sql, {name: value})
    positional: str  # with $1, $2, ..., for PREPARE
    names: tuple[str, ...]  # the placeholders in the order of $1, $2, ...

    def prepare(self, name: str, types: Mapping[str, str]) -> str:
        """`PREPARE name (types) AS ...`: `types` gives each placeholder's SQL type."""
        if set(types) != set(self.names):
            raise SQLFileError(
                f"{self.path.name}: types for {sorted(types)}, placeholders {sorted(self.names)}"
            )
        declared = ", ".join(types[param] for param in self.names)
        return f"PREPARE {name} ({declared}) AS {self.positional}"

    def execute(self, name: str) -> str:
        """`EXECUTE name (%s, ...)`, to run with `args()`."""
        return "EXECUTE {} ({})".format(name, ", ".join(["%s"] * len(self.names)))

    def args(self, params: Mapping[str, object]) -> list:
        """The values of the placeholders, in the order of $1, $2, ..."""
        return [params[param] for param in self.names]


def _literal(value: object) -> str:
    return "'" + str(value).replace("'", "''") + "'"


def render(text: str, *, path: Path, **given: type[Enum] | Fragment) -> Statement:
    """The two forms of the statement `text` (the contents of `path`); see load()."""
    names: list[str] = []
    keyword, positional = [], []
    pieces = list(_split(text))
    while pieces:
        kind, value = pieces.pop(0)
        if kind == "placeholder":
            if value not in names:
                names.append(value)
            keyword.append(f"%({value})s")
            positional.append(f"${names.index(value) + 1}")
        elif kind == "marker" and value[1] is None:
            # A fragment is read as the statement is: its placeholders and enum markers too.
            pieces[:0] = _split(_marker(value, path=path, given=given))
        elif kind == "marker":
            written = _marker(value, path=path, given=given)
            keyword.append(written.replace("%", "%%"))
            positional.append(written)
        else:  # psycopg reads any other % as a placeholder, in a literal too
            keyword.append(value.replace("%", "%%"))
            positional.append(value)
    return Statement(
        path=path,
        sql=_tidy("".join(keyword)),
        positional=_tidy("".join(positional)),
        names=tuple(names),
    )


def load(path: Path, **given: type[Enum] | Fragment) -> Statement:
    """Read the statement in `path` once, its `{Name.MEMBER}` markers written from the enums
    and its `{name}` markers from the fragments `given` by keyword."""
    return render(path.read_text(), path=path, **given)


def _split(text: str):
    """(kind, value) pieces of `text`: "text", "placeholder", "marker"."""
    position = 0
    for match in _TOKENS.finditer(text):
        if match.start() > position:
            yield "text", text[position : match.start()]
        position = match.end()
        if match["comment"] is not None:
            continue
        if match["dollar"] is not None:
            # $n and $$ belong to functions, which live in migrations: a statement here
            # has named placeholders only, and its $n are made by Statement.positional.
            raise SQLFileError("a statement file has :name placeholders, not $ parameters")
        if match["placeholder"] is not None:
            yield "placeholder", match["placeholder"]
        elif match["marker"] is not None:
            yield "marker", (match["marker"], match["member"])
        else:
            yield "text", match[0]
    yield "text", text[position:]


def _marker(value: tuple[str, str | None], *, path: Path, given: Mapping) -> str:
    name, member = value
    if name not in given:
        raise SQLFileError(f"{path.name}: {{{name}...}} names nothing load() was given")
    source = given[name]
    if member is None:
        if not isinstance(source, Fragment):
            raise SQLFileError(f"{path.name}: {{{name}}} must be given a Fragment")
        return source
    if not (isinstance(source, type) and issubclass(source, Enum)):
        raise SQLFileError(f"{path.name}: {{{name}.{member}}} must be given an enum")
    if member not in source.__members__:
        raise SQLFileError(f"{path.name}: {source.__name__} has no member {member}")
    return _literal(source[member].value)


def _tidy(text: str) -> str:
    """Without the lines the comments left empty, nor trailing spaces."""
    return "\n".join(line.rstrip() for line in text.splitlines() if line.strip())
