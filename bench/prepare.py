"""Set-up of the booking-rush benchmark: the server's environment, a throwaway database
(dropped and re-created, migrated), a flushed Redis database, and the data: one office
with many future slots, two hot slots, and the floor's tables with as many seats. The
environment and the databases (re-created, cloned, dropped, `throwaway` for a whole run)
serve bench/backlog.py and bench/track.py too."""

from __future__ import annotations

import argparse
import contextlib
import os
import signal
import subprocess
import sys
import urllib.parse
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

REPO = Path(__file__).resolve().parent.parent
OUT_DIR = REPO / "bench" / "out"


def add_arguments(
    parser: argparse.ArgumentParser, *, database: str, redis_db: int, out: str, **helps: str
) -> None:
    """The options of every benchmark: its throwaway database (default `database` on the
    machine's PostgreSQL), its Redis database (`redis_db` on the machine's Redis), the file
    its figures go to (`out` in bench/out/), --keep and --strict; `helps` replaces the help
    of an option (by its name: database_url, redis_url). See `check_arguments`."""
    parser.add_argument(
        "--database-url",
        default=f"postgres://postgres@127.0.0.1:5432/{database}",
        help=helps.get(
            "database_url",
            "throwaway database, dropped and re-created (its name must contain 'bench')",
        ),
    )
    parser.add_argument(
        "--redis-url", default=f"redis://127.0.0.1:6379/{redis_db}", help=helps.get("redis_url")
    )
    parser.add_argument("--out", type=Path, default=OUT_DIR / out)
    parser.add_argument("--keep", action="store_true", help="keep the database afterwards")
    parser.add_argument("--strict", action="store_true", help="exit 2 when a goal is missed")


def check_arguments(parser: argparse.ArgumentParser, args: argparse.Namespace) -> None:
    """Refuses a database whose name does not say it is a benchmark's: it is dropped."""
    if "bench" not in urllib.parse.urlsplit(args.database_url).path:
        parser.error("--database-url: the database is dropped, its name must contain 'bench'")


def server_env(args: argparse.Namespace) -> dict[str, str]:
    """The environment of the portal under benchmark (gunicorn, manage.py and this process):
    DEBUG off, persistent database connections, no booking challenge and no rate limit, and
    the benchmark's settings, which add the floor view to the portal's URLs."""
    env = dict(os.environ)
    env.update(
        DJANGO_SETTINGS_MODULE="bench.settings",
        DEBUG="false",
        SECRET_KEY="booking-rush-benchmark-key-not-a-secret-0123456789abcdef",  # noqa: S106
        ALLOWED_HOSTS="127.0.0.1",
        DATABASE_URL=args.database_url,
        REDIS_URL=args.redis_url,
        CACHE_KEY_PREFIX="bench",
        BOOKING_CHALLENGE="false",
        RATE_LIMITS="false",
        BOOKING_VERIFY_CONTACT="false",  # a booking is booked at once, no code to enter
        CONN_MAX_AGE="60",
        LOG_LEVEL="WARNING",
        SECURE_COOKIES="false",
        # The production defaults: plain HTTP here, and nobody to deliver to.
        SECURE_SSL_REDIRECT="false",
        ALLOW_CONSOLE_DELIVERY="true",
        # Collected before gunicorn starts (bench/server.py), as a deployment does.
        STATIC_ROOT=str(OUT_DIR / "static"),
        PYTHONDONTWRITEBYTECODE="1",
    )
    return env


def database_name(database_url: str) -> str:
    return urllib.parse.unquote(urllib.parse.urlsplit(database_url).path.lstrip("/"))


def _admin(database_url: str, *statements) -> None:
    """Run statements (psycopg2.sql) on the server's `postgres` database, outside a
    transaction (CREATE and DROP DATABASE cannot run inside one)."""
    import psycopg2

    parts = urllib.parse.urlsplit(database_url)
    admin = urllib.parse.urlunsplit(parts._replace(path="/postgres"))
    connection = psycopg2.connect(admin)
    connection.autocommit = True
    try:
        with connection.cursor() as cursor:
            for statement in statements:
                cursor.execute(statement)
    finally:
        connection.close()


def _drop(database_url: str):
    from psycopg2 import sql

    name = sql.Identifier(database_name(database_url))
    return sql.SQL("DROP DATABASE IF EXISTS {} WITH (FORCE)").format(name)


def recreate_database(database_url: str) -> None:
    from psycopg2 import sql

    name = sql.Identifier(database_name(database_url))
    _admin(database_url, _drop(database_url), sql.SQL("CREATE DATABASE {}").format(name))


def clone_database(database_url: str, *, template_url: str) -> None:
    """Drop and re-create `database_url` as a copy of `template_url` (no one may be
    connected to that one): PostgreSQL copies its files, statistics and visibility included,
    so that every copy starts in the same state."""
    from psycopg2 import sql

    name = sql.Identifier(database_name(database_url))
    template = sql.Identifier(database_name(template_url))
    create = sql.SQL("CREATE DATABASE {} TEMPLATE {} STRATEGY FILE_COPY")
    _admin(database_url, _drop(database_url), create.format(name, template))


def drop_database(database_url: str) -> None:
    _admin(database_url, _drop(database_url))


def checkpoint(database_url: str) -> None:
    """Write the server's dirty buffers out now, so that a phase measured next does not pay
    for the set-up's (or the previous phase's) writes."""
    from psycopg2 import sql

    _admin(database_url, sql.SQL("CHECKPOINT"))


def flush_redis(redis_url: str) -> None:
    import redis

    client = redis.Redis.from_url(redis_url, socket_connect_timeout=2, socket_timeout=5)
    try:
        client.flushdb()
    finally:
        client.close()


@contextlib.contextmanager
def throwaway(args: argparse.Namespace) -> Iterator[None]:
    """A run on a fresh database (``args.database_url``, dropped and re-created) and a
    flushed Redis database (``args.redis_url``). Afterwards, also on Ctrl-C, SIGTERM (raised
    as KeyboardInterrupt) and errors: Django's connections closed, the database dropped
    (unless ``args.keep``) and Redis flushed again."""

    def on_term(signum, frame):
        raise KeyboardInterrupt

    signal.signal(signal.SIGTERM, on_term)
    created = False
    try:
        recreate_database(args.database_url)
        created = True
        flush_redis(args.redis_url)
        yield
    finally:
        with contextlib.suppress(Exception):
            from django.db import connections

            connections.close_all()
        if created and not args.keep:
            with contextlib.suppress(Exception):
                drop_database(args.database_url)
        with contextlib.suppress(Exception):
            flush_redis(args.redis_url)


def migrate(env: dict[str, str]) -> None:
    subprocess.run(
        [sys.executable, "manage.py", "migrate", "--no-input", "--verbosity", "0"],
        cwd=REPO,
        env=env,
        check=True,
        timeout=600,
    )


@dataclass
class Fixture:
    office_code: str
    spread_first: int  # slot ids spread_first .. spread_first + slots - 1
    hot_slot: int
    warm_hot_slot: int
    floor_first: int


# The office's past: a portal in service holds the appointments it made and the messages it
# sent. On empty tables, ANALYZE records "empty", and each server process then plans the
# checks of the outbox's foreign key to its appointment (run by PostgreSQL for every message,
# and kept for the connection's life) as a sequential scan, which the bookings of the run
# make longer and longer: 2 scans of the whole appointment table per booking, more than half
# of PostgreSQL's CPU in the spread phase. A served office's tables are never empty.
HISTORY_SQL = """
WITH past AS (
    INSERT INTO appointments_slot (office_id, starts_at, ends_at, capacity, booked, reserved,
                                   is_open)
    SELECT %(office)s, %(first)s - (g + 1) * interval '3 minutes',
           %(first)s - g * interval '3 minutes', %(capacity)s, 0, 0, true
    FROM generate_series(1, %(slots)s) AS g
    RETURNING id, starts_at
), made AS (
    INSERT INTO appointments_appointment
        (reference, office_id, slot_id, status, surname, given_names, birth_date,
         national_id, email, phone, language, manage_token_hash, notify_email, notify_sms,
         hold_expires_at, code_hash, code_attempts, replaces_id, email_key, hold_network,
         admission_ticket, moves, created_at, updated_at, erased_at)
    SELECT 'H' || lpad(to_hex(p.id * 8 + seat), 7, '0'), %(office)s, p.id, 'enrolled',
           'PASSE', 'Historique', date '1980-01-01' + (p.id %% 9000)::int,
           'HIST' || p.id || 'S' || seat, 'h' || p.id || '.' || seat || '@bench.example.com',
           '+2237' || lpad((p.id * 8 + seat)::text, 7, '0'), 'fr', md5(p.id || ':' || seat),
           true, true, NULL, '', 0, NULL, '', '', NULL, 0,
           p.starts_at - interval '20 days', p.starts_at, NULL
    FROM past p CROSS JOIN generate_series(1, %(capacity)s) AS seat
    RETURNING id, email, phone, created_at
)
INSERT INTO appointments_outboxmessage
    (channel, kind, appointment_id, recipient, language, payload, status, attempts,
     next_attempt_at, last_error, created_at, sent_at, idempotency_key)
SELECT c.channel, 'booking_confirmed', m.id, CASE c.channel WHEN 'email' THEN m.email
       ELSE m.phone END, 'fr', '{}'::jsonb, 'sent', 1, m.created_at, '', m.created_at,
       m.created_at, 'appointment:' || m.id || ':booked'
FROM made m CROSS JOIN (VALUES ('email'), ('sms')) AS c (channel)
"""


def create_fixture(*, slots: int, capacity: int, history: int = 0) -> Fixture:
    """One office with two hot slots then `slots` other future slots of `capacity` seats, and
    the floor's tables with as many, through the ORM (in this process, on the benchmark
    database: the caller has set the server's environment). `history` past slots, full, hold
    the office's past appointments and their sent messages (HISTORY_SQL)."""
    import django

    django.setup()
    from datetime import UTC, datetime, timedelta

    from django.db import connection, transaction

    from appointments.models import Slot
    from bench.floor import FLOOR_TABLES_SQL
    from core.models import Office

    step = timedelta(minutes=3)
    first = datetime.now(UTC).replace(minute=0, second=0, microsecond=0) + timedelta(days=2)
    with transaction.atomic():
        office = Office.objects.create(
            code="bench-centre",
            name="Centre du banc d’essai",
            name_en="Benchmark centre",
            kind=Office.Kind.CENTRE,
            city="Bamako",
            country="ML",
            timezone="Africa/Bamako",
        )
        Slot.objects.bulk_create(
            [
                Slot(
                    office=office,
                    starts_at=first + i * step,
                    ends_at=first + (i + 1) * step,
                    capacity=capacity,
                )
                for i in range(slots + 2)
            ],
            batch_size=5000,
        )
        # The two hot slots come first (warm-up's, then the measured one): a slot_full
        # answer then offers the next free slots, as in a real rush.
        ids = list(Slot.objects.filter(office=office).order_by("pk").values_list("pk", flat=True))
        spread = ids[2:]
        if spread[-1] - spread[0] + 1 != slots:
            raise RuntimeError("slot ids are not contiguous; re-run on a fresh database")
        with connection.cursor() as cursor:
            cursor.execute(FLOOR_TABLES_SQL)
            cursor.execute(
                "INSERT INTO bench_floor_slot (id, capacity) "
                "SELECT g, %s FROM generate_series(1, %s) AS g",
                [capacity, slots],
            )
            if history:
                cursor.execute(
                    HISTORY_SQL,
                    {"office": office.pk, "first": first, "capacity": capacity, "slots": history},
                )
            cursor.execute("ANALYZE")
    connection.close()
    return Fixture(
        office_code=office.code,
        spread_first=spread[0],
        hot_slot=ids[1],
        warm_hot_slot=ids[0],
        floor_first=1,
    )
