"""PostgreSQL for scripts/backup.py: the libpq keywords of a DATABASE_URL, a conninfo for
pg_dump and pg_restore whose password travels in PGPASSWORD (never on a command line that
`ps` shows), which pg_dump and pg_restore to run (PG_BIN, else the newest of the PATH's and
the embedded server's, as a client dumps servers up to its own version), and the rows of
every table, which the manifest records and a restore compares."""

from __future__ import annotations

import functools
import os
import re
import shutil
import subprocess
from pathlib import Path

import psycopg2
from psycopg2 import sql
from psycopg2.extensions import make_dsn, parse_dsn

from scripts.backup_files import BackupError

_TABLES = """
    SELECT n.nspname, c.relname
    FROM pg_class c JOIN pg_namespace n ON n.oid = c.relnamespace
    WHERE c.relkind = 'r' AND n.nspname NOT IN ('pg_catalog', 'information_schema')
      AND n.nspname NOT LIKE 'pg\\_%'
    ORDER BY 1, 2
"""


# Connections ---------------------------------------------------------------------------------


def connection_params(url: str) -> dict[str, str]:
    """libpq's keywords for a DATABASE_URL (django-environ's psql:// and pgsql:// too)."""
    url = re.sub(r"^(psql|pgsql)://", "postgresql://", url.strip())
    try:
        return parse_dsn(url)
    except psycopg2.ProgrammingError as error:
        raise BackupError(f"not a PostgreSQL URL: {error}") from error


def _client(params: dict[str, str]) -> tuple[str, dict[str, str]]:
    """A conninfo string without the password, and the environment that carries it."""
    params = dict(params)
    env = {**os.environ}
    password = params.pop("password", None)
    if password:
        env["PGPASSWORD"] = password
    return make_dsn(**params), env


def _candidates(name: str) -> list[str]:
    """PG_BIN's tool when set; else the PATH's and the one of the embedded PostgreSQL
    (pgserver, a server newer than Debian's client): the newest of them is used, as a
    pg_dump dumps servers up to its own version."""
    directory = os.environ.get("PG_BIN")
    if directory:
        return [str(Path(directory) / name)]
    found = [shutil.which(name)]
    try:
        import pgserver

        found.append(str(Path(pgserver.__file__).parent / "pginstall" / "bin" / name))
    except ImportError:
        pass
    return [path for path in found if path and Path(path).exists()]


@functools.cache
def _tool(name: str) -> str:
    paths = _candidates(name)
    if not paths:
        raise BackupError(f"{name} not found (install the PostgreSQL client or set PG_BIN)")
    return max(paths, key=lambda path: _major(_version(path)))


def _version(path: str) -> str:
    result = subprocess.run(  # nosec B603 # a PostgreSQL client tool, fixed arguments
        [path, "--version"], capture_output=True, text=True
    )
    return result.stdout


def _major(version_text: str) -> int:
    match = re.search(r"(\d+)(?:\.\d+)?", version_text)
    if match is None:
        raise BackupError(f"unreadable version: {version_text!r}")
    return int(match.group(1))


def _tool_major(name: str) -> int:
    return _major(_version(_tool(name)))


def table_counts(cursor) -> dict[str, int]:
    """{schema.table: rows} of every ordinary table, in the cursor's snapshot."""
    cursor.execute(_TABLES)
    counts = {}
    for schema, name in cursor.fetchall():
        cursor.execute(sql.SQL("SELECT count(*) FROM {}").format(sql.Identifier(schema, name)))
        counts[f"{schema}.{name}"] = cursor.fetchone()[0]
    return counts
