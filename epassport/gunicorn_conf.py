"""gunicorn settings for the portal's metrics with several workers:
`gunicorn epassport.wsgi -c python:epassport.gunicorn_conf --workers 5 ...`.

Each gunicorn worker is a process with its own counters. With PROMETHEUS_MULTIPROC_DIR set
(an empty directory of its own, writable by gunicorn, on a local disk: a tmpfs is best),
prometheus_client keeps every worker's counters in files there and /metrics sums them
(production/metrics.py). Without the variable these hooks do nothing.

Set the variable for gunicorn only: a Celery worker started with it on the same host would
write its database counters into the web's figures.
"""

import os
from pathlib import Path


def _multiproc_dir() -> Path | None:
    value = os.environ.get("PROMETHEUS_MULTIPROC_DIR")
    return Path(value) if value else None


def on_starting(server) -> None:
    """Before the workers start: the counters of a previous run of gunicorn are forgotten
    (Prometheus sees a restart as a counter reset, as it should)."""
    directory = _multiproc_dir()
    if directory is None:
        return
    directory.mkdir(parents=True, exist_ok=True)
    for leftover in directory.glob("*.db"):
        leftover.unlink()


def child_exit(server, worker) -> None:
    """A worker ended (restarted by max_requests, killed): its live gauges go; its counters
    stay in the sums."""
    if _multiproc_dir() is None:
        return
    from prometheus_client import multiprocess

    multiprocess.mark_process_dead(worker.pid)
