"""/metrics: django-prometheus's figures and the portal's own, for METRICS_ALLOWED_IPS only."""

import os
import subprocess
import sys
from datetime import timedelta
from pathlib import Path

import pytest
from django.core.exceptions import ImproperlyConfigured
from django.db import connection
from django.utils import timezone
from prometheus_client.parser import text_string_to_metric_families

from appointments.models import Appointment
from appointments.tests.factories import book, displace, paris_consulate
from core import health
from core.models import OutboxMessage
from epassport.settings.environment import networks
from production.models import FileStatus
from production.tests.factories import CentreFactory, PassportFileFactory

pytestmark = pytest.mark.django_db

ROOT = Path(__file__).resolve().parent.parent


def scrape(client, **extra) -> dict[tuple[str, tuple], float]:
    """{(sample name, sorted labels): value} of one scrape from 127.0.0.1."""
    response = client.get("/metrics", **extra)
    assert response.status_code == 200
    assert response["Content-Type"].startswith("text/plain; version=")
    assert "no-cache" in response["Cache-Control"]
    samples = {}
    for family in text_string_to_metric_families(response.content.decode()):
        for sample in family.samples:
            samples[(sample.name, tuple(sorted(sample.labels.items())))] = sample.value
    return samples


def value(samples, name: str, **labels) -> float:
    return samples[(name, tuple(sorted(labels.items())))]


@pytest.fixture
def world():
    """Bamako's centre with files at every waiting status (and some not waiting), Kayes's
    with none, the consulate in Paris with bookings and a displaced appointment."""
    bamako = CentreFactory(office__code="bko-centre", daily_capacity=120)
    kayes = CentreFactory(office__code="kayes-centre", daily_capacity=40)
    for status, n in [
        (FileStatus.ON_HOLD, 2),
        (FileStatus.ENROLLED, 3),
        (FileStatus.QUEUED, 5),
        (FileStatus.IN_PRODUCTION, 7),
        (FileStatus.DELIVERED, 4),
    ]:
        PassportFileFactory.create_batch(n, centre=bamako, status=status)
    paris = paris_consulate()
    recent = [book(paris)[0] for _ in range(3)]
    # Booked two hours ago: not in the last hour.
    Appointment.objects.filter(pk=recent[0].pk).update(
        created_at=timezone.now() - timedelta(hours=2)
    )
    displace(book(bamako.office, timezone.now() + timedelta(days=3))[0])
    return {"bamako": bamako, "kayes": kayes, "paris": paris}


def test_the_portal_figures_at_scrape_time(client, world):
    health.record_heartbeat()
    samples = scrape(client)
    assert value(samples, "epassport_portal_figures_up") == 1
    backlog = "epassport_backlog_files"
    assert value(samples, backlog, centre="bko-centre", status="on_hold") == 2
    assert value(samples, backlog, centre="bko-centre", status="enrolled") == 3
    assert value(samples, backlog, centre="bko-centre", status="queued") == 5
    for status in ("on_hold", "enrolled", "queued"):  # a centre with none shows zeros
        assert value(samples, backlog, centre="kayes-centre", status=status) == 0
    assert not [key for key in samples if key[0] == backlog and "paris-consulat" in str(key)]
    assert value(samples, "epassport_centre_daily_capacity", centre="bko-centre") == 120
    # Four bookings were made (three at Paris, one at Bamako), one of them two hours ago.
    assert value(samples, "epassport_bookings_last_hour", office="paris-consulat") == 2
    assert value(samples, "epassport_bookings_last_hour", office="bko-centre") == 1
    assert value(samples, "epassport_bookings_last_hour", office="kayes-centre") == 0
    assert value(samples, "epassport_displaced_appointments", office="bko-centre") == 1
    assert value(samples, "epassport_displaced_appointments", office="paris-consulat") == 0
    # Each booking wrote an email and an SMS, and the displacement one more of each.
    assert value(samples, "epassport_outbox_waiting", channel="email") == 5
    assert value(samples, "epassport_outbox_waiting", channel="sms") == 5
    OutboxMessage.objects.filter(channel="sms").update(status="sent")
    OutboxMessage.objects.filter(channel="email").update(
        created_at=timezone.now() - timedelta(minutes=20)
    )
    samples = scrape(client)
    assert value(samples, "epassport_outbox_waiting", channel="sms") == 0
    assert value(samples, "epassport_outbox_oldest_waiting_seconds", channel="sms") == 0
    assert value(samples, "epassport_outbox_oldest_waiting_seconds", channel="email") > 1190
    assert 0 <= value(samples, "epassport_celery_heartbeat_age_seconds") < 60


def test_django_prometheus_counts_requests_and_database_queries(client, world):
    before = scrape(client)
    client.get("/healthz")
    after = scrape(client)
    views = "django_http_requests_latency_seconds_by_view_method_count"
    healthz = {"view": "healthz", "method": "GET"}
    assert (
        value(after, views, **healthz)
        == before.get((views, tuple(sorted(healthz.items()))), 0) + 1
    )
    queries = ("django_db_execute_total", (("alias", "default"), ("vendor", "postgresql")))
    assert after[queries] > before[queries] > 0
    assert not [name for name, _labels in after if name.endswith("_created")]


def test_answers_are_counted_by_status_view_and_method_and_nothing_unread(client, world):
    """The figures the alerts read (docs/operations.md): answers by status, view and method
    (a 404 of the API under its view), their latency; django-prometheus's other request
    figures are not updated, so they are not served either (they would read as zero)."""
    answers = "django_http_responses_total_by_status_view_method_total"
    not_found = {"status": "404", "view": "appointments-api:booking", "method": "GET"}
    before = scrape(client)
    client.get("/api/v1/bookings/ABCD-EFGH/")
    client.get("/api/v1/bookings/ABCD-EFGH/")
    after = scrape(client)
    key = (answers, tuple(sorted(not_found.items())))
    assert after[key] == before.get(key, 0) + 2
    latency = "django_http_requests_latency_seconds_by_view_method_count"
    view = {"view": not_found["view"], "method": "GET"}
    assert (
        value(after, latency, **view) == before.get((latency, tuple(sorted(view.items()))), 0) + 2
    )
    names = {name for name, _labels in after}
    assert not [name for name in names if "before_middlewares" in name or "by_transport" in name]


def test_a_bounded_number_of_queries_whatever_the_data(
    client, world, django_assert_max_num_queries
):
    with django_assert_max_num_queries(5):
        scrape(client)
    for n in range(10):
        centre = CentreFactory(office__code=f"centre-extra-{n}")
        PassportFileFactory.create_batch(3, centre=centre, status=FileStatus.QUEUED)
        book(world["paris"])
    with django_assert_max_num_queries(5):
        samples = scrape(client)
    assert value(samples, "epassport_backlog_files", centre="centre-extra-9", status="queued") == 3


def test_the_bookings_of_the_last_hour_have_an_index():
    with connection.cursor() as cursor:
        cursor.execute(
            "SELECT indexdef FROM pg_indexes WHERE indexname = 'appointment_created_at_brin'"
        )
        (definition,) = cursor.fetchone()
    assert "USING brin (created_at)" in definition


# Who may scrape -----------------------------------------------------------------------------


@pytest.mark.parametrize(
    "address", ["203.0.113.7", "10.1.2.3", "192.168.1.20", "2001:db8::1", "", "nonsense"]
)
def test_any_other_address_gets_404(client, address):
    response = client.get("/metrics", REMOTE_ADDR=address)
    assert response.status_code == 404
    assert b"epassport_" not in response.content


@pytest.mark.parametrize("address", ["127.0.0.1", "::1", "::ffff:127.0.0.1"])
def test_the_loopback_addresses_are_allowed_by_default(client, address):
    assert client.get("/metrics", REMOTE_ADDR=address).status_code == 200


@pytest.mark.parametrize(
    "header",
    [
        {"HTTP_X_FORWARDED_FOR": "127.0.0.1"},
        {"HTTP_FORWARDED": "for=127.0.0.1"},
        {"HTTP_X_REAL_IP": "127.0.0.1"},
    ],
)
def test_a_request_relayed_by_a_proxy_on_the_same_host_gets_404(client, header):
    # nginx on the web host connects from 127.0.0.1: the proxy's header gives it away.
    assert client.get("/metrics", REMOTE_ADDR="127.0.0.1", **header).status_code == 404


def test_networks_of_the_setting_are_allowed(client, settings):
    settings.METRICS_ALLOWED_IPS = ["10.20.0.0/16", "192.0.2.5"]
    assert client.get("/metrics", REMOTE_ADDR="10.20.3.4").status_code == 200
    assert client.get("/metrics", REMOTE_ADDR="192.0.2.5").status_code == 200
    assert client.get("/metrics", REMOTE_ADDR="10.21.0.1").status_code == 404
    assert client.get("/metrics", REMOTE_ADDR="127.0.0.1").status_code == 404


def test_an_empty_setting_lets_nobody_in(client, settings):
    settings.METRICS_ALLOWED_IPS = []
    assert client.get("/metrics").status_code == 404


def test_post_is_refused(client):
    assert client.post("/metrics").status_code == 405


def test_a_malformed_setting_stops_the_start(monkeypatch):
    monkeypatch.setenv("METRICS_ALLOWED_IPS", "127.0.0.1,10.0.0.0/8,::1")
    assert networks("METRICS_ALLOWED_IPS", default=[]) == ["127.0.0.1", "10.0.0.0/8", "::1"]
    monkeypatch.setenv("METRICS_ALLOWED_IPS", "127.0.0.1,localhost")
    with pytest.raises(ImproperlyConfigured, match="METRICS_ALLOWED_IPS"):
        networks("METRICS_ALLOWED_IPS", default=[])


def test_with_the_database_down_the_figures_say_so_and_the_rest_is_served():
    # Another process whose database is a closed port: the scrape still answers, with
    # django-prometheus's figures and epassport_portal_figures_up 0.
    code = (
        "import django; django.setup()\n"
        "from django.test import Client\n"
        "r = Client().get('/metrics')\n"
        "print(r.status_code); print(r.content.decode())\n"
    )
    env = {
        **os.environ,
        "DJANGO_SETTINGS_MODULE": "epassport.settings",
        "DATABASE_URL": "postgres://postgres@127.0.0.1:1/nothing",
        "DEBUG": "true",
        "ALLOWED_HOSTS": "testserver",
    }
    result = subprocess.run(
        [sys.executable, "-c", code], cwd=ROOT, env=env, capture_output=True, text=True, timeout=60
    )
    assert result.returncode == 0, result.stderr
    status, _, body = result.stdout.partition("\n")
    assert status == "200"
    assert "epassport_portal_figures_up 0.0" in body
    assert "django_http_responses_total_by_status_view_method_total" in body
    assert "epassport_backlog_files{" not in body
