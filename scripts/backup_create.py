"""`create` of scripts/backup.py (whose docstring tells the whole command): the database
dumped by pg_dump into a plain temporary file, encrypted with age to BACKUP_KEY's recipient
and read back through age, and its manifest (the encrypted file's SHA-256, the recipient, the
rows of every table counted in the very snapshot that pg_dump reads)."""

from __future__ import annotations

import json
import os
import subprocess
from datetime import UTC, datetime
from pathlib import Path

import psycopg2
import pyrage
from psycopg2.extensions import ISOLATION_LEVEL_REPEATABLE_READ

from scripts.backup_files import (
    ENCRYPTED,
    ENCRYPTION,
    PREFIX,
    STAMP,
    BackupError,
    _create_private,
    _plain_file,
    _sha256,
    backup_identity,
    manifest_path,
)
from scripts.backup_postgres import (
    _client,
    _major,
    _tool,
    _tool_major,
    connection_params,
    table_counts,
)


def backup_create(
    *, database_url: str, output_dir: Path, now: datetime | None = None, key: str | None = None
) -> Path:
    """Dump the database, encrypted to the recipient of `key` (default BACKUP_KEY), into
    output_dir and write its manifest; returns the encrypted dump's path."""
    identity = backup_identity(key)  # before anything is written
    recipient = identity.to_public()
    params = connection_params(database_url)
    conninfo, env = _client(params)
    pg_dump = _tool("pg_dump")
    stamp = (now or datetime.now(UTC)).strftime(STAMP)
    dump = output_dir / f"{PREFIX}{stamp}{ENCRYPTED}"
    manifest = manifest_path(dump)
    partial = dump.with_name(dump.name + ".partial")
    if dump.exists() or manifest.exists():
        raise BackupError(f"{dump} exists already")
    output_dir.mkdir(parents=True, exist_ok=True, mode=0o700)

    with _plain_file(f"{PREFIX}{stamp}.dump") as plain:
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
                result = subprocess.run(  # nosec B603 # pg_dump, arguments built here
                    [
                        pg_dump,
                        "--format=custom",
                        "--compress=6",
                        "--no-password",
                        f"--snapshot={snapshot}",
                        f"--file={plain}",
                        f"--dbname={conninfo}",
                    ],
                    env=env,
                    capture_output=True,
                    text=True,
                )
                if result.returncode != 0:
                    raise BackupError(f"pg_dump failed: {result.stderr.strip()}")
            connection.rollback()
        finally:
            connection.close()

        try:
            _create_private(partial)
            # Streamed from file to file (see scripts/backup.py's docstring), then read back
            # through age: a backup that does not decrypt, to its last byte, is no backup.
            pyrage.encrypt_file(str(plain), str(partial), [recipient])
            pyrage.decrypt_file(str(partial), os.devnull, [identity])
            partial.rename(dump)
        except (pyrage.EncryptError, pyrage.DecryptError, OSError) as error:
            raise BackupError(f"encrypting the dump failed: {error}") from error
        finally:
            partial.unlink(missing_ok=True)  # (none left after the rename)

    record = {
        "format": 2,
        "encryption": ENCRYPTION,
        "recipient": str(recipient),
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
