"""scripts/backup.py restore: a backup of a database holding the demo's data, restored into
a new database, gives back every row of every table, the sequences, and the database's own
rules (triggers, SQL functions), with pg_dump and pg_restore of this machine. A restore
needs the backup's key, never goes over data, refuses a damaged dump or one whose rows do
not come back as counted, and erases again the personal data erased since the backup. The
backups themselves (encryption, BACKUP_KEY, BACKUP_KEEP_DAYS) are tested in
test_backup_create.py."""

import json
from datetime import timedelta
from pathlib import Path

import psycopg2
import pytest
from django.conf import settings
from django.core.management import call_command
from django.utils import timezone
from psycopg2 import sql

from appointments.models import Appointment
from appointments.tests.factories import book, move
from production.models import FileEvent
from tests.backup_support import create_in, manifest_of, new_key, run, tmpdir_env, url_of
from tests.support import database_url

# Every row of a table, as one digest: its content, whatever the physical order.
_DIGEST = "SELECT count(*), md5(coalesce(string_agg(t::text, E'\\n' ORDER BY t::text), '')) "


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


def exists(name: str) -> bool:
    with psycopg2.connect(url_of("postgres")) as conn, conn.cursor() as cursor:
        cursor.execute("SELECT 1 FROM pg_database WHERE datname = %s", [name])
        found = cursor.fetchone() is not None
    conn.close()
    return found


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
