"""/metrics under gunicorn with several workers, as in production (docs/operations.md):
with PROMETHEUS_MULTIPROC_DIR and epassport/gunicorn_conf.py, the worker that answers a
scrape reports the requests of every worker, and a restart starts the counters afresh."""

import os
import signal
import socket
import subprocess
import sys
import time
import urllib.error
import urllib.request
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

import pytest
from django.conf import settings
from prometheus_client.parser import text_string_to_metric_families

from tests.support import database_url

ROOT = Path(__file__).resolve().parent.parent
HEALTHZ_COUNT = "django_http_requests_latency_seconds_by_view_method_count"


def _free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


def _get(url: str) -> tuple[int, bytes]:
    try:
        with urllib.request.urlopen(url, timeout=10) as response:  # noqa: S310 - our server
            return response.status, response.read()
    except urllib.error.HTTPError as error:  # /healthz answers 503 without a heartbeat
        return error.code, error.read()


class Gunicorn:
    def __init__(self, multiproc_dir: Path) -> None:
        self.port = _free_port()
        self.url = f"http://127.0.0.1:{self.port}"
        env = {
            **os.environ,
            "DATABASE_URL": database_url(),
            "CACHE_KEY_PREFIX": settings.CACHES["default"]["KEY_PREFIX"],
            "DEBUG": "true",
            "SECURE_SSL_REDIRECT": "false",
            "PROMETHEUS_MULTIPROC_DIR": str(multiproc_dir),
        }
        self.process = subprocess.Popen(
            [
                sys.executable,
                "-m",
                "gunicorn",
                "epassport.wsgi",
                "-c",
                "python:epassport.gunicorn_conf",
                "--workers",
                "2",
                "--bind",
                f"127.0.0.1:{self.port}",
                "--log-level",
                "warning",
            ],
            cwd=ROOT,
            env=env,
            start_new_session=True,
        )
        deadline = time.monotonic() + 60
        while True:
            assert self.process.poll() is None, "gunicorn exited"
            try:
                if _get(f"{self.url}/metrics")[0] == 200:
                    break
            except OSError:
                pass
            assert time.monotonic() < deadline, "gunicorn did not answer"
            time.sleep(0.2)

    def stop(self) -> None:
        if self.process.poll() is None:
            os.killpg(self.process.pid, signal.SIGTERM)
        self.process.wait(timeout=30)

    def healthz_answered(self) -> int:
        """How many /healthz requests the scraped figures say the workers answered."""
        status, body = _get(f"{self.url}/metrics")
        assert status == 200
        for family in text_string_to_metric_families(body.decode()):
            for sample in family.samples:
                if sample.name == HEALTHZ_COUNT and sample.labels.get("view") == "healthz":
                    return int(sample.value)
        return 0


def _worker_pids(directory: Path) -> set[str]:
    """The processes that wrote counters (prometheus_client names the files by pid)."""
    return {path.stem.rsplit("_", 1)[-1] for path in directory.glob("*.db")}


def _load(gunicorn: Gunicorn, directory: Path) -> int:
    """Requests /healthz from 8 clients at once until both workers have answered some
    (bounded); returns how many were answered."""
    answered = 0
    with ThreadPoolExecutor(max_workers=8) as pool:
        for _ in range(20):
            statuses = list(pool.map(lambda _i: _get(f"{gunicorn.url}/healthz")[0], range(16)))
            assert set(statuses) <= {200, 503}
            answered += len(statuses)
            if len(_worker_pids(directory)) >= 2:
                break
    assert len(_worker_pids(directory)) >= 2, "one worker answered every request"
    return answered


@pytest.mark.django_db
def test_a_scrape_sums_the_requests_of_every_worker(tmp_path):
    directory = tmp_path / "prometheus"
    gunicorn = Gunicorn(directory)
    try:
        assert gunicorn.healthz_answered() == 0
        answered = _load(gunicorn, directory)
        # Whichever worker answers the scrape, it counts every worker's requests.
        assert gunicorn.healthz_answered() == answered
        assert gunicorn.healthz_answered() == answered
    finally:
        gunicorn.stop()

    # A restart of gunicorn forgets the counters of the previous run.
    assert _worker_pids(directory)
    gunicorn = Gunicorn(directory)
    try:
        assert gunicorn.healthz_answered() == 0
    finally:
        gunicorn.stop()
