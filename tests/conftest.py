import os
import uuid

import psycopg2
import pytest
from django.db import connection
from psycopg2 import sql

from tests.backup_support import url_of
from tests.browser import CHROMIUM_ARGS, PHONE, chromium_path


@pytest.fixture(scope="session")
def browser():
    from playwright.sync_api import sync_playwright

    # Playwright's sync API keeps an asyncio loop in this thread, which makes Django refuse
    # ORM calls; those calls (test data, database set-up) are still synchronous and safe.
    previous = os.environ.get("DJANGO_ALLOW_ASYNC_UNSAFE")
    os.environ["DJANGO_ALLOW_ASYNC_UNSAFE"] = "true"
    try:
        with sync_playwright() as playwright:
            chromium = playwright.chromium.launch(
                executable_path=chromium_path(), args=CHROMIUM_ARGS
            )
            yield chromium
            chromium.close()
    finally:
        if previous is None:
            os.environ.pop("DJANGO_ALLOW_ASYNC_UNSAFE", None)
        else:
            os.environ["DJANGO_ALLOW_ASYNC_UNSAFE"] = previous


@pytest.fixture
def new_page(browser):
    """Opens a page in a browser context of its own (one person: own cookies, own session),
    on a phone's screen unless `viewport` says otherwise; every context is closed after the
    test, whatever its outcome. Every page of every browser test is watched for violations
    of the Content-Security-Policy (Chromium reports each in the console): one fails the
    test."""
    contexts = []
    violations = []

    def watch(message) -> None:
        if "Content Security Policy" in message.text:
            violations.append(f"{message.location.get('url')}: {message.text}")

    def open_page(viewport: dict = PHONE, **options):
        # options: those of a browser context, e.g. java_script_enabled=False
        context = browser.new_context(viewport=viewport, **{"locale": "fr-FR", **options})
        contexts.append(context)
        page = context.new_page()
        page.set_default_timeout(15_000)
        page.on("console", watch)
        return page

    yield open_page
    for context in contexts:
        context.close()
    assert violations == [], "Content-Security-Policy violations:\n" + "\n".join(violations)


@pytest.fixture
def page(new_page):
    """A French-speaking applicant's page, on a phone."""
    return new_page()


# --- Celery and faults --------------------------------------------------------
@pytest.fixture(scope="session")
def static_root(tmp_path_factory):
    """The static files collected once, as `collectstatic` does in production: a portal
    process started with DEBUG off (tests/servers.py) serves them from there."""
    from tests.servers import collect_static

    return collect_static(tmp_path_factory.mktemp("static"))


# --- Backups (test_backup_create.py, test_backup_restore.py) ---------------------


@pytest.fixture
def new_name():
    """Names of databases for restores, each dropped afterwards."""
    names = []

    def make() -> str:
        names.append(f"{connection.settings_dict['NAME']}_restored_{uuid.uuid4().hex[:8]}")
        return names[-1]

    yield make
    conn = psycopg2.connect(url_of("postgres"))
    conn.autocommit = True
    try:
        with conn.cursor() as cursor:
            for name in names:
                cursor.execute(
                    sql.SQL("DROP DATABASE IF EXISTS {} WITH (FORCE)").format(sql.Identifier(name))
                )
    finally:
        conn.close()
