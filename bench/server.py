"""The portal under benchmark: gunicorn on a free port of 127.0.0.1, and its Celery worker
(and beat) when a benchmark needs the outbox's messages sent (`outbox_sender`).

``sync`` workers, 2 per core + 1 (gunicorn's own advice), as the README tells to run the
portal behind its reverse proxy; options ``--worker-class``, ``--workers``, ``--threads``.
Measured on 2 cores, 10 s runs, with the booking path as it was then: sync x 5 gave 41% of
the floor and a spread p95 of 106 ms; gthread 3 x 8, 4 x 8, 2 x 16 and 6 x 2 gave 37-47%
but p95 of 160-230 ms. The reason is the tail, not the throughput: a gthread worker keeps
the connections it accepted, so 32 keep-alive clients spread unevenly over the workers and
those of the busiest worker wait (p95 about 2.2 x p50, on the floor too), while sync
workers take each new request from one shared listen queue, first come first served (p95
about 1.4 x p50). Closing the connection after each answer costs little on loopback and
nothing behind a proxy that pools them.
"""

from __future__ import annotations

import argparse
import contextlib
import http.client
import os
import signal
import socket
import subprocess
import sys
import time
from collections.abc import Iterator
from pathlib import Path

from bench.prepare import REPO

BIN = Path(sys.executable).parent


def add_arguments(parser: argparse.ArgumentParser) -> None:
    """The load's and the server's options of a benchmark over HTTP (see
    `settle_arguments`)."""
    parser.add_argument("--clients", type=int, default=32, help="concurrent clients (32)")
    parser.add_argument("--duration", type=float, default=20, help="seconds per phase (20)")
    parser.add_argument("--warmup", type=float, default=3, help="warm-up seconds (3)")
    parser.add_argument("--worker-class", default="sync", choices=["gthread", "sync"])
    parser.add_argument(
        "--workers", type=int, default=None, help="gunicorn workers (2 per core + 1)"
    )
    parser.add_argument("--threads", type=int, default=None, help="threads per gthread worker (2)")


def settle_arguments(args: argparse.Namespace) -> None:
    """The defaults that depend on the machine: sync workers 2 per core + 1, gthread
    workers 2 per core with 2 threads each."""
    cores = os.cpu_count() or 1
    if args.workers is None:
        args.workers = 2 * cores if args.worker_class == "gthread" else 2 * cores + 1
    if args.threads is None:
        args.threads = 2 if args.worker_class == "gthread" else 1


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def collect_static(env: dict[str, str]) -> None:
    """`collectstatic` into the run's STATIC_ROOT, as a deployment does before starting the
    portal (with DEBUG off it refuses to start without the manifest)."""
    subprocess.run(
        [str(BIN / "python"), "manage.py", "collectstatic", "--no-input", "-v", "0"],
        cwd=REPO,
        env=env,
        check=True,
    )


def start_gunicorn(
    args: argparse.Namespace, env: dict[str, str], port: int, log: Path, *, collect: bool = True
) -> tuple[subprocess.Popen, list[str]]:
    if collect:
        collect_static(env)
    command = [
        str(BIN / "gunicorn"),
        "bench.wsgi:application",  # the portal, and the bare floor in front
        *("--bind", f"127.0.0.1:{port}"),
        *("--worker-class", args.worker_class),
        *("--workers", str(args.workers)),
        *("--threads", str(args.threads)),
        *("--keep-alive", "75"),
        *("--backlog", "2048"),
        *("--timeout", "60"),
        *("--graceful-timeout", "5"),
        *("--log-level", "warning"),
    ]
    handle = log.open("w")
    process = _spawn(command, env, handle)
    handle.close()
    return process, command


def _spawn(command: list[str], env: dict[str, str], handle) -> subprocess.Popen:
    """A process of the portal from the repository, its output to `handle`, in a session of
    its own so that it is stopped with its children."""
    return subprocess.Popen(
        command,
        cwd=REPO,
        env=env,
        stdout=handle,
        stderr=subprocess.STDOUT,
        start_new_session=True,
    )


def wait_ready(process: subprocess.Popen, port: int, log: Path, timeout: float = 60) -> None:
    """Until every worker has loaded Django: one answer from /healthz (any status) per
    worker would not prove it, so wait for several answers in a row."""
    deadline = time.monotonic() + timeout
    answers = 0
    while time.monotonic() < deadline:
        if process.poll() is not None:
            raise RuntimeError(f"gunicorn exited ({process.returncode}):\n{log.read_text()}")
        try:
            connection = http.client.HTTPConnection("127.0.0.1", port, timeout=5)
            connection.request("GET", "/healthz")
            connection.getresponse().read()
            connection.close()
            answers += 1
            if answers >= 10:
                return
        except OSError:
            answers = 0
            time.sleep(0.2)
    raise RuntimeError(f"gunicorn not ready after {timeout}s:\n{log.read_text()}")


def stop_gunicorn(process: subprocess.Popen | None) -> None:
    if process is None or process.poll() is not None:
        return
    with contextlib.suppress(ProcessLookupError):
        process.send_signal(signal.SIGTERM)
    _wait_or_kill(process, timeout=15)


def _wait_or_kill(process: subprocess.Popen, *, timeout: float) -> None:
    """Until `process` has ended, asked to; past `timeout` seconds, its session killed."""
    try:
        process.wait(timeout=timeout)
    except subprocess.TimeoutExpired:
        with contextlib.suppress(ProcessLookupError):
            os.killpg(process.pid, signal.SIGKILL)
        process.wait(timeout=5)


@contextlib.contextmanager
def serving(
    args: argparse.Namespace, env: dict[str, str], log: Path
) -> Iterator[tuple[subprocess.Popen, list[str], int]]:
    """gunicorn started on a free port and ready: (process, command, port); stopped
    afterwards, also on errors."""
    port = free_port()
    process, command = start_gunicorn(args, env, port, log)
    try:
        wait_ready(process, port, log)
        yield process, command, port
    finally:
        stop_gunicorn(process)


def answers_on(port: int, path: str) -> bool:
    """Whether `path` is served (anything but 404 to an empty JSON POST)."""
    connection = http.client.HTTPConnection("127.0.0.1", port, timeout=10)
    try:
        connection.request("POST", path, body="{}", headers={"Content-Type": "application/json"})
        return connection.getresponse().status != 404
    finally:
        connection.close()


@contextlib.contextmanager
def outbox_sender(env: dict[str, str], log: Path, *, beat: bool = True):
    """A Celery worker for the three queues and (unless `beat` is false) beat, as the README
    runs them; stopped afterwards (SIGTERM to each one's process group, then SIGKILL).
    Without beat no outbox sweep runs: only the codes pushed at booking are sent."""
    celery = [sys.executable, "-m", "celery", "-A", "epassport"]
    commands = [[*celery, "worker", "-Q", "celery,notifications,backlog", "--loglevel=WARNING"]]
    if beat:
        commands.append([*celery, "beat", "--loglevel=WARNING", "--pidfile="])
    handle = log.open("w")
    processes = [_spawn(command, env, handle) for command in commands]
    handle.close()
    try:
        yield processes
    finally:
        for process in processes:
            with contextlib.suppress(ProcessLookupError):
                os.killpg(process.pid, signal.SIGTERM)
        for process in processes:
            _wait_or_kill(process, timeout=20)
