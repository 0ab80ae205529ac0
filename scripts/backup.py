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
import os
import signal
import sys
from datetime import UTC, datetime
from pathlib import Path

import psycopg2

if __name__ == "__main__":
    # Run as a script, Python puts scripts/ first on the path: the repository goes there
    # instead, where the modules beside this one are found as scripts.backup_*.
    sys.path[0] = str(Path(__file__).resolve().parent.parent)

from scripts.backup_create import backup_create
from scripts.backup_files import ENCRYPTED, BackupError, backup_identity
from scripts.backup_restore import backup_restore
from scripts.backup_retention import backups_expire, backups_prune, keep_days

# The command's parts, by topic: backup_files.py (the key, the files' names, the plain
# temporary dump), backup_postgres.py (connections, pg_dump and pg_restore, row counts),
# backup_create.py, backup_restore.py (with the erasure) and backup_retention.py (how long
# backups are kept).

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
