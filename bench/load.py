"""The load of the benchmarks served over HTTP: wrk runs with a script (bench/booking_rush.lua
for the booking rush, bench/track.lua for tracking), the CPU time each side used during a
run, and the booking rush's phases (warm-ups, alternating rounds of floor and spread, the
hot slot).

wrk is C and takes little from the server it measures (0.06 s of CPU per second at 850
requests/s; a pure-Python generator, tried before, took a quarter of a core and cut the
floor from 850 to 720 requests/s). It is installed with apt-get when missing. wrk does not
read the answers still in flight at its deadline: the script reports how many requests were
sent, and the database check allows for those (they may have been carried out).
"""

from __future__ import annotations

import contextlib
import json
import os
import shutil
import subprocess
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import ClassVar, Protocol

BOOKING_PATH = "/api/v1/bookings/"
FLOOR_PATH = "/bench/floor/"
WRK_SCRIPT = Path(__file__).resolve().with_name("booking_rush.lua")
CLK_TCK = os.sysconf("SC_CLK_TCK")


class WrkLoad(Protocol):
    """What one run of wrk sends: its URL's `path`, its `script` and that script's
    parameters (`environment`, given wrk's thread count)."""

    path: str
    script: ClassVar[Path]

    def environment(self, threads: int) -> dict[str, str]: ...


@dataclass
class Load:
    """What the clients of one run of the booking rush send: POST `path` with a unique JSON
    booking body per request, on slots `first` .. `first + count - 1` in round robin over
    all clients starting at position `start` (count 1: the hot slot); national ids start
    with `prefix` (unique per run)."""

    path: str
    first: int
    count: int
    prefix: str
    start: int = 0
    script: ClassVar[Path] = WRK_SCRIPT

    def environment(self, threads: int) -> dict[str, str]:
        return {
            "RUSH_FIRST_SLOT": str(self.first),
            "RUSH_SLOTS": str(self.count),
            "RUSH_START": str(self.start),
            "RUSH_PREFIX": self.prefix,
            "RUSH_THREADS": str(threads),
        }


@dataclass
class Run:
    """What one run of wrk saw."""

    requests: int
    in_flight: int  # sent but left unanswered at the deadline, carried out or not
    seconds: float
    statuses: dict[int, int]
    codes: dict[str, int]  # answers by their body's "code" (statuses the script names)
    socket_errors: int
    quantiles: list[tuple[float, float]]  # (percent, ms), from (0, min) to (100, max)
    cpu: dict[str, float] = field(default_factory=dict)


def wrk_available() -> str | None:
    """wrk, installed with apt-get when missing (as root or with password-less sudo)."""
    found = shutil.which("wrk")
    apt = shutil.which("apt-get")
    if found or apt is None:
        return found
    sudo = [] if os.geteuid() == 0 else ["sudo", "-n"]
    if sudo and shutil.which("sudo") is None:
        return None
    print("wrk is missing: installing it with apt-get…", flush=True)
    quiet = {"stdout": subprocess.DEVNULL, "stderr": subprocess.DEVNULL, "check": False}
    env = {**os.environ, "DEBIAN_FRONTEND": "noninteractive"}
    if subprocess.run([*sudo, apt, "install", "-y", "wrk"], env=env, **quiet).returncode:
        subprocess.run([*sudo, apt, "update"], env=env, **quiet)
        subprocess.run([*sudo, apt, "install", "-y", "wrk"], env=env, **quiet)
    return shutil.which("wrk")


def run_wrk(wrk: str, port: int, load: WrkLoad, clients: int, seconds: int) -> Run:
    threads = max(1, min(2, clients))  # wrk needs little CPU: leave the cores to the server
    env = {**os.environ, **load.environment(threads)}
    command = [
        *(wrk, f"-t{threads}", f"-c{clients}", f"-d{seconds}s", "--timeout", "30s"),
        *("-s", str(load.script), f"http://127.0.0.1:{port}{load.path}"),
    ]
    done = subprocess.run(
        command, env=env, capture_output=True, text=True, timeout=seconds + 120, check=False
    )
    for line in done.stdout.splitlines():
        if line.startswith("WRKJSON "):
            raw = json.loads(line.removeprefix("WRKJSON "))
            break
    else:
        raise RuntimeError(f"wrk failed ({done.returncode}):\n{done.stdout}\n{done.stderr}")
    return Run(
        requests=raw["requests"],
        in_flight=max(0, raw["sent"] - raw["requests"]),
        seconds=raw["duration_us"] / 1e6,
        statuses={int(k): v for k, v in raw["statuses"].items()},
        codes=raw["codes"],
        socket_errors=raw["errors"],
        quantiles=[(p, us / 1000) for p, us in raw["quantiles_us"]],
    )


# CPU accounting --------------------------------------------------------------------------


def _proc_stat(pid: int) -> tuple[str, int, int] | None:
    """(comm, ppid, utime + stime in ticks) of a process, or None when it is gone."""
    try:
        raw = Path(f"/proc/{pid}/stat").read_text()
    except OSError:
        return None
    comm = raw[raw.index("(") + 1 : raw.rindex(")")]
    fields = raw[raw.rindex(")") + 2 :].split()
    return comm, int(fields[1]), int(fields[11]) + int(fields[12])


def _machine_busy() -> int:
    """Ticks the whole machine spent busy (every core), from /proc/stat."""
    fields = Path("/proc/stat").read_text().split("\n", 1)[0].split()[1:]
    user, nice, system, _idle, _iowait, irq, softirq, steal = (int(f) for f in fields[:8])
    return user + nice + system + irq + softirq + steal


def cpu_snapshot(gunicorn_pid: int, database: str) -> dict[str, dict[int, int]]:
    """CPU ticks per process of the gunicorn tree and of the PostgreSQL backends serving the
    benchmark's database, and of the whole machine."""
    stats = {}
    for entry in os.listdir("/proc"):
        if entry.isdigit():
            stat = _proc_stat(int(entry))
            if stat:
                stats[int(entry)] = stat
    server = {pid: s[2] for pid, s in stats.items() if pid == gunicorn_pid or s[1] == gunicorn_pid}
    postgres = {}
    for pid, stat in stats.items():
        if stat[0] == "postgres":
            with contextlib.suppress(OSError):
                # "postgres: [cluster:] user database host(port) state"
                words = Path(f"/proc/{pid}/cmdline").read_bytes().replace(b"\0", b" ").split()
                if database.encode() in words[1:5]:
                    postgres[pid] = stat[2]
    return {"gunicorn": server, "postgres": postgres, "machine": {0: _machine_busy()}}


def cpu_used(before: dict, after: dict) -> dict[str, float]:
    """CPU seconds used between two snapshots (processes that ended in between are lost)."""
    return {
        group: sum(ticks - before[group].get(pid, 0) for pid, ticks in after[group].items())
        / CLK_TCK
        for group in after
    }


class Driver:
    """Runs wrk against the server, with the CPU accounting around each run."""

    def __init__(self, wrk: str, port: int, gunicorn_pid: int, database: str):
        self.wrk, self.port = wrk, port
        self.gunicorn_pid, self.database = gunicorn_pid, database

    def run(self, load: WrkLoad, clients: int, seconds: int) -> Run:
        before, children = cpu_snapshot(self.gunicorn_pid, self.database), os.times()
        run = run_wrk(self.wrk, self.port, load, clients, seconds)
        after = os.times()
        run.cpu = cpu_used(before, cpu_snapshot(self.gunicorn_pid, self.database))
        # wrk is a child, waited for: os.times() counts its CPU time.
        run.cpu["load generator"] = (after.children_user + after.children_system) - (
            children.children_user + children.children_system
        )
        machine = run.cpu.pop("machine")
        run.cpu["others"] = max(0.0, machine - sum(run.cpu.values()))
        return run


# Phases ------------------------------------------------------------------------------------

PATHS = {"floor": FLOOR_PATH, "spread": BOOKING_PATH, "hot": BOOKING_PATH}


def alternate(names: list[str], rounds: int) -> Iterator[str]:
    """The phases `names` in `rounds` rounds, every other round backwards (floor, spread,
    spread, floor...), so that a change of the machine's load weighs on each alike."""
    for number in range(rounds):
        yield from names if number % 2 == 0 else reversed(names)


def measure(args, driver: Driver, fixture, phases: list[str]) -> tuple[dict, dict]:
    """Warm-ups, then the floor and spread phases in alternating rounds (so that a change of
    the machine's load hits both alike), then the hot slot. Returns the measured runs and
    all runs (warm-ups included), by phase."""
    first = {"floor": fixture.floor_first, "spread": fixture.spread_first}
    runs: dict[str, list[Run]] = {name: [] for name in phases}
    measured: dict[str, list[Run]] = {name: [] for name in phases}
    sent = {"floor": 0, "spread": 0}  # round robin over the slots goes on from run to run

    def one(name: str, seconds: int, tag: str) -> Run:
        if name == "hot":
            slot = fixture.warm_hot_slot if tag == "W" else fixture.hot_slot
            load = Load(BOOKING_PATH, slot, 1, f"H{tag}{len(runs[name])}")
        else:
            load = Load(
                PATHS[name], first[name], args.slots, f"{name[0].upper()}{tag}{len(runs[name])}"
            )
            load.start = sent[name]
        run = driver.run(load, args.clients, seconds)
        if name in sent:
            sent[name] += run.requests + run.in_flight + args.clients  # threads differ a little
        runs[name].append(run)
        return run

    warmup = max(1, round(args.warmup)) if args.warmup > 0 else 0
    for name in phases:
        if warmup:
            one(name, warmup, "W")
    rounds = [name for name in ("floor", "spread") if name in phases]
    each = max(1, round(args.duration / args.rounds))
    for name in alternate(rounds, args.rounds):
        measured[name].append(one(name, each, "M"))
    if "hot" in phases:
        measured["hot"].append(one("hot", max(1, round(args.hot_duration)), "M"))
    return measured, runs
