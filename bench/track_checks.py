"""The checks of the tracking benchmark (bench/track.py) before its load, on a sample of the
data (bench/track_data.py's `samples`: a few files of each status and a few appointments):

- `compare`: the tracking API and its floor agree (same status, same steps) for each file,
  the API finds each appointment, and another date of birth answers 404 ``not_found``
  from both; through any `get` (`http_get` to the server in the benchmark, `client_get`
  through Django's test client in tests/test_bench_track.py);
- `queries_per_lookup`: the SQL statements of one lookup of each sample through Django's
  test client, counted in this process (CaptureQueriesContext) once the estimate's
  schedule is read;
- `schedule_seconds`: how long reading that schedule takes (each server process does it
  every TRACKING_SCHEDULE_TTL seconds, inside the lookup that finds it stale).
"""

from __future__ import annotations

import http.client
import json
import time
import urllib.parse
from collections.abc import Callable
from datetime import date, timedelta

API_PATH = "/api/v1/track/"
FLOOR_PATH = "/bench/track-floor/"

Get = Callable[[str, dict[str, str]], tuple[int, dict]]  # (path, query) -> (status, JSON)
Sample = tuple[str, str, date]  # (status or "appointment", reference, birth date)


def http_get(port: int) -> Get:
    """GET on the benchmark's server, one connection per request."""

    def get(path: str, query: dict[str, str]) -> tuple[int, dict]:
        connection = http.client.HTTPConnection("127.0.0.1", port, timeout=30)
        try:
            connection.request("GET", f"{path}?{urllib.parse.urlencode(query)}")
            response = connection.getresponse()
            return response.status, json.loads(response.read() or b"{}")
        finally:
            connection.close()

    return get


def _steps(answer: dict) -> list[str]:
    return [step["status"] for step in answer.get("timeline", [])]


def compare(get: Get, samples: list[Sample]) -> list[str]:
    """What is wrong in the answers of the API and of the floor for `samples`."""
    wrong = []
    for status, reference, birth_date in samples:
        query = {"reference": reference, "birth_date": birth_date.isoformat()}
        code, api = get(API_PATH, query)
        kind = "appointment" if status == "appointment" else "file"
        if code != 200 or api.get("kind") != kind:
            wrong.append(f"{reference} ({status}): the API answered {code} {api}")
            continue
        if kind == "file":
            code, floor = get(FLOOR_PATH, query)
            if code != 200:
                wrong.append(f"{reference} ({status}): the floor answered {code} {floor}")
            elif not api["status"] == floor["status"] == status:
                wrong.append(f"{reference}: status {api['status']} (API), {floor['status']}")
            elif _steps(api) != _steps(floor) or _steps(api)[-1] != status:
                wrong.append(f"{reference}: steps {_steps(api)} (API), {_steps(floor)}")
        other = {**query, "birth_date": (birth_date + timedelta(days=1)).isoformat()}
        for path in [API_PATH] + ([FLOOR_PATH] if kind == "file" else []):
            code, answer = get(path, other)
            if code != 404 or answer.get("code") != "not_found":
                wrong.append(f"{path} {reference}, another birth date: {code} {answer}")
    return wrong


def client_get(client) -> Get:
    """GET through a Django test client, in this process."""

    def get(path: str, query: dict[str, str]) -> tuple[int, dict]:
        response = client.get(path, query)
        return response.status_code, json.loads(response.content or b"{}")

    return get


def queries_per_lookup(client, samples: list[Sample]) -> dict[str, list[int]]:
    """The SQL statements of one GET /api/v1/track/ of each sample, by status, through
    `client` (a Django test client, in this process), the estimate's schedule read
    beforehand (by a first lookup, not counted)."""
    from django.db import connection
    from django.test.utils import CaptureQueriesContext

    def lookup(reference: str, birth_date: date) -> None:
        query = {"reference": reference, "birth_date": birth_date.isoformat()}
        response = client.get(API_PATH, query)
        if response.status_code != 200:
            raise RuntimeError(f"{reference}: {response.status_code} {response.content!r}")

    files = [sample for sample in samples if sample[0] != "appointment"]
    if files:
        lookup(*files[0][1:])  # reads the schedule
    counted: dict[str, list[int]] = {}
    for status, reference, birth_date in samples:
        with CaptureQueriesContext(connection) as queries:
            lookup(reference, birth_date)
        counted.setdefault(status, []).append(len(queries.captured_queries))
    return counted


def schedule_seconds(*, tries: int = 3) -> float:
    """The best of `tries` reads of the estimate's schedule (production.estimate)."""
    from production.estimate import schedule_read

    best = float("inf")
    for _ in range(tries):
        started = time.monotonic()
        schedule_read()
        best = min(best, time.monotonic() - started)
    return best
