"""scripts/backup.py: a backup of a database holding the demo's data, restored into a new
database, gives back every row of every table, the sequences, and the database's own rules
(triggers, SQL functions), with pg_dump and pg_restore of this machine."""

import json
import os
import subprocess
import sys
import uuid
from pathlib import Path

import psycopg2
import pytest
from django.core.management import call_command
from django.db import connection
from psycopg2 import sql

from appointments.tests.factories import book
from production.models import FileEvent
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


@pytest.mark.django_db(transaction=True)
def test_a_backup_restored_into_a_new_database_gives_back_everything(tmp_path, new_name):
    restored_name = new_name()
    call_command("seed_demo", "--force")
    book()  # a booking through the service: its outbox messages too
    source = contents(database_url())
    assert source["public.production_passportfile"][0] >= 2000
    assert source["public.appointments_appointment"][0] > 0
    assert source["public.django_celery_beat_periodictask"][0] > 0

    created = run("create", "--output-dir", str(tmp_path), DATABASE_URL=database_url())
    assert created.returncode == 0, created.stderr
    dump = Path(created.stdout.strip())
    assert dump.parent == tmp_path
    assert dump.name.startswith("epassport-")
    assert dump.suffix == ".dump"
    manifest = json.loads(dump.with_suffix(".json").read_text())
    # Personal data: readable by the owner only.
    assert dump.stat().st_mode & 0o077 == 0
    assert dump.with_suffix(".json").stat().st_mode & 0o077 == 0
    assert (
        manifest["tables"]["public.production_passportfile"]
        == (source["public.production_passportfile"][0])
    )
    assert "password" not in json.dumps(manifest).lower()

    restored = run("restore", str(dump), "--into", url_of(restored_name), "--create")
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
        cursor.execute(
            "UPDATE appointments_appointment SET status = 'cancelled' WHERE id = %s",
            [appointment_id],
        )
        cursor.execute("SELECT booked FROM appointments_slot WHERE id = %s", [slot_id])
        assert cursor.fetchone() == (booked - 1,)
        conn.rollback()
    conn.close()
    assert FileEvent.objects.count() == source["public.production_fileevent"][0]


@pytest.mark.django_db(transaction=True)
def test_a_restore_never_goes_over_data_and_refuses_a_damaged_dump(tmp_path, new_name):
    book()
    created = run("create", "--output-dir", str(tmp_path), DATABASE_URL=database_url())
    assert created.returncode == 0, created.stderr
    dump = Path(created.stdout.strip())
    before = contents(database_url())

    # Into the database it came from (or any with tables): refused, nothing touched.
    over = run("restore", str(dump), "--into", database_url())
    assert over.returncode == 1
    assert "never over data" in over.stderr
    assert contents(database_url()) == before

    # Into a database that does not exist, without --create: refused.
    missing = new_name()
    refused = run("restore", str(dump), "--into", url_of(missing))
    assert refused.returncode == 1
    assert "does not exist" in refused.stderr
    assert not exists(missing)

    # Rows that do not come back as the manifest counted them: the restore fails.
    manifest_path = dump.with_suffix(".json")
    manifest = json.loads(manifest_path.read_text())
    manifest["tables"]["public.appointments_appointment"] += 1
    manifest_path.write_text(json.dumps(manifest))
    short = run("restore", str(dump), "--into", url_of(new_name()), "--create")
    assert short.returncode == 1
    assert "public.appointments_appointment: 2 in the backup, 1 restored" in short.stderr

    # A damaged copy: refused before anything is created.
    data = bytearray(dump.read_bytes())
    data[len(data) // 2] ^= 0xFF
    dump.write_bytes(bytes(data))
    damaged_into = new_name()
    damaged = run("restore", str(dump), "--into", url_of(damaged_into), "--create")
    assert damaged.returncode == 1
    assert "SHA-256" in damaged.stderr
    assert not exists(damaged_into)


@pytest.mark.django_db(transaction=True)
def test_keep_deletes_all_but_the_newest_backups(tmp_path):
    old = ["epassport-20250101T000000Z", "epassport-20250102T000000Z"]
    for name in old:
        (tmp_path / f"{name}.dump").write_bytes(b"old")
        (tmp_path / f"{name}.json").write_text("{}")
    created = run(
        "create", "--output-dir", str(tmp_path), "--keep", "2", DATABASE_URL=database_url()
    )
    assert created.returncode == 0, created.stderr
    newest = Path(created.stdout.splitlines()[0])
    assert sorted(path.name for path in tmp_path.iterdir()) == sorted(
        [f"{old[1]}.dump", f"{old[1]}.json", newest.name, newest.with_suffix(".json").name]
    )


def test_a_backup_without_a_database_url_says_so(tmp_path):
    env = {key: value for key, value in os.environ.items() if key != "DATABASE_URL"}
    result = subprocess.run(
        [sys.executable, str(SCRIPT), "create", "--output-dir", str(tmp_path)],
        cwd=ROOT,
        env=env,
        capture_output=True,
        text=True,
        timeout=60,
    )
    assert result.returncode == 1
    assert "DATABASE_URL" in result.stderr
