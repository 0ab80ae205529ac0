"""/metrics: the portal's figures for Prometheus, for the operators and never for the public.

Two sources in one answer:

- django-prometheus: requests by view, method and status, their latencies, exceptions (its
  two middlewares) and database queries, connections and errors (its PostgreSQL backend).
  With several gunicorn workers, PROMETHEUS_MULTIPROC_DIR makes every worker write its
  counters to files there and the worker that answers the scrape sums them all
  (epassport/gunicorn_conf.py clears the directory when gunicorn starts);
- the portal's own figures, read from the database at each scrape (`PortalCollector`): the
  backlog of each production centre, the bookings of the last hour, the displaced
  appointments, the outbox waiting to be sent and the age of the Celery heartbeat. Five
  queries whatever the size of the data, each on an index; they are the same in every
  worker, so they are computed by the one that answers, not summed.

Only the addresses of METRICS_ALLOWED_IPS get an answer; anyone else gets the 404 of a page
that does not exist. docs/operations.md lists the figures to watch and their thresholds.
"""

import ipaddress
import os
import time
from collections import Counter
from collections.abc import Iterable, Iterator
from datetime import datetime, timedelta
from functools import lru_cache

import prometheus_client
from django.conf import settings
from django.core.cache import cache
from django.db import DatabaseError
from django.db.models import Count, Min
from django.http import Http404, HttpRequest, HttpResponse
from django.utils import timezone
from django.views.decorators.cache import never_cache
from django.views.decorators.http import require_GET
from prometheus_client import multiprocess
from prometheus_client.core import GaugeMetricFamily
from prometheus_client.registry import Collector, CollectorRegistry

from appointments.models import Appointment
from core import clients
from core.health import HEARTBEAT_KEY
from core.models import Office, OutboxMessage
from production.models import WAITING, PassportFile

# Counters and histograms without their `_created` series (the time each was created): half
# the lines of a scrape, and nothing the figures to watch use.
prometheus_client.disable_created_metrics()

# Headers that a reverse proxy adds to the requests it relays. Prometheus scrapes each web
# host directly: a request that went through the proxy is never a scrape, even when the
# proxy runs on the same host and so connects from 127.0.0.1.
FORWARDING_HEADERS = ("HTTP_X_FORWARDED_FOR", "HTTP_FORWARDED", "HTTP_X_REAL_IP")


# Who may read the metrics --------------------------------------------------------------------


@lru_cache(maxsize=8)
def _networks(allowed: tuple[str, ...]) -> tuple[ipaddress.IPv4Network | ipaddress.IPv6Network]:
    return tuple(ipaddress.ip_network(entry, strict=False) for entry in allowed)


def metrics_client_address(request: HttpRequest) -> str:
    """The address the metrics check trusts: the client's, as every per-address rule takes it
    (appointments.clients.client_address). Requests relayed by a proxy are refused before
    it is read (metrics_allowed), so it is the TCP peer in practice."""
    return clients.client_address(request)


def metrics_allowed(request: HttpRequest) -> bool:
    """True for a request from an address or network of METRICS_ALLOWED_IPS that did not
    come through a proxy."""
    if any(request.META.get(header) for header in FORWARDING_HEADERS):
        return False
    try:
        address = ipaddress.ip_address(metrics_client_address(request).strip())
    except ValueError:
        return False
    if isinstance(address, ipaddress.IPv6Address) and address.ipv4_mapped is not None:
        address = address.ipv4_mapped
    return any(address in network for network in _networks(tuple(settings.METRICS_ALLOWED_IPS)))


# The portal's own figures ------------------------------------------------------------------


def _gauge(name: str, documentation: str, labels: Iterable[str] = ()) -> GaugeMetricFamily:
    return GaugeMetricFamily(name, documentation, labels=list(labels))


class PortalCollector(Collector):
    """The figures of the Premium service at the instant of the scrape (see module doc)."""

    def __init__(self, *, now: datetime | None = None) -> None:
        self.now = now

    def collect(self) -> Iterator[GaugeMetricFamily]:
        now = self.now or timezone.now()
        up = _gauge(
            "epassport_portal_figures_up",
            "1 when the portal's figures below could be read from the database, else 0.",
        )
        try:
            families = list(self._database_figures(now))
        except DatabaseError:
            families = []
        up.add_metric([], 1 if families else 0)
        yield up
        yield from families
        yield from self._heartbeat()

    def _database_figures(self, now: datetime) -> Iterator[GaugeMetricFamily]:
        # 1. The offices, with their centre's capacity (a centre's office only).
        offices = list(
            Office.objects.values_list("pk", "code", "centre__pk", "centre__daily_capacity")
        )
        centres = {centre: code for _pk, code, centre, _cap in offices if centre is not None}
        # 2. The waiting files of each centre (the partial index file_waiting).
        waiting: dict[int, Counter] = {centre: Counter() for centre in centres}
        rows = (
            PassportFile.objects.filter(status__in=WAITING)
            .values_list("centre_id", "status")
            .annotate(n=Count("pk"))
            .order_by()
        )
        for centre, status, n in rows:
            waiting.setdefault(centre, Counter())[status] = n
        # 3. Bookings made in the last hour (the BRIN index on created_at).
        hour_ago = now - timedelta(hours=1)
        booked = dict(
            Appointment.objects.filter(created_at__gt=hour_ago, created_at__lte=now)
            .values_list("office_id")
            .annotate(n=Count("pk"))
            .order_by()
        )
        # 4. Displaced appointments waiting to be rebooked (the index on office, status).
        displaced = dict(
            Appointment.objects.filter(status=Appointment.Status.DISPLACED)
            .values_list("office_id")
            .annotate(n=Count("pk"))
            .order_by()
        )
        # 5. The outbox (the partial index outbox_pending_due).
        outbox = {
            channel: (n, oldest)
            for channel, n, oldest in OutboxMessage.objects.filter(
                status=OutboxMessage.Status.PENDING
            )
            .values_list("channel")
            .annotate(n=Count("pk"), oldest=Min("created_at"))
            .order_by()
        }

        backlog = _gauge(
            "epassport_backlog_files",
            "Passport files waiting for production at each centre, by status.",
            ["centre", "status"],
        )
        for centre, code in sorted(centres.items(), key=lambda item: item[1]):
            for status in WAITING:
                backlog.add_metric([code, str(status)], waiting[centre][status])
        yield backlog

        capacity = _gauge(
            "epassport_centre_daily_capacity",
            "Premium passports each centre can take into production in a day.",
            ["centre"],
        )
        for _pk, code, centre, daily_capacity in sorted(offices, key=lambda row: row[1]):
            if centre is not None:
                capacity.add_metric([code], daily_capacity)
        yield capacity

        per_office = [
            (
                "epassport_bookings_last_hour",
                "Appointments booked at each office in the last hour.",
                booked,
            ),
            (
                "epassport_displaced_appointments",
                "Appointments displaced by a suspension or a closure, waiting to be rebooked.",
                displaced,
            ),
        ]
        for name, documentation, counts in per_office:
            gauge = _gauge(name, documentation, ["office"])
            for pk, code, _centre, _cap in sorted(offices, key=lambda row: row[1]):
                gauge.add_metric([code], counts.get(pk, 0))
            yield gauge

        waiting_messages = _gauge(
            "epassport_outbox_waiting",
            "Notifications written to the outbox and not sent yet, by channel.",
            ["channel"],
        )
        oldest_age = _gauge(
            "epassport_outbox_oldest_waiting_seconds",
            "Age of the oldest notification not sent yet, by channel (0 when none waits).",
            ["channel"],
        )
        for channel in OutboxMessage.Channel.values:
            n, oldest = outbox.get(channel, (0, None))
            waiting_messages.add_metric([channel], n)
            oldest_age.add_metric(
                [channel], max((now - oldest).total_seconds(), 0.0) if oldest else 0.0
            )
        yield waiting_messages
        yield oldest_age

    def _heartbeat(self) -> Iterator[GaugeMetricFamily]:
        """Seconds since a Celery worker last ran beat's heartbeat task (from Redis); absent
        when Redis cannot be read or no heartbeat was ever recorded."""
        try:
            beat = cache.get(HEARTBEAT_KEY)
        except Exception:  # Redis down: /healthz says so; the metric is simply absent
            return
        if beat is None:
            return
        age = _gauge(
            "epassport_celery_heartbeat_age_seconds",
            "Seconds since a Celery worker last ran the heartbeat task sent by beat.",
        )
        age.add_metric([], max(time.time() - float(beat), 0.0))
        yield age


# The view ------------------------------------------------------------------------------------


def _process_registry() -> CollectorRegistry:
    """django-prometheus's metrics: this process's, or every worker's summed in multiprocess
    mode (the variable is read by prometheus_client when it is imported, hence os.environ)."""
    if os.environ.get("PROMETHEUS_MULTIPROC_DIR"):
        registry = CollectorRegistry()
        multiprocess.MultiProcessCollector(registry)
        return registry
    return prometheus_client.REGISTRY


@never_cache
@require_GET
def metrics(request: HttpRequest) -> HttpResponse:
    if not metrics_allowed(request):
        raise Http404
    portal = CollectorRegistry(auto_describe=False)
    portal.register(PortalCollector())
    body = prometheus_client.generate_latest(_process_registry())
    body += prometheus_client.generate_latest(portal)
    return HttpResponse(body, content_type=prometheus_client.CONTENT_TYPE_LATEST)
