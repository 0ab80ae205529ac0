"""PostgreSQL restarted under load: while it is down every request gets a clean 503 (a page
for people, `{"code": "unavailable"}` from the API), and the portal serves again by itself
once it is back, without being restarted.

Real processes: a private PostgreSQL (never the machine's own) that the test stops and
starts, the portal under gunicorn (DEBUG off, as in production), clients in threads.
"""

import subprocess
import sys
import threading
import time
from concurrent.futures import ThreadPoolExecutor

import psycopg2
import pytest

from tests.servers import ROOT, Answer, fetch, portal, portal_env, private_postgres

pytestmark = pytest.mark.timeout(300)

PAGES = ["/", "/statut/", "/en/statut/"]
API = ["/api/v1/offices/"]
CLIENTS = 6


def create_database(server, name: str) -> None:
    conn = psycopg2.connect(server.url("postgres"))
    conn.autocommit = True
    try:
        with conn.cursor() as cursor:
            cursor.execute(f'CREATE DATABASE "{name}"')
    finally:
        conn.close()


def load(url: str, answers: list[tuple[str, Answer]], stopping: threading.Event) -> None:
    """Clients asking for pages and the API, one request after the other, until told."""
    paths = PAGES + API
    index = 0
    while not stopping.is_set():
        path = paths[index % len(paths)]
        answers.append((path, fetch(url + path, timeout=30)))
        index += 1


def assert_clean_503(path: str, answer: Answer) -> None:
    assert answer.headers.get("Retry-After") == "30"
    assert "no-store" in answer.headers.get("Cache-Control", "")
    if path.startswith("/api/"):
        body = answer.json()
        assert body["code"] == "unavailable"
        assert body["detail"]
        return
    assert answer.headers["Content-Type"].startswith("text/html")
    language = "en" if path.startswith("/en/") else "fr"
    assert f'<html lang="{language}">' in answer.text
    assert "Service momentanément indisponible" in answer.text or language == "en"
    # Nothing of the cause reaches the page.
    for leak in ("OperationalError", "psycopg", "Traceback", "5432", ".s.PGSQL"):
        assert leak not in answer.text


def test_requests_get_a_clean_503_while_postgresql_restarts_and_then_are_served(
    tmp_path, static_root, settings
):
    with private_postgres() as server:
        create_database(server, "epassport")
        env = portal_env(
            DATABASE_URL=server.url("epassport"),
            REDIS_URL=settings.CACHES["default"]["LOCATION"],
            CACHE_KEY_PREFIX=settings.CACHES["default"]["KEY_PREFIX"],
            STATIC_ROOT=str(static_root),
            RATE_LIMITS="false",  # six clients on one address, as fast as they can
        )
        subprocess.run(
            [sys.executable, "manage.py", "migrate", "--no-input", "-v", "0"],
            cwd=ROOT,
            env=env,
            check=True,
        )
        with portal(env, tmp_path / "gunicorn.log") as gunicorn:
            url = gunicorn.url
            processes = gunicorn.processes()
            answers: list[tuple[str, Answer]] = []
            stopping = threading.Event()
            with ThreadPoolExecutor(max_workers=CLIENTS) as clients:
                for _ in range(CLIENTS):
                    clients.submit(load, url, answers, stopping)
                time.sleep(1.5)
                server.stop("fast")  # sessions ended at once, mid-request for some
                stopped = time.monotonic()
                time.sleep(3)
                started_again = time.monotonic()
                server.start()
                back = time.monotonic()
                time.sleep(3)
                stopping.set()
            assert gunicorn.processes() == processes  # nothing was restarted

    statuses = {answer.status for _path, answer in answers}
    assert statuses == {200, 503}, sorted(statuses)  # never a 500, never a dropped request
    down = [
        (path, answer)
        for path, answer in answers
        if answer.started > stopped and answer.started + answer.seconds < started_again
    ]
    assert len(down) >= 10
    for path, answer in down:
        assert answer.status == 503, (path, answer.status)
        assert_clean_503(path, answer)
    for path, answer in answers:
        if answer.status == 503:
            assert_clean_503(path, answer)
    after = [answer for _path, answer in answers if answer.started > back]
    assert len(after) >= 10
    assert {answer.status for answer in after} == {200}
