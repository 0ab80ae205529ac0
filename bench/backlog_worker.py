"""One dispatcher process of the backlog benchmark (bench/backlog.py), started as
``python -m bench.backlog_worker`` in the repository with the benchmark's environment (the
phase's copy of the database in DATABASE_URL).

It sets Django up and connects, says ``ready`` on its standard output, waits for ``go`` on
its standard input, runs production.backlog.backlog_run (the dispatcher itself, not
backlog_run_once, whose Redis lock would make a second process leave at once), then prints
one JSON line: its start and end on the machine's monotonic clock (shared by every process,
so the parent times several workers from the first start to the last end) and what it
dispatched. It keeps its database connection until its standard input closes, so that the
parent can count the CPU time of its PostgreSQL backend first.
"""

import json
import os
import sys
import time


def main() -> int:
    import django

    django.setup()
    from django.db import connection

    from core import chunks
    from production import backlog

    if chunk := os.environ.get("BENCH_BACKLOG_CHUNK"):  # --chunk: another size to try
        chunks.CHUNK = int(chunk)
    connection.ensure_connection()
    print("ready", flush=True)
    if sys.stdin.readline().strip() != "go":
        return 1
    started = time.monotonic()
    run = backlog.backlog_run()
    ended = time.monotonic()
    print(
        json.dumps(
            {
                "started": started,
                "ended": ended,
                "held": run.held,
                "released": run.released,
                "dispatched": run.dispatched,
            }
        ),
        flush=True,
    )
    sys.stdin.read()  # until the parent closes it
    connection.close()
    return 0


if __name__ == "__main__":
    sys.exit(main())
