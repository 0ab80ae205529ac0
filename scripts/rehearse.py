"""Rehearse the production layout on one machine: the portal behind a real reverse proxy, with
PgBouncer, workers by queue and an instance killed in the middle of a booking rush.

    .venv/bin/python scripts/rehearse.py              # about 2 minutes; --help for the options

What it starts (everything stopped afterwards, also on Ctrl-C and on errors):

- a throwaway database on the machine's PostgreSQL (``--database-url``, its name must
  contain "bench"), migrated, with one office of ``--slots`` slots (bench/prepare.py);
- PgBouncer in session mode in front of it (deploy/pgbouncer.ini), through which everything
  below connects;
- two gunicorn instances on two ports (sync workers, one per core + 1 each: the two share
  the machine's cores) with the production defaults (``DEBUG`` off, collectstatic run),
  ``TRUSTED_PROXY_COUNT=1`` and ``TRUSTED_PROXIES=127.0.0.1``;
- nginx in front of both (deploy/nginx.conf), the only port the load reaches;
- a Celery worker per queue (celery, notifications, backlog) and beat.

Then wrk follows ``--files`` passport files through nginx for 15 s (GET /api/v1/track/,
bench/track.lua: the tracking benchmark's load; every answer must be 200), and books through
nginx for ``--seconds`` (32 clients, each request a new applicant on the office's slots),
kills one gunicorn instance (its whole process group, SIGKILL) half-way,
and prints requests/s, p95, the answers clients saw other than 201 and 409 (errors: the
bookings under way on the killed instance, or sent to it on a connection nginx had kept open;
nginx sends every later one to the other), socket errors, and overbooked seats (counted in
SQL from the appointments). Exit status 1 when a seat is overbooked or more requests failed
than there are clients (each had at most one request on the dead instance).

Debian's ``nginx-light`` and ``pgbouncer`` are installed with apt-get when missing (as
root or with password-less sudo); wrk too (bench/load.py).
"""

from __future__ import annotations

import argparse
import contextlib
import os
import shutil
import signal
import subprocess
import sys
import tempfile
import threading
import time
from pathlib import Path
from string import Template
from urllib.parse import parse_qs, urlsplit

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from bench import prepare, server  # noqa: E402 - after the path that finds them
from bench.load import BOOKING_PATH, Load, run_wrk, wrk_available  # noqa: E402

DEPLOY = ROOT / "deploy"
PACKAGES = {"nginx": "nginx-light", "pgbouncer": "pgbouncer"}
QUEUES = ("celery", "notifications", "backlog")


def binary(name: str) -> str | None:
    """A program of Debian's packages (in /usr/sbin, which a user's PATH may lack)."""
    return shutil.which(name) or shutil.which(name, path="/usr/sbin:/usr/local/sbin")


def ensure_packages() -> list[str]:
    """Install nginx and PgBouncer from Debian's packages when missing; returns those still
    missing afterwards."""
    missing = [package for name, package in PACKAGES.items() if binary(name) is None]
    if missing and shutil.which("apt-get"):
        sudo = [] if os.geteuid() == 0 else ["sudo", "-n"]
        env = {**os.environ, "DEBIAN_FRONTEND": "noninteractive"}
        quiet = {"stdout": subprocess.DEVNULL, "stderr": subprocess.DEVNULL, "check": False}
        command = [*sudo, "apt-get", "install", "-y", "-q", *missing]
        if subprocess.run(command, env=env, **quiet).returncode:
            subprocess.run([*sudo, "apt-get", "update", "-q"], env=env, **quiet)
            subprocess.run(command, env=env, **quiet)
    return [package for name, package in PACKAGES.items() if binary(name) is None]


def render(template: Path, values: dict[str, str]) -> str:
    """A file of deploy/ with its ${NAME}s filled ($host and nginx's own names stay)."""
    return Template(template.read_text()).safe_substitute(values)


def _stop(process: subprocess.Popen, timeout: float = 15) -> None:
    if process.poll() is not None:
        return
    with contextlib.suppress(ProcessLookupError):
        os.killpg(process.pid, signal.SIGTERM)
    try:
        process.wait(timeout=timeout)
    except subprocess.TimeoutExpired:
        with contextlib.suppress(ProcessLookupError):
            os.killpg(process.pid, signal.SIGKILL)
        process.wait(timeout=5)


def _wait_port(port: int, process: subprocess.Popen, log: Path, timeout: float = 30) -> None:
    import socket

    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if process.poll() is not None:
            raise RuntimeError(f"{process.args[0]} exited:\n{log.read_text()[-3000:]}")
        with contextlib.suppress(OSError), socket.create_connection(("127.0.0.1", port), 1):
            return
        time.sleep(0.1)
    raise RuntimeError(f"nothing listens on {port} after {timeout}s:\n{log.read_text()[-3000:]}")


class Stack:
    """PgBouncer, two gunicorn instances, nginx in front, a Celery worker per queue and beat,
    for the database of `database_url` (reached through PgBouncer), with `env` as the
    portal's environment. Files (configurations, logs) go to `directory`."""

    def __init__(
        self,
        env: dict[str, str],
        *,
        database_url: str,
        directory: Path,
        workers: int | None = None,
        celery: bool = True,
    ) -> None:
        self.directory = directory
        self.database_url = database_url
        cores = os.cpu_count() or 1
        self.workers = workers or max(2, cores + 1)
        self.celery = celery
        self.processes: list[subprocess.Popen] = []
        self.instances: list[subprocess.Popen] = []
        self.instance_ports: list[int] = []
        self.proxy_port = 0
        self.env = dict(env)
        self.cleanup: list[Path] = []

    # Start --------------------------------------------------------------------------------

    def __enter__(self) -> Stack:
        self.directory.mkdir(parents=True, exist_ok=True)
        try:
            self._pgbouncer()
            self._gunicorns()
            self._nginx()
            if self.celery:
                self._celery()
        except BaseException:
            self.__exit__(None, None, None)
            raise
        return self

    def __exit__(self, *exc) -> None:
        for process in reversed(self.processes):
            _stop(process)
        for directory in self.cleanup:
            shutil.rmtree(directory, ignore_errors=True)

    def _spawn(self, command: list[str], log: Path, env: dict[str, str] | None = None):
        handle = log.open("w")
        process = subprocess.Popen(
            command,
            cwd=ROOT,
            env=env or self.env,
            stdout=handle,
            stderr=subprocess.STDOUT,
            start_new_session=True,
        )
        handle.close()
        self.processes.append(process)
        return process

    def _pgbouncer(self) -> None:
        parts = urlsplit(self.database_url)
        query = parse_qs(parts.query)  # postgresql://user@/name?host=...&port=... too
        database = parts.path.lstrip("/")
        user = parts.username or "postgres"
        pg_host = parts.hostname or query.get("host", ["127.0.0.1"])[0]
        pg_port = parts.port or int(query.get("port", ["5432"])[0])
        port = server.free_port()
        # Its own directory under /tmp: the unprivileged user it runs as must reach it.
        home = Path(tempfile.mkdtemp(prefix="epassport-pgbouncer-"))
        home.chmod(0o755)
        self.cleanup.append(home)
        command = [binary("pgbouncer")]
        if os.geteuid() == 0:
            # PgBouncer refuses to run as root: it drops to an unprivileged user, which
            # must be able to write its log and pid files.
            import pwd

            nobody = pwd.getpwnam("nobody")
            os.chown(home, nobody.pw_uid, nobody.pw_gid)
            command += ["-u", "nobody"]
        config = home / "pgbouncer.ini"
        config.write_text(
            render(
                DEPLOY / "pgbouncer.ini",
                {
                    "DATABASE": database,
                    "PG_HOST": pg_host,
                    "PG_PORT": str(pg_port),
                    "PG_USER": user,
                    "LISTEN_PORT": str(port),
                    "AUTH_TYPE": "any",  # the machine's PostgreSQL trusts local connections
                    "PREFIX": str(home),
                },
            )
        )
        config.chmod(0o644)
        log = self.directory / "pgbouncer.out"
        process = self._spawn([*command, str(config)], log)
        _wait_port(port, process, log)
        self.env["DATABASE_URL"] = f"postgres://{user}@127.0.0.1:{port}/{database}"

    def _gunicorns(self) -> None:
        server.collect_static(self.env)
        options = argparse.Namespace(worker_class="sync", workers=self.workers, threads=1)
        for number in (1, 2):
            port = server.free_port()
            log = self.directory / f"gunicorn-{number}.log"
            process, _command = server.start_gunicorn(options, self.env, port, log, collect=False)
            self.processes.append(process)
            server.wait_ready(process, port, log)
            self.instances.append(process)
            self.instance_ports.append(port)

    def _nginx(self) -> None:
        self.proxy_port = server.free_port()
        upstreams = "\n".join(
            f"        server 127.0.0.1:{port} max_fails=1 fail_timeout=10s;"
            for port in self.instance_ports
        )
        config = self.directory / "nginx.conf"
        config.write_text(
            render(
                DEPLOY / "nginx.conf",
                {
                    "PREFIX": str(self.directory),
                    "LISTEN": f"127.0.0.1:{self.proxy_port}",
                    "UPSTREAM_SERVERS": upstreams,
                },
            )
        )
        log = self.directory / "nginx.out"
        command = [binary("nginx"), "-p", str(self.directory), "-c", str(config)]
        process = self._spawn(command, log)
        _wait_port(self.proxy_port, process, log)

    def _celery(self) -> None:
        celery = [sys.executable, "-m", "celery", "-A", "epassport"]
        for queue in QUEUES:
            log = self.directory / f"celery-{queue}.log"
            self._spawn([*celery, "worker", "-Q", queue, "-c", "1", "--loglevel=WARNING"], log)
        self._spawn(
            [*celery, "beat", "--loglevel=WARNING", "--pidfile="], self.directory / "beat.log"
        )

    # During the run ---------------------------------------------------------------------

    def kill_instance(self, number: int = 0) -> None:
        """Kill one gunicorn instance at once, master and workers (a host that dies)."""
        with contextlib.suppress(ProcessLookupError):
            os.killpg(self.instances[number].pid, signal.SIGKILL)


# The rehearsal ------------------------------------------------------------------------------


def parse_args(argv: list[str] | None = None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    prepare.add_arguments(
        parser, database="epassport_bench_rehearsal", redis_db=12, out="rehearsal.json"
    )
    parser.add_argument("--seconds", type=int, default=30, help="booking rush length (30)")
    parser.add_argument("--clients", type=int, default=32, help="concurrent clients (32)")
    parser.add_argument("--slots", type=int, default=20000, help="slots of the office")
    parser.add_argument("--capacity", type=int, default=4, help="seats per slot (4)")
    parser.add_argument("--workers", type=int, default=None, help="workers per instance")
    parser.add_argument("--files", type=int, default=20000, help="passport files (20000)")
    args = parser.parse_args(argv)
    prepare.check_arguments(parser, args)
    return args


def main(argv: list[str] | None = None) -> int:
    args = parse_args(argv)
    missing = ensure_packages()
    if missing:
        print(f"missing Debian packages: {', '.join(missing)} (apt-get install)", file=sys.stderr)
        return 1
    wrk = wrk_available()
    if wrk is None:
        print("wrk is missing and could not be installed", file=sys.stderr)
        return 1
    env = prepare.server_env(args)
    env.update(TRUSTED_PROXY_COUNT="1", TRUSTED_PROXIES="127.0.0.1")
    os.environ.update(env)  # this process counts the seats with Django, directly
    directory = prepare.OUT_DIR / "rehearsal"
    started = time.monotonic()
    try:
        with prepare.throwaway(args):
            prepare.migrate(env)
            fixture = prepare.create_fixture(slots=args.slots, capacity=args.capacity)
            lookups = _tracking_data(args.files, directory / "lookups.txt")
            stack = Stack(env, database_url=args.database_url, directory=directory)
            with stack:
                print(
                    f"set-up in {time.monotonic() - started:.0f}s: nginx on "
                    f"{stack.proxy_port} -> gunicorn on {stack.instance_ports} "
                    f"({stack.workers} sync workers each) -> PgBouncer (session) -> "
                    f"PostgreSQL; Celery workers for {', '.join(QUEUES)} and beat",
                    flush=True,
                )
                tracked = _tracking(args, wrk, stack, lookups)
                return max(tracked, _rush(args, wrk, stack, fixture))
    except KeyboardInterrupt:
        print("\ninterrupted", file=sys.stderr)
        return 130


def _tracking_data(files: int, path: Path) -> Path:
    """Passport files as some days after a reopening (bench/track_data.py), and the lines
    "reference birth_date" the tracking load reads."""
    from django.db import connection
    from django.utils import timezone

    from bench import track_data

    now = timezone.now()
    offices = track_data.create_offices(files=files, now=now)
    with connection.cursor() as cursor:
        track_data.fill(cursor, files=files, offices=offices, now=now)
        cursor.execute("ANALYZE")
        track_data.write_lookups(cursor, path)
    return path


def _tracking(args, wrk: str, stack: Stack, lookups: Path) -> int:
    """Applicants following their files through nginx, both instances up (bench/track.lua:
    each request a file's reference and date of birth)."""
    from bench.track import Lookups

    run = run_wrk(wrk, stack.proxy_port, Lookups("/api/v1/track/", lookups), args.clients, 15)
    errors = {status: n for status, n in run.statuses.items() if status != 200}
    p95 = next(ms for percent, ms in run.quantiles if percent >= 95)
    print(f"\n== tracking through nginx, {args.clients} clients, {run.seconds:.1f}s")
    print(f"  requests/s       {run.requests / run.seconds:.1f}")
    print(f"  latency p95      {p95:.1f} ms")
    print(f"  answers          {dict(sorted(run.statuses.items()))}")
    print(f"  errors seen      {sum(errors.values())} {errors or ''}".rstrip())
    print(f"  socket errors    {run.socket_errors}")
    return 0 if not errors and not run.socket_errors else 1


def _rush(args, wrk: str, stack: Stack, fixture) -> int:
    from bench.report import database_counts

    load = Load(path=BOOKING_PATH, first=fixture.spread_first, count=args.slots, prefix="REH")
    killed_at: list[float] = []

    def kill() -> None:
        stack.kill_instance(0)
        killed_at.append(time.monotonic())

    timer = threading.Timer(args.seconds / 2, kill)
    timer.start()
    run = run_wrk(wrk, stack.proxy_port, load, args.clients, args.seconds)
    timer.cancel()
    counts = database_counts(fixture)
    errors = {status: count for status, count in run.statuses.items() if status not in (201, 409)}
    p95 = next(ms for percent, ms in run.quantiles if percent >= 95)
    print(f"\n== booking rush through nginx, {args.clients} clients, {run.seconds:.1f}s")
    print("  killed           gunicorn instance 1 (SIGKILL to its process group) at half-time")
    print(f"  requests/s       {run.requests / run.seconds:.1f}")
    print(f"  latency p95      {p95:.1f} ms")
    print(f"  answers          {dict(sorted(run.statuses.items()))}")
    print(f"  errors seen      {sum(errors.values())} {errors or ''}".rstrip())
    print(f"  socket errors    {run.socket_errors}")
    print(f"  overbooked       {counts['overbooked_slots']} slots (appointments vs capacity)")
    created = run.statuses.get(201, 0)
    print(f"  booked           {counts['appointments']} appointments for {created} 201s")
    # At most the requests the killed instance had: those it was serving and those sent on
    # the connections nginx kept open to it (one per client at most). nginx retries a
    # connection refused on the other instance, never a POST already sent (it could book
    # twice).
    failed = sum(errors.values()) + run.socket_errors
    ok = failed <= args.clients and counts["overbooked_slots"] == 0
    print(f"  result           {'OK' if ok else 'PROBLEMS'}")
    return 0 if ok else 1


if __name__ == "__main__":
    sys.exit(main())
