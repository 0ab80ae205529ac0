"""Back up the portal's PostgreSQL database, and restore a backup into a new database.

    python scripts/backup.py create [--output-dir backups] [--keep N]
    python scripts/backup.py restore backups/epassport-20251124T023000Z.dump \\
        --into postgres://postgres@db2:5432/epassport_restored [--create]

`create` writes a compressed dump of the database of DATABASE_URL (`--database-url` to
name another) in pg_dump's custom format, `epassport-<UTC time>.dump`, and beside it a
manifest, `epassport-<UTC time>.json`: the dump's SHA-256 and the number of rows of every
table, counted in the very snapshot that pg_dump reads (pg_export_snapshot), so that the
counts are exact even while the portal keeps booking. Both files are readable by their owner
only: they hold applicants' personal data. `--keep N` then deletes all but the N newest
backups of the directory.

`restore` checks the dump against its manifest's SHA-256, restores it into the database of
`--into` (created with `--create`; an existing database must be empty: a restore never
overwrites data), in one transaction that stops at the first error, without the original
owner and grants, runs ANALYZE, then counts the rows of every table and compares them with
the manifest: the exit status is 0 only when every table has its rows back.

pg_dump and pg_restore come from PG_BIN (a directory) when set, else the newest of the
PATH's and the embedded PostgreSQL's (pgserver, version 16, as `make run` runs); their
major version must be at least the server's. Passwords go to them
through PGPASSWORD, never on a command line that `ps` shows. docs/operations.md tells when
to run it and how to rehearse a restore.
"""

from __future__ import annotations

import argparse
import functools
import hashlib
import json
import os
import re
import shutil
import subprocess
import sys
from datetime import UTC, datetime
from pathlib import Path

import psycopg2
from psycopg2 import sql
from psycopg2.extensions import ISOLATION_LEVEL_REPEATABLE_READ, make_dsn, parse_dsn

PREFIX = "epassport-"
_TABLES = """
    SELECT n.nspname, c.relname
    FROM pg_class c JOIN pg_namespace n ON n.oid = c.relnamespace
    WHERE c.relkind = 'r' AND n.nspname NOT IN ('pg_catalog', 'information_schema')
      AND n.nspname NOT LIKE 'pg\\_%'
    ORDER BY 1, 2
"""


class BackupError(Exception):
    """A failure to report in one line, with exit status 1."""


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


def _sha256(path: Path) -> str:
    digest = hashlib.sha256()
    with path.open("rb") as stream:
        for block in iter(lambda: stream.read(1 << 20), b""):
            digest.update(block)
    return digest.hexdigest()


# Backup --------------------------------------------------------------------------------------


def backup_create(*, database_url: str, output_dir: Path, now: datetime | None = None) -> Path:
    """Dump the database into output_dir and write its manifest; returns the dump's path."""
    params = connection_params(database_url)
    conninfo, env = _client(params)
    pg_dump = _tool("pg_dump")
    output_dir.mkdir(parents=True, exist_ok=True, mode=0o700)
    stamp = (now or datetime.now(UTC)).strftime("%Y%m%dT%H%M%SZ")
    dump = output_dir / f"{PREFIX}{stamp}.dump"
    manifest = dump.with_suffix(".json")
    partial = dump.with_suffix(".dump.partial")
    if dump.exists():
        raise BackupError(f"{dump} exists already")

    connection = psycopg2.connect(**params)
    try:
        connection.set_session(isolation_level=ISOLATION_LEVEL_REPEATABLE_READ, readonly=True)
        with connection.cursor() as cursor:
            # One snapshot for the counts and for pg_dump: the manifest describes exactly
            # the rows of the dump, whatever the portal writes meanwhile.
            cursor.execute("SELECT pg_export_snapshot(), current_setting('server_version')")
            snapshot, server_version = cursor.fetchone()
            if _tool_major("pg_dump") < _major(server_version):
                raise BackupError(
                    f"pg_dump {_tool_major('pg_dump')} cannot dump a PostgreSQL "
                    f"{server_version} server: set PG_BIN to a newer client"
                )
            counts = table_counts(cursor)
            old_umask = os.umask(0o077)
            try:
                result = subprocess.run(  # nosec B603 # pg_dump, arguments built here
                    [
                        pg_dump,
                        "--format=custom",
                        "--compress=6",
                        "--no-password",
                        f"--snapshot={snapshot}",
                        f"--file={partial}",
                        f"--dbname={conninfo}",
                    ],
                    env=env,
                    capture_output=True,
                    text=True,
                )
            finally:
                os.umask(old_umask)
            if result.returncode != 0:
                partial.unlink(missing_ok=True)
                raise BackupError(f"pg_dump failed: {result.stderr.strip()}")
        connection.rollback()
    finally:
        connection.close()

    partial.rename(dump)
    record = {
        "format": 1,
        "dump": dump.name,
        "sha256": _sha256(dump),
        "created_at": stamp,
        "database": params.get("dbname", ""),
        "server_version": server_version,
        "tables": counts,
    }
    old_umask = os.umask(0o077)
    try:
        manifest.write_text(json.dumps(record, indent=1, sort_keys=True) + "\n")
    finally:
        os.umask(old_umask)
    return dump


def backups_prune(*, output_dir: Path, keep: int) -> list[Path]:
    """Delete all but the `keep` newest backups (dump and manifest); returns the deleted."""
    dumps = sorted(output_dir.glob(f"{PREFIX}*.dump"), reverse=True)  # names sort by time
    deleted = []
    for dump in dumps[keep:]:
        for path in (dump, dump.with_suffix(".json")):
            if path.exists():
                path.unlink()
                deleted.append(path)
    return deleted


# Restore -------------------------------------------------------------------------------------


def _prepare_target(params: dict[str, str], *, create: bool) -> None:
    """Create the target database (with `create`), or check that it exists and is empty."""
    name = params.get("dbname")
    if not name:
        raise BackupError("the target URL names no database")
    maintenance = psycopg2.connect(**{**params, "dbname": "postgres"})
    maintenance.autocommit = True
    try:
        with maintenance.cursor() as cursor:
            cursor.execute("SELECT 1 FROM pg_database WHERE datname = %s", [name])
            exists = cursor.fetchone() is not None
            if not exists and not create:
                raise BackupError(f"database {name!r} does not exist (add --create)")
            if not exists:
                cursor.execute(
                    sql.SQL("CREATE DATABASE {} TEMPLATE template0 ENCODING 'UTF8'").format(
                        sql.Identifier(name)
                    )
                )
                return
    finally:
        maintenance.close()
    target = psycopg2.connect(**params)
    try:
        with target.cursor() as cursor:
            tables = table_counts(cursor)
    finally:
        target.close()
    if tables:
        raise BackupError(
            f"database {name!r} already has {len(tables)} tables: a restore goes into a new or "
            "empty database, never over data"
        )


def backup_restore(*, dump: Path, target_url: str, create: bool = False) -> dict[str, int]:
    """Restore `dump` into the target database and check every table's rows against the
    manifest; returns the restored counts."""
    manifest_path = dump.with_suffix(".json")
    if not dump.is_file():
        raise BackupError(f"{dump}: no such dump")
    if not manifest_path.is_file():
        raise BackupError(f"{manifest_path}: no manifest beside the dump")
    manifest = json.loads(manifest_path.read_text())
    if _sha256(dump) != manifest["sha256"]:
        raise BackupError(f"{dump}: its SHA-256 differs from the manifest's (damaged copy?)")

    params = connection_params(target_url)
    conninfo, env = _client(params)
    _prepare_target(params, create=create)
    result = subprocess.run(  # nosec B603 # pg_restore, arguments built here
        [
            _tool("pg_restore"),
            "--no-owner",
            "--no-privileges",
            "--exit-on-error",
            "--single-transaction",
            "--no-password",
            f"--dbname={conninfo}",
            str(dump),
        ],
        env=env,
        capture_output=True,
        text=True,
    )
    if result.returncode != 0:
        raise BackupError(f"pg_restore failed: {result.stderr.strip()}")

    target = psycopg2.connect(**params)
    target.autocommit = True
    try:
        with target.cursor() as cursor:
            cursor.execute("ANALYZE")  # the planner's statistics are not in a dump
            counts = table_counts(cursor)
    finally:
        target.close()
    expected = manifest["tables"]
    wrong = {
        table: (expected.get(table), counts.get(table))
        for table in sorted(set(expected) | set(counts))
        if expected.get(table) != counts.get(table)
    }
    if wrong:
        lines = [
            f"  {table}: {want} in the backup, {got} restored"
            for table, (want, got) in wrong.items()
        ]
        raise BackupError("the restored rows differ from the backup's:\n" + "\n".join(lines))
    return counts


# Command line --------------------------------------------------------------------------------


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    commands = parser.add_subparsers(dest="command", required=True)
    create = commands.add_parser("create", help="dump the database and write its manifest")
    create.add_argument("--database-url", default=os.environ.get("DATABASE_URL"))
    create.add_argument("--output-dir", type=Path, default=Path("backups"))
    create.add_argument("--keep", type=int, help="then keep only the N newest backups")
    restore = commands.add_parser("restore", help="restore a dump into a new database")
    restore.add_argument("dump", type=Path)
    restore.add_argument("--into", required=True, help="URL of the database to restore into")
    restore.add_argument("--create", action="store_true", help="create that database")
    args = parser.parse_args(argv)
    try:
        if args.command == "create":
            if not args.database_url:
                raise BackupError("set DATABASE_URL or give --database-url")
            if args.keep is not None and args.keep < 1:
                raise BackupError("--keep must be at least 1")
            dump = backup_create(database_url=args.database_url, output_dir=args.output_dir)
            print(dump)
            if args.keep is not None:
                for path in backups_prune(output_dir=args.output_dir, keep=args.keep):
                    print(f"deleted {path}")
        else:
            counts = backup_restore(dump=args.dump, target_url=args.into, create=args.create)
            print(f"restored {len(counts)} tables, {sum(counts.values())} rows, as in the backup")
    except (BackupError, psycopg2.Error) as error:
        print(f"backup.py: {error}".strip(), file=sys.stderr)
        return 1
    return 0


if __name__ == "__main__":
    sys.exit(main())
