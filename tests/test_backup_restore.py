"""scripts/backup.py: a backup of a database holding the demo's data, restored into a new
database, gives back every row of every table, the sequences, and the database's own rules
(triggers, SQL functions), with pg_dump and pg_restore of this machine. Backups are encrypted
with BACKUP_KEY (no plain dump left anywhere), kept BACKUP_KEEP_DAYS, and a restore erases
again the personal data erased since the backup."""

import json
import os
import subprocess
import sys
import uuid
from datetime import UTC, datetime, timedelta
from pathlib import Path

import psycopg2
import pytest
from django.conf import settings
from django.core.management import call_command
from django.db import connection
from django.utils import timezone
from psycopg2 import sql
from pyrage import DecryptError, decrypt, x25519

from appointments.models import Appointment
from appointments.tests.factories import book, move
from production.models import FileEvent, PassportFile
from tests.support import database_url

ROOT = Path(__file__).resolve().parent.parent
SCRIPT = ROOT / "scripts" / "backup.py"

# Every row of a table, as one digest: its content, whatever the physical order.
_DIGEST = "SELECT count(*), md5(coalesce(string_agg(t::text, E'\\n' ORDER BY t::text), '')) "


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


def stamp(days_ago: float) -> str:
    """The name of a backup made `days_ago` days ago."""
    return "epassport-" + (datetime.now(UTC) - timedelta(days=days_ago)).strftime("%Y%m%dT%H%M%SZ")


def url_of(name: str) -> str:
    return database_url().replace(f"/{connection.settings_dict['NAME']}?", f"/{name}?")


def contents(url: str) -> dict[str, tuple[int, str]]:
    """{table: (rows, digest of the rows)} and {sequence: last value} of a database."""
    found = {}
    with psycopg2.connect(url) as conn, conn.cursor() as cursor:
        cursor.execute(
            "SELECT schemaname, tablename FROM pg_tables "
            "WHERE schemaname NOT IN ('pg_catalog', 'information_schema') ORDER BY 1, 2"
        )
        for schema, table in cursor.fetchall():
            cursor.execute(sql.SQL(_DIGEST + "FROM {} t").format(sql.Identifier(schema, table)))
            found[f"{schema}.{table}"] = cursor.fetchone()
        cursor.execute("SELECT schemaname, sequencename, last_value FROM pg_sequences")
        for schema, sequence, last_value in cursor.fetchall():
            found[f"sequence {schema}.{sequence}"] = last_value
    conn.close()
    return found


@pytest.fixture
def new_name():
    """Names of databases for restores, each dropped afterwards."""
    names = []

    def make() -> str:
        names.append(f"{connection.settings_dict['NAME']}_restored_{uuid.uuid4().hex[:8]}")
        return names[-1]

    yield make
    conn = psycopg2.connect(url_of("postgres"))
    conn.autocommit = True
    try:
        with conn.cursor() as cursor:
            for name in names:
                cursor.execute(
                    sql.SQL("DROP DATABASE IF EXISTS {} WITH (FORCE)").format(sql.Identifier(name))
                )
    finally:
        conn.close()


def exists(name: str) -> bool:
    with psycopg2.connect(url_of("postgres")) as conn, conn.cursor() as cursor:
        cursor.execute("SELECT 1 FROM pg_database WHERE datname = %s", [name])
        found = cursor.fetchone() is not None
    conn.close()
    return found


def tmpdir_env(tmp_path: Path) -> dict[str, str]:
    """A TMPDIR of the test's own, where the script's plain dumps go (and must not stay)."""
    directory = tmp_path / "tmp"
    directory.mkdir(exist_ok=True)
    return {"TMPDIR": str(directory)}


@pytest.mark.django_db(transaction=True)
def test_a_backup_restored_into_a_new_database_gives_back_everything(tmp_path, new_name):
    restored_name = new_name()
    key = new_key()
    call_command("seed_demo", "--force")
    book()  # a booking through the service: its outbox messages too
    # What is due for erasure is erased already: the restore's erasure then changes nothing.
    call_command("erase_personal_data")
    source = contents(database_url())
    assert source["public.production_passportfile"][0] >= 2000
    assert source["public.appointments_appointment"][0] > 0
    assert source["public.django_celery_beat_periodictask"][0] > 0

    created = create_in(tmp_path, BACKUP_KEY=key)
    assert created.returncode == 0, created.stderr
    dump = Path(created.stdout.strip())
    assert dump.parent == tmp_path
    assert dump.name.startswith("epassport-")
    assert dump.name.endswith(".dump.age")
    manifest = json.loads(manifest_of(dump).read_text())
    # Personal data: readable by the owner only.
    assert dump.stat().st_mode & 0o077 == 0
    assert manifest_of(dump).stat().st_mode & 0o077 == 0
    assert (
        manifest["tables"]["public.production_passportfile"]
        == (source["public.production_passportfile"][0])
    )
    assert "password" not in json.dumps(manifest).lower()
    assert key not in json.dumps(manifest)

    restored = run(
        "restore", str(dump), "--into", url_of(restored_name), "--create", BACKUP_KEY=key
    )
    assert restored.returncode == 0, restored.stderr
    assert "as in the backup" in restored.stdout

    # Every row of every table, and every sequence where it was.
    assert contents(url_of(restored_name)) == source

    # The database's own rules came back with the data.
    with psycopg2.connect(url_of(restored_name)) as conn, conn.cursor() as cursor:
        cursor.execute("SELECT id FROM production_fileevent LIMIT 1")
        (event_id,) = cursor.fetchone()
        with pytest.raises(psycopg2.Error):  # file events are append-only
            cursor.execute("UPDATE production_fileevent SET note = 'x' WHERE id = %s", [event_id])
        conn.rollback()
        cursor.execute("SELECT count(*) FROM pg_proc WHERE proname = 'epassport_bookable_slots'")
        assert cursor.fetchone() == (1,)
        # The seat counter's trigger: cancelling an appointment frees its seat.
        cursor.execute(
            "SELECT a.id, a.slot_id, s.booked FROM appointments_appointment a "
            "JOIN appointments_slot s ON s.id = a.slot_id WHERE a.status = 'booked' LIMIT 1"
        )
        appointment_id, slot_id, booked = cursor.fetchone()
        # A change of status names its action, as the services do (appointments/
        # transitions.py); the moves' trigger writes its event.
        cursor.execute("SELECT set_config('epassport.event_action', 'cancel', true)")
        cursor.execute(
            "UPDATE appointments_appointment SET status = 'cancelled' WHERE id = %s",
            [appointment_id],
        )
        cursor.execute("SELECT booked FROM appointments_slot WHERE id = %s", [slot_id])
        assert cursor.fetchone() == (booked - 1,)
        cursor.execute(
            "SELECT from_status, to_status, action FROM appointments_appointmentevent"
            " WHERE appointment_id = %s ORDER BY id DESC LIMIT 1",
            [appointment_id],
        )
        assert cursor.fetchone() == ("booked", "cancelled", "cancel")
        conn.rollback()
    conn.close()
    assert FileEvent.objects.count() == source["public.production_fileevent"][0]


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
def test_a_restore_with_another_key_or_none_fails_clearly(tmp_path, new_name):
    book()
    temporary = tmpdir_env(tmp_path)
    created = create_in(
        tmp_path / "backups",
        BACKUP_KEY=new_key(),
    )
    assert created.returncode == 0, created.stderr
    dump = Path(created.stdout.strip())

    other_into = new_name()
    other = run(
        "restore",
        str(dump),
        "--into",
        url_of(other_into),
        "--create",
        BACKUP_KEY=new_key(),
        **temporary,
    )
    assert other.returncode == 1
    assert "BACKUP_KEY is not the key of" in other.stderr
    assert not exists(other_into)
    none_into = new_name()
    none = run(
        "restore",
        str(dump),
        "--into",
        url_of(none_into),
        "--create",
        BACKUP_KEY="",
        **temporary,
    )
    assert none.returncode == 1
    assert "set BACKUP_KEY" in none.stderr
    assert not exists(none_into)

    # Without the manifest's recipient, age itself refuses the other key.
    manifest = json.loads(manifest_of(dump).read_text())
    del manifest["recipient"]
    manifest_of(dump).write_text(json.dumps(manifest))
    refused = run(
        "restore",
        str(dump),
        "--into",
        url_of(new_name()),
        "--create",
        BACKUP_KEY=new_key(),
        **temporary,
    )
    assert refused.returncode == 1
    assert "BACKUP_KEY does not decrypt it" in refused.stderr
    assert list(Path(temporary["TMPDIR"]).iterdir()) == []


@pytest.mark.django_db(transaction=True)
def test_a_restore_never_goes_over_data_and_refuses_a_damaged_dump(tmp_path, new_name):
    key = new_key()
    book()
    created = create_in(tmp_path, BACKUP_KEY=key)
    assert created.returncode == 0, created.stderr
    dump = Path(created.stdout.strip())
    before = contents(database_url())

    # Into the database it came from (or any with tables): refused, nothing touched.
    over = run("restore", str(dump), "--into", database_url(), BACKUP_KEY=key)
    assert over.returncode == 1
    assert "never over data" in over.stderr
    assert contents(database_url()) == before

    # Into a database that does not exist, without --create: refused.
    missing = new_name()
    refused = run("restore", str(dump), "--into", url_of(missing), BACKUP_KEY=key)
    assert refused.returncode == 1
    assert "does not exist" in refused.stderr
    assert not exists(missing)

    # Rows that do not come back as the manifest counted them: the restore fails.
    manifest_path = manifest_of(dump)
    manifest = json.loads(manifest_path.read_text())
    manifest["tables"]["public.appointments_appointment"] += 1
    manifest_path.write_text(json.dumps(manifest))
    short = run(
        "restore",
        str(dump),
        "--into",
        url_of(new_name()),
        "--create",
        BACKUP_KEY=key,
        **tmpdir_env(tmp_path),
    )
    assert short.returncode == 1
    assert "public.appointments_appointment: 2 in the backup, 1 restored" in short.stderr
    assert list((tmp_path / "tmp").iterdir()) == []  # the plain dump is gone all the same

    # A damaged copy: refused before anything is created.
    data = bytearray(dump.read_bytes())
    data[len(data) // 2] ^= 0xFF
    dump.write_bytes(bytes(data))
    damaged_into = new_name()
    damaged = run("restore", str(dump), "--into", url_of(damaged_into), "--create", BACKUP_KEY=key)
    assert damaged.returncode == 1
    assert "SHA-256" in damaged.stderr
    assert not exists(damaged_into)


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


@pytest.mark.django_db(transaction=True)
def test_a_restore_erases_again_what_was_erased_since_the_backup(tmp_path, new_name):
    key = new_key()
    days = settings.RETENTION_APPOINTMENT_DAYS
    # Cancelled, its slot ended more than RETENTION_APPOINTMENT_DAYS ago: due for erasure.
    ends_at = timezone.now() - timedelta(days=days + 1)
    starts_at = ends_at - timedelta(minutes=15)
    due = book(None, starts_at, now=starts_at - timedelta(days=1))[0]
    move(Appointment.objects.filter(pk=due.pk), Appointment.Status.CANCELLED)
    surname = due.surname
    upcoming = book()[0]  # not due

    # The backup is taken while it still has its identity; then the portal erases it.
    created = create_in(tmp_path, BACKUP_KEY=key)
    assert created.returncode == 0, created.stderr
    dump = Path(created.stdout.strip())
    call_command("erase_personal_data")
    due.refresh_from_db()
    assert due.erased_at is not None

    def identity(url: str, pk: int) -> tuple:
        with psycopg2.connect(url) as conn, conn.cursor() as cursor:
            cursor.execute(
                "SELECT erased_at IS NOT NULL, surname, given_names, birth_date, national_id, "
                "email, phone FROM appointments_appointment WHERE id = %s",
                [pk],
            )
            row = cursor.fetchone()
        conn.close()
        return row

    erased = (True, "", "", None, None, "", None)

    # The erasure cannot run (here: a configuration the portal refuses): the restore fails
    # and says so, with the data restored and its identity still there.
    broken = new_name()
    failed = run(
        "restore",
        str(dump),
        "--into",
        url_of(broken),
        "--create",
        BACKUP_KEY=key,
        SECRET_KEY="",
        DEBUG="false",
    )
    assert failed.returncode == 1
    assert "restored into" in failed.stderr
    assert "erasure of personal data did not run" in failed.stderr
    assert "before any use" in failed.stderr
    assert identity(url_of(broken), due.pk)[:2] == (False, surname)

    restored_name = new_name()
    restored = run(
        "restore", str(dump), "--into", url_of(restored_name), "--create", BACKUP_KEY=key
    )
    assert restored.returncode == 0, restored.stderr
    assert f"appointments erased ({days} days after their slot): 1" in restored.stdout
    assert identity(url_of(restored_name), due.pk) == erased
    assert identity(url_of(restored_name), upcoming.pk)[:2] == (False, upcoming.surname)


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
