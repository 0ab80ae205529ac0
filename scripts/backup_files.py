"""The backups' key and files, shared by `create` and `restore` of scripts/backup.py (whose
docstring tells the whole command): the error they report, the names of a backup's files,
BACKUP_KEY read as an age identity, the manifest's path beside its dump, the temporary plain
dump that only its owner may read, and a file's SHA-256."""

from __future__ import annotations

import contextlib
import hashlib
import os
import shutil
import tempfile
from collections.abc import Iterator
from pathlib import Path

import pyrage
from pyrage import x25519

PREFIX = "epassport-"
STAMP = "%Y%m%dT%H%M%SZ"
ENCRYPTED = ".dump.age"
ENCRYPTION = "age-x25519"
_KEY_HELP = "an age secret key, AGE-SECRET-KEY-1..., as age-keygen writes"


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
    on leaving, whatever happened (SIGTERM included: see scripts/backup.py's main)."""
    directory = Path(tempfile.mkdtemp(prefix="epassport-backup-"))
    plain = directory / name
    try:
        _create_private(plain)
        yield plain
    finally:
        plain.unlink(missing_ok=True)
        shutil.rmtree(directory, ignore_errors=True)


def _sha256(path: Path) -> str:
    digest = hashlib.sha256()
    with path.open("rb") as stream:
        for block in iter(lambda: stream.read(1 << 20), b""):
            digest.update(block)
    return digest.hexdigest()
