"""The measured phases of the backlog benchmark (bench/backlog.py), each on its own copy of
the prepared database: the floor (one statement, bench/backlog_floor.sql) and the dispatcher
in one or several processes at once (bench/backlog_worker.py); each timed, with the CPU time
of the PostgreSQL backends of the copy, of the Python processes (this one and its workers)
and of the rest of the machine (other people's work on a shared machine), then checked for
exactly-once (bench/backlog_sql.py)."""

from __future__ import annotations

import json
import os
import subprocess
import sys
import time
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path

from bench import backlog_sql
from bench.load import cpu_snapshot, cpu_used
from bench.prepare import REPO, database_name

_SELF = os.getpid()  # this process, parent of the workers: its tree is "python" in the CPU


@dataclass
class Phase:
    name: str  # "floor", "dispatcher x1", "dispatcher x2"...
    workers: int  # 0 for the floor
    round: int
    seconds: float
    files: int
    files_per_second: float
    cpu_seconds: dict[str, float]
    database: dict[str, int] = field(default_factory=dict)  # backlog_verify.sql's figures
    problems: list[str] = field(default_factory=list)
    dispatched: list[dict] = field(default_factory=list)  # per worker, as it reported


def _cpu(before: dict, after: dict) -> dict[str, float]:
    used = cpu_used(before, after)
    machine = used.pop("machine")
    cpu = {"postgres": used["postgres"], "python": used["gunicorn"]}
    cpu["others"] = max(0.0, machine - sum(cpu.values()))
    return {name: round(seconds, 2) for name, seconds in cpu.items()}


def _connect(database_url: str):
    import psycopg2

    return psycopg2.connect(database_url)


def run_floor(database_url: str) -> tuple[float, dict[str, float]]:
    """The floor statement on its copy, in one transaction: seconds (commit included)."""
    connection = _connect(database_url)
    try:
        with connection.cursor() as cursor:
            cursor.execute("SELECT 1")  # connected and ready, as the workers are
            before = cpu_snapshot(_SELF, database_name(database_url))
            started = time.monotonic()
            backlog_sql.floor(cursor, now=datetime.now(UTC))
            connection.commit()
            seconds = time.monotonic() - started
            cpu = _cpu(before, cpu_snapshot(_SELF, database_name(database_url)))
    finally:
        connection.close()
    return seconds, cpu


def _start_worker(env: dict[str, str], log: Path) -> subprocess.Popen:
    with log.open("w") as errors:
        worker = subprocess.Popen(
            [sys.executable, "-m", "bench.backlog_worker"],
            cwd=REPO,
            env=env,
            stdin=subprocess.PIPE,
            stdout=subprocess.PIPE,
            stderr=errors,
            text=True,
        )
    return worker


def _read_line(worker: subprocess.Popen, log: Path) -> str:
    line = worker.stdout.readline()
    if not line:
        worker.wait(timeout=30)
        raise RuntimeError(f"a dispatcher process ended ({worker.returncode}):\n{log.read_text()}")
    return line


def run_dispatcher(
    database_url: str, env: dict[str, str], workers: int, log_dir: Path
) -> tuple[float, dict[str, float], list[dict]]:
    """`workers` processes running the dispatcher at once on the copy, started together once
    each is connected: seconds from the first start to the last end, CPU, and what each
    reported."""
    env = {**env, "DATABASE_URL": database_url}
    logs = [log_dir / f"backlog.worker-{number}.log" for number in range(1, workers + 1)]
    started = []
    try:
        for log in logs:
            started.append(_start_worker(env, log))
        for worker, log in zip(started, logs, strict=True):
            if _read_line(worker, log).strip() != "ready":
                raise RuntimeError(f"a dispatcher process did not start:\n{log.read_text()}")
        before = cpu_snapshot(_SELF, database_name(database_url))
        for worker in started:
            worker.stdin.write("go\n")
            worker.stdin.flush()
        reports = [
            json.loads(_read_line(worker, log)) for worker, log in zip(started, logs, strict=True)
        ]
        cpu = _cpu(before, cpu_snapshot(_SELF, database_name(database_url)))
    finally:
        for worker in started:
            if worker.poll() is None:
                worker.stdin.close()
        for worker in started:
            try:
                worker.wait(timeout=30)
            except subprocess.TimeoutExpired:
                worker.kill()
                worker.wait(timeout=5)
    seconds = max(r["ended"] for r in reports) - min(r["started"] for r in reports)
    return seconds, cpu, reports


def verify(database_url: str, *, files: int) -> tuple[dict[str, int], list[str]]:
    connection = _connect(database_url)
    try:
        with connection.cursor() as cursor:
            return backlog_sql.check(cursor, files=files)
    finally:
        connection.close()
