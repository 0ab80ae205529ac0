"""`restore` of scripts/backup.py (whose docstring tells the whole command): the dump checked
against its manifest and BACKUP_KEY against the manifest's recipient, the target database
created or found empty, the dump decrypted into a plain temporary file and restored by
pg_restore in one transaction, every table's rows compared with the manifest, then the
portal's erasure of personal data run on the restored database."""

from __future__ import annotations

import contextlib
import json
import os
import subprocess
import sys
from pathlib import Path

import psycopg2
import pyrage
from psycopg2 import sql

from scripts.backup_files import (
    ENCRYPTION,
    BackupError,
    _plain_file,
    _sha256,
    backup_identity,
    manifest_path,
)
from scripts.backup_postgres import _client, _tool, connection_params, table_counts

ROOT = Path(__file__).resolve().parent.parent


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


def backup_restore(
    *, dump: Path, target_url: str, create: bool = False, key: str | None = None
) -> tuple[dict[str, int], str]:
    """Restore `dump` into the target database, check every table's rows against the
    manifest, then erase there the personal data due for erasure; returns the restored
    counts and what the erasure printed."""
    manifest_file = manifest_path(dump)
    if not dump.is_file():
        raise BackupError(f"{dump}: no such dump")
    if not manifest_file.is_file():
        raise BackupError(f"{manifest_file}: no manifest beside the dump")
    manifest = json.loads(manifest_file.read_text())
    if _sha256(dump) != manifest["sha256"]:
        raise BackupError(f"{dump}: its SHA-256 differs from the manifest's (damaged copy?)")
    encryption = manifest.get("encryption")  # none in format 1: a plain dump
    if encryption not in (None, ENCRYPTION):
        raise BackupError(f"{manifest_file}: unknown encryption {encryption!r}")
    identity = None
    if encryption:
        identity = backup_identity(key)
        expected = manifest.get("recipient")
        if expected and str(identity.to_public()) != expected:
            raise BackupError(
                f"BACKUP_KEY is not the key of {dump.name}: it was encrypted to {expected}, "
                f"BACKUP_KEY's recipient is {identity.to_public()}"
            )

    params = connection_params(target_url)
    conninfo, env = _client(params)
    _prepare_target(params, create=create)
    if identity is not None:
        plain_file = _plain_file(dump.name.removesuffix(".age"))
    else:
        plain_file = contextlib.nullcontext(dump)  # format 1: the dump is plain already
    with plain_file as plain:
        if identity is not None:
            try:
                pyrage.decrypt_file(str(dump), str(plain), [identity])
            except (pyrage.DecryptError, OSError) as error:
                raise BackupError(f"{dump}: BACKUP_KEY does not decrypt it ({error})") from error
        result = subprocess.run(  # nosec B603 # pg_restore, arguments built here
            [
                _tool("pg_restore"),
                "--no-owner",
                "--no-privileges",
                "--exit-on-error",
                "--single-transaction",
                "--no-password",
                f"--dbname={conninfo}",
                str(plain),
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
    expected_counts = manifest["tables"]
    wrong = {
        table: (expected_counts.get(table), counts.get(table))
        for table in sorted(set(expected_counts) | set(counts))
        if expected_counts.get(table) != counts.get(table)
    }
    if wrong:
        lines = [
            f"  {table}: {want} in the backup, {got} restored"
            for table, (want, got) in wrong.items()
        ]
        raise BackupError("the restored rows differ from the backup's:\n" + "\n".join(lines))
    return counts, erase_personal_data(target_url=target_url, database=params["dbname"])


def erase_personal_data(*, target_url: str, database: str) -> str:
    """Run the portal's erasure (`manage.py erase_personal_data`) on the target database:
    a backup brings back identity data erased since it was taken. Returns its output."""
    result = subprocess.run(  # nosec B603 # this Python and manage.py, fixed arguments
        [sys.executable, "manage.py", "erase_personal_data"],
        cwd=ROOT,
        env={**os.environ, "DATABASE_URL": target_url},
        capture_output=True,
        text=True,
    )
    if result.returncode != 0:
        output = (result.stderr.strip() or result.stdout.strip()).splitlines()
        raise BackupError(
            f"the data is restored into {database!r}, but the erasure of personal data did not "
            f"run ({output[-1] if output else f'exit status {result.returncode}'}): it holds "
            "identity data erased since the backup, so run `python manage.py "
            "erase_personal_data` with DATABASE_URL set to that database before any use of it"
        )
    return result.stdout
