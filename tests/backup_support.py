"""Helpers shared by the tests of scripts/backup.py (test_backup_create.py,
test_backup_restore.py): the script run with an environment of the test's choosing, a
backup of this test's database, a BACKUP_KEY of its own, a backup's manifest, the URL of
another database of the same server, and a TMPDIR of the test's own."""

import os
import subprocess
import sys
from pathlib import Path

from django.db import connection
from pyrage import x25519

from tests.support import database_url

ROOT = Path(__file__).resolve().parent.parent
SCRIPT = ROOT / "scripts" / "backup.py"


def run(*args: str, **env: str) -> subprocess.CompletedProcess:
    return subprocess.run(
        [sys.executable, str(SCRIPT), *args],
        cwd=ROOT,
        env={**os.environ, **env},
        capture_output=True,
        text=True,
        timeout=300,
    )


def create_in(output: Path, *options: str, **env: str) -> subprocess.CompletedProcess:
    """`backup.py create --output-dir output`, of this test's database unless `env` names
    another, with `env` (BACKUP_KEY, TMPDIR, ...) in its environment."""
    env.setdefault("DATABASE_URL", database_url())
    return run("create", "--output-dir", str(output), *options, **env)


def new_key() -> str:
    """A BACKUP_KEY of its own: an age secret key."""
    return str(x25519.Identity.generate())


def manifest_of(dump: Path) -> Path:
    return dump.with_name(dump.name.removesuffix(".dump.age") + ".json")


def url_of(name: str) -> str:
    return database_url().replace(f"/{connection.settings_dict['NAME']}?", f"/{name}?")


def tmpdir_env(tmp_path: Path) -> dict[str, str]:
    """A TMPDIR of the test's own, where the script's plain dumps go (and must not stay)."""
    directory = tmp_path / "tmp"
    directory.mkdir(exist_ok=True)
    return {"TMPDIR": str(directory)}
