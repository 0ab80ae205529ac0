"""scripts/backup.py create: backups are encrypted with BACKUP_KEY (no plain dump left
anywhere, not even after a failed pg_dump) and kept BACKUP_KEEP_DAYS days or as many as
`--keep` says; a backup without a key, without a database or with a BACKUP_KEEP_DAYS that is
no number of days is refused. Restores are tested in test_backup_restore.py."""

import json
import os
import subprocess
import sys
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest
from django.core.management import call_command
from pyrage import DecryptError, decrypt, x25519

from appointments.tests.factories import book
from production.models import PassportFile
from tests.backup_support import (
    ROOT,
    SCRIPT,
    create_in,
    manifest_of,
    new_key,
    run,
    tmpdir_env,
    url_of,
)


def stamp(days_ago: float) -> str:
    """The name of a backup made `days_ago` days ago."""
    return "epassport-" + (datetime.now(UTC) - timedelta(days=days_ago)).strftime("%Y%m%dT%H%M%SZ")


@pytest.mark.django_db(transaction=True)
def test_a_backup_is_encrypted_and_no_plain_dump_stays_anywhere(tmp_path, new_name):
    key = new_key()
    call_command("seed_demo", "--force")
    appointment = book()[0]
    demo_file = PassportFile.objects.order_by("pk").first()
    identities = [
        appointment.surname,
        appointment.national_id,
        appointment.email,
        demo_file.surname,
        demo_file.national_id,
    ]
    output = tmp_path / "backups"
    temporary = tmpdir_env(tmp_path)

    created = create_in(
        output,
        BACKUP_KEY=key,
        **temporary,
    )
    assert created.returncode == 0, created.stderr
    dump = Path(created.stdout.strip())
    data = dump.read_bytes()
    # An age file (`age -d` reads it), not pg_dump's custom format, and no identity in it.
    assert data.startswith(b"age-encryption.org/v1\n-> X25519 ")
    assert b"PGDMP" not in data
    for identity in identities:
        assert identity.encode() not in data
    manifest = json.loads(manifest_of(dump).read_text())
    assert manifest["format"] == 2
    assert manifest["encryption"] == "age-x25519"
    assert manifest["recipient"] == str(x25519.Identity.from_str(key).to_public())
    # The key, and it alone, decrypts it into pg_dump's custom format.
    assert decrypt(data, [x25519.Identity.from_str(key)]).startswith(b"PGDMP")
    with pytest.raises(DecryptError):
        decrypt(data, [x25519.Identity.generate()])
    # Nothing plain left: the output directory holds the backup, TMPDIR nothing.
    assert sorted(path.name for path in output.iterdir()) == sorted(
        [dump.name, manifest_of(dump).name]
    )
    assert list(Path(temporary["TMPDIR"]).iterdir()) == []

    restored_name = new_name()
    restored = run(
        "restore",
        str(dump),
        "--into",
        url_of(restored_name),
        "--create",
        BACKUP_KEY=key,
        **temporary,
    )
    assert restored.returncode == 0, restored.stderr
    assert list(Path(temporary["TMPDIR"]).iterdir()) == []
    assert sorted(path.name for path in output.iterdir()) == sorted(
        [dump.name, manifest_of(dump).name]
    )


# A pg_dump that writes part of a dump, tells where and with which modes, then fails.
_FAILING_PG_DUMP = """#!{python}
import json, os, sys
if sys.argv[1:] == ["--version"]:
    print("pg_dump (PostgreSQL) 99.0")
    sys.exit(0)
path = next(arg for arg in sys.argv if arg.startswith("--file="))[len("--file="):]
with open(path, "wb") as stream:
    stream.write(b"PGDMP half a dump")
modes = [os.stat(name).st_mode & 0o777 for name in (path, os.path.dirname(path))]
with open({seen!r}, "w") as stream:
    json.dump({{"path": path, "modes": modes}}, stream)
sys.exit(1)
"""


@pytest.mark.django_db(transaction=True)
def test_a_failed_dump_leaves_no_plain_file_and_it_is_the_owners_alone_meanwhile(tmp_path):
    bin_dir = tmp_path / "bin"
    bin_dir.mkdir()
    seen = tmp_path / "seen.json"
    fake = bin_dir / "pg_dump"
    fake.write_text(_FAILING_PG_DUMP.format(python=sys.executable, seen=str(seen)))
    fake.chmod(0o755)
    output = tmp_path / "backups"
    temporary = tmpdir_env(tmp_path)
    result = create_in(
        output,
        BACKUP_KEY=new_key(),
        PG_BIN=str(bin_dir),
        **temporary,
    )
    assert result.returncode == 1
    assert "pg_dump failed" in result.stderr
    written = json.loads(seen.read_text())
    assert Path(written["path"]).is_relative_to(temporary["TMPDIR"])
    assert written["modes"] == [0o600, 0o700]
    assert not Path(written["path"]).exists()
    assert list(Path(temporary["TMPDIR"]).iterdir()) == []
    assert list(output.iterdir()) == []


def test_a_backup_without_backup_key_writes_nothing(tmp_path):
    output = tmp_path / "backups"
    nowhere = "postgres://postgres@127.0.0.1:1/none"  # never reached
    missing = create_in(output, DATABASE_URL=nowhere, BACKUP_KEY="")
    assert missing.returncode == 1
    assert "set BACKUP_KEY" in missing.stderr
    assert len(missing.stderr.strip().splitlines()) == 1
    wrong = create_in(
        output,
        DATABASE_URL=nowhere,
        BACKUP_KEY="AGE-SECRET-KEY-1NOTAKEY",
    )
    assert wrong.returncode == 1
    assert "BACKUP_KEY is not an age secret key" in wrong.stderr
    assert "NOTAKEY" not in wrong.stderr
    assert not output.exists()


@pytest.mark.django_db(transaction=True)
def test_keep_deletes_all_but_the_newest_backups(tmp_path):
    old = [stamp(2), stamp(1)]
    for name in old:
        (tmp_path / f"{name}.dump.age").write_bytes(b"old")
        (tmp_path / f"{name}.json").write_text("{}")
    created = create_in(
        tmp_path,
        "--keep",
        "2",
        BACKUP_KEY=new_key(),
    )
    assert created.returncode == 0, created.stderr
    newest = Path(created.stdout.splitlines()[0])
    assert sorted(path.name for path in tmp_path.iterdir()) == sorted(
        [f"{old[1]}.dump.age", f"{old[1]}.json", newest.name, manifest_of(newest).name]
    )
    assert f"deleted {tmp_path / f'{old[0]}.dump.age'}" in created.stdout


@pytest.mark.django_db(transaction=True)
def test_backups_older_than_backup_keep_days_are_deleted(tmp_path):
    # Days ago, and the kind of dump: a plain one from before encryption goes the same way.
    made = {36: ".dump.age", 60: ".dump", 34: ".dump.age", 20: ".dump.age"}
    for days_setting, deleted_ages in (("", {36, 60}), ("30", {36, 60, 34})):
        output = tmp_path / f"keep-{days_setting or 'default'}"
        output.mkdir()
        names = {days: stamp(days) for days in made}
        for days, suffix in made.items():
            (output / f"{names[days]}{suffix}").write_bytes(b"old")
            (output / f"{names[days]}.json").write_text("{}")
        created = create_in(
            output,
            BACKUP_KEY=new_key(),
            BACKUP_KEEP_DAYS=days_setting,
        )
        assert created.returncode == 0, created.stderr
        newest = Path(created.stdout.splitlines()[0])
        kept = {newest.name, manifest_of(newest).name}
        for days, suffix in made.items():
            if days not in deleted_ages:
                kept |= {f"{names[days]}{suffix}", f"{names[days]}.json"}
            else:
                assert f"deleted {output / f'{names[days]}{suffix}'}" in created.stdout
        assert sorted(path.name for path in output.iterdir()) == sorted(kept)


def test_a_backup_keep_days_that_is_no_number_of_days_is_refused(tmp_path):
    result = run(
        "create",
        "--output-dir",
        str(tmp_path / "backups"),
        DATABASE_URL="postgres://postgres@127.0.0.1:1/none",
        BACKUP_KEY=new_key(),
        BACKUP_KEEP_DAYS="0",
    )
    assert result.returncode == 1
    assert "BACKUP_KEEP_DAYS" in result.stderr
    assert not (tmp_path / "backups").exists()


def test_a_backup_without_a_database_url_says_so(tmp_path):
    env = {key: value for key, value in os.environ.items() if key != "DATABASE_URL"}
    result = subprocess.run(
        [sys.executable, str(SCRIPT), "create", "--output-dir", str(tmp_path)],
        cwd=ROOT,
        env={**env, "BACKUP_KEY": new_key()},
        capture_output=True,
        text=True,
        timeout=60,
    )
    assert result.returncode == 1
    assert "DATABASE_URL" in result.stderr
