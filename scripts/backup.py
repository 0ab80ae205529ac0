"""Back up the portal's PostgreSQL database, encrypted, and restore a backup into a new
database.

    BACKUP_KEY=AGE-SECRET-KEY-1... python scripts/backup.py create \\
        [--output-dir backups] [--keep N]
    BACKUP_KEY=AGE-SECRET-KEY-1... python scripts/backup.py restore \\
        backups/epassport-20251124T023000Z.dump.age \\
        --into postgres://postgres@db2:5432/epassport_restored [--create]

BACKUP_KEY, in the environment of both, is an age secret key: `AGE-SECRET-KEY-1...`, as
`age-keygen` writes it (the text of its key file, comment lines included, is accepted too) or
`pyrage.x25519.Identity.generate()` makes it. Backups are encrypted to its public recipient
(`age1...`, which `age-keygen -y key.txt` prints) and only that secret key decrypts them:
keep it outside the machine that holds the backups. Without it, `create` writes nothing and
exits with status 1.

`create` dumps the database of DATABASE_URL (`--database-url` to name another) in pg_dump's
compressed custom format into a temporary file readable by its owner only, in a new
directory of TMPDIR (the system's temporary directory, which needs room for one dump; on a
small tmpfs, set TMPDIR to a directory on a disk). It encrypts that file with age (X25519)
to `epassport-<UTC time>.dump.age`, reads the encrypted file back through age once (the file
written decrypts with the key, to its last byte), and deletes the plain file in every case:
success, failure of pg_dump or of the encryption, Ctrl-C or SIGTERM. Beside it, a manifest,
`epassport-<UTC time>.json` (format 2): the encrypted file's SHA-256, `"encryption":
"age-x25519"`, the recipient, and the number of rows of every table, counted in the very
snapshot that pg_dump reads (pg_export_snapshot), so that the counts are exact even while
the portal keeps booking. Both files are readable by their owner only.

The encryption is pyrage's (the age format, by the Rust `age` library): `encrypt_file` and
`decrypt_file`, which stream from file to file in 64 KiB chunks, so their memory stays at a
few hundred KiB whatever the size of the dump (pyrage's `encrypt` and `decrypt` would hold
the whole dump in memory, more than once). An operator decrypts a backup by hand with the `age`
command-line tool, key.txt holding BACKUP_KEY:

    age -d -i key.txt -o epassport.dump backups/epassport-20251124T023000Z.dump.age

After a successful `create`, the backups of the output directory (a dump, encrypted or a
plain `.dump` of format 1, and its manifest) whose time in the name is more than
BACKUP_KEEP_DAYS days old (default 35) are deleted, and with `--keep N` all but the N newest
backups: both rules apply, and each deleted path is printed.

`restore` checks the `.dump.age` against its manifest's SHA-256 and BACKUP_KEY against the
manifest's recipient, creates the database of `--into` (with `--create`; an existing database
must be empty: a restore never overwrites data), decrypts the backup into a temporary file
readable by its owner only, in a new directory of TMPDIR, restores it in one transaction
that stops at the first error, without the original owner and grants, and deletes the plain
file in every case. It runs ANALYZE, counts the rows of every table and compares them with
the manifest. Then it runs the portal's erasure of personal data on the restored database
(`python manage.py erase_personal_data`, with this Python, from the repository's root, with
DATABASE_URL set to `--into`), and prints its output: a backup holds the identity data of
applicants erased since it was taken, and the erasure takes it away again before anyone
uses the copy. The exit status is 0 only when every table has its rows back and the erasure
ran. When the erasure fails, the data is restored but must not be used before
`python manage.py erase_personal_data` succeeds on it (for a backup of an older release,
after `python manage.py migrate`). No key, or another key than the manifest's recipient,
fails before any database is created; a key that age itself refuses fails with a clear
error too. A backup of format 1 (a plain `.dump`, from before encryption) is restored as it
is.

pg_dump and pg_restore come from PG_BIN (a directory) when set, else the newest of the
PATH's and the embedded PostgreSQL's (pgserver, version 16, as `make run` runs); their
major version must be at least the server's. Passwords go to them
through PGPASSWORD, never on a command line that `ps` shows. docs/operations.md tells when
to run it and how to rehearse a restore.
"""

from __future__ import annotations

import argparse
import contextlib
import functools
import hashlib
import json
import os
import re
import shutil
import signal
import subprocess
import sys
import tempfile
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from pathlib import Path

import psycopg2
import pyrage
from psycopg2 import sql
from psycopg2.extensions import ISOLATION_LEVEL_REPEATABLE_READ, make_dsn, parse_dsn
from pyrage import x25519

ROOT = Path(__file__).resolve().parent.parent
PREFIX = "epassport-"
STAMP = "%Y%m%dT%H%M%SZ"
ENCRYPTED = ".dump.age"
ENCRYPTION = "age-x25519"
# A backup's files: `<PREFIX><UTC time>` then .dump.age, .dump (format 1, plain) or .json.
_BACKUP_FILE = re.compile(rf"^{PREFIX}(\d{{8}}T\d{{6}}Z)(\.dump\.age|\.dump|\.json)$")
# A month of daily backups plus a margin, to notice a problem (a night that failed, a copy
# that is damaged) before the last good backup of that month is deleted.
KEEP_DAYS = 35
_KEY_HELP = "an age secret key, AGE-SECRET-KEY-1..., as age-keygen writes"
_TABLES = """
    SELECT n.nspname, c.relname
    FROM pg_class c JOIN pg_namespace n ON n.oid = c.relnamespace
    WHERE c.relkind = 'r' AND n.nspname NOT IN ('pg_catalog', 'information_schema')
      AND n.nspname NOT LIKE 'pg\\_%'
    ORDER BY 1, 2
"""


class BackupError(Exception):
    """A failure to report in one line, with exit status 1."""


# Key and files -------------------------------------------------------------------------------


def backup_identity(key: str | None = None) -> x25519.Identity:
    """The age identity of `key`, else of BACKUP_KEY. Never shows the key in an error."""
    text = os.environ.get("BACKUP_KEY", "") if key is None else key
    lines = [line.strip() for line in text.splitlines()]
    lines = [line for line in lines if line and not line.startswith("#")]
    if not lines:
        raise BackupError(f"set BACKUP_KEY to the backups' key ({_KEY_HELP})")
    if len(lines) > 1:
        raise BackupError(f"BACKUP_KEY holds more than one key: give one ({_KEY_HELP})")
    try:
        return x25519.Identity.from_str(lines[0])
    except pyrage.IdentityError:
        raise BackupError(f"BACKUP_KEY is not {_KEY_HELP}") from None


def keep_days(value: str | None = None) -> int:
    """BACKUP_KEEP_DAYS (or `value`): days a backup is kept, KEEP_DAYS when unset."""
    text = (os.environ.get("BACKUP_KEEP_DAYS", "") if value is None else value).strip()
    if not text:
        return KEEP_DAYS
    if not text.isdigit() or int(text) < 1:
        raise BackupError(f"BACKUP_KEEP_DAYS must be a whole number of days, at least 1: {text!r}")
    return int(text)


def manifest_path(dump: Path) -> Path:
    """`epassport-<UTC time>.json` beside `epassport-<UTC time>.dump.age` (or `.dump`)."""
    for suffix in (ENCRYPTED, ".dump"):
        if dump.name.endswith(suffix):
            return dump.with_name(dump.name.removesuffix(suffix) + ".json")
    raise BackupError(f"{dump}: not a backup (its name ends neither in {ENCRYPTED} nor .dump)")


def _create_private(path: Path) -> None:
    """Create `path` empty, readable and writable by its owner only (0600, whatever the
    umask): the tools that then write into it keep that mode."""
    os.close(os.open(path, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600))
    path.chmod(0o600)


@contextlib.contextmanager
def _plain_file(name: str) -> Iterator[Path]:
    """A path for a plain (unencrypted) dump, created empty with mode 0600 in a new directory
    of TMPDIR that only the owner may enter (0700); the file and the directory are deleted
    on leaving, whatever happened (SIGTERM included: see main)."""
    directory = Path(tempfile.mkdtemp(prefix="epassport-backup-"))
    plain = directory / name
    try:
        _create_private(plain)
        yield plain
    finally:
        plain.unlink(missing_ok=True)
        shutil.rmtree(directory, ignore_errors=True)


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
            # Streamed from file to file (see the module's docstring), then read back
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


def _backups(output_dir: Path) -> dict[str, list[Path]]:
    """{UTC time in the name: the files of that backup} of the directory."""
    found: dict[str, list[Path]] = {}
    for path in output_dir.iterdir() if output_dir.is_dir() else ():
        match = _BACKUP_FILE.match(path.name)
        if match and path.is_file():
            found.setdefault(match.group(1), []).append(path)
    return found


def _delete(paths: list[Path]) -> list[Path]:
    deleted = []
    for path in sorted(paths, key=lambda path: (path.suffix == ".json", path.name)):
        path.unlink(missing_ok=True)
        deleted.append(path)
    return deleted


def backups_prune(*, output_dir: Path, keep: int) -> list[Path]:
    """Delete all but the `keep` newest backups (dump and manifest); returns the deleted."""
    backups = _backups(output_dir)
    with_dump = [
        stamp for stamp, paths in backups.items() if any(p.suffix != ".json" for p in paths)
    ]
    deleted = []
    for stamp in sorted(with_dump, reverse=True)[keep:]:  # names sort by time
        deleted += _delete(backups[stamp])
    return deleted


def backups_expire(*, output_dir: Path, days: int, now: datetime | None = None) -> list[Path]:
    """Delete the backups (dump and manifest) whose time in the name is more than `days`
    days before `now`; returns the deleted."""
    cutoff = (now or datetime.now(UTC)) - timedelta(days=days)
    deleted = []
    for stamp, paths in sorted(_backups(output_dir).items()):
        try:
            made = datetime.strptime(stamp, STAMP).replace(tzinfo=UTC)
        except ValueError:  # digits that are no time: not one of ours
            continue
        if made < cutoff:
            deleted += _delete(paths)
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


# Command line --------------------------------------------------------------------------------


def _exit_on_sigterm(signum: int, _frame) -> None:
    """SIGTERM (a timer's stop, `kill`) as an exit: the `finally` blocks still delete the
    plain dump, as they do on Ctrl-C."""
    raise SystemExit(128 + signum)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    commands = parser.add_subparsers(dest="command", required=True)
    create = commands.add_parser("create", help="dump the database, encrypted, and a manifest")
    create.add_argument("--database-url", default=os.environ.get("DATABASE_URL"))
    create.add_argument("--output-dir", type=Path, default=Path("backups"))
    create.add_argument("--keep", type=int, help="then keep only the N newest backups")
    restore = commands.add_parser("restore", help="restore a backup into a new database")
    restore.add_argument("dump", type=Path, help=f"the backup, epassport-<UTC time>{ENCRYPTED}")
    restore.add_argument("--into", required=True, help="URL of the database to restore into")
    restore.add_argument("--create", action="store_true", help="create that database")
    args = parser.parse_args(argv)
    signal.signal(signal.SIGTERM, _exit_on_sigterm)
    try:
        if args.command == "create":
            if not args.database_url:
                raise BackupError("set DATABASE_URL or give --database-url")
            if args.keep is not None and args.keep < 1:
                raise BackupError("--keep must be at least 1")
            backup_identity()
            days = keep_days()
            now = datetime.now(UTC)
            dump = backup_create(
                database_url=args.database_url, output_dir=args.output_dir, now=now
            )
            print(dump)
            deleted = backups_expire(output_dir=args.output_dir, days=days, now=now)
            if args.keep is not None:
                deleted += backups_prune(output_dir=args.output_dir, keep=args.keep)
            for path in deleted:
                print(f"deleted {path}")
        else:
            counts, erasure = backup_restore(
                dump=args.dump, target_url=args.into, create=args.create
            )
            print(f"restored {len(counts)} tables, {sum(counts.values())} rows, as in the backup")
            print("personal data erased on the restored database (manage.py erase_personal_data):")
            print(erasure, end="")
    except (BackupError, psycopg2.Error) as error:
        print(f"backup.py: {error}".strip(), file=sys.stderr)
        return 1
    return 0


if __name__ == "__main__":
    sys.exit(main())
