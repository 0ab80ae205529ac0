"""The request figures of /metrics: django-prometheus's own metrics, only those the
operations team reads (docs/operations.md: answers by status, view and method, for the
error rate and the 429s; latency by view and method, for the booking API's budget; and
exceptions), updated by one middleware.

django-prometheus's two middlewares update twelve metrics per request (four of them
histograms); at a reopening, when most answers are cheap refusals, that was a tenth of a
refusal's CPU (bench/booking_rush.py). The names, labels and buckets are django-prometheus's,
so dashboards and alerts written for it read these unchanged.
"""

from time import perf_counter

from django_prometheus.conf import NAMESPACE, PROMETHEUS_LATENCY_BUCKETS
from django_prometheus.middleware import Metrics
from prometheus_client import Counter, Histogram

METHODS = frozenset(
    ("GET", "HEAD", "POST", "PUT", "DELETE", "TRACE", "OPTIONS", "CONNECT", "PATCH")
)


class RequestMetrics(Metrics):
    """django-prometheus's request metrics that the portal updates, and no others (a metric
    registered but never updated would read as zero on the dashboards)."""

    def register(self):
        self.responses_by_status_view_method = self.register_metric(
            Counter,
            "django_http_responses_total_by_status_view_method",
            "Count of responses by status, view, method.",
            ["status", "view", "method"],
            namespace=NAMESPACE,
        )
        self.requests_latency_by_view_method = self.register_metric(
            Histogram,
            "django_http_requests_latency_seconds_by_view_method",
            "Histogram of request processing time labelled by view.",
            ["view", "method"],
            buckets=PROMETHEUS_LATENCY_BUCKETS,
            namespace=NAMESPACE,
        )
        self.exceptions_by_type = self.register_metric(
            Counter,
            "django_http_exceptions_total_by_type",
            "Count of exceptions by object type.",
            ["type"],
            namespace=NAMESPACE,
        )
        self.exceptions_by_view = self.register_metric(
            Counter,
            "django_http_exceptions_total_by_view",
            "Count of exceptions by view.",
            ["view"],
            namespace=NAMESPACE,
        )


def _view_name(request) -> str:
    match = getattr(request, "resolver_match", None)
    return (match.view_name if match is not None else None) or "<unnamed view>"


class RequestMetricsMiddleware:
    """Counts each answer by status, view and method and times it (from here to the view and
    back), like django-prometheus's PrometheusAfterMiddleware, whose place it takes: last."""

    def __init__(self, get_response):
        self.get_response = get_response
        self.metrics = RequestMetrics.get_instance()
        # The labelled children, kept: looking them up is most of an update's cost.
        self._answers: dict[tuple, object] = {}
        self._latency: dict[tuple, object] = {}

    def __call__(self, request):
        start = perf_counter()
        response = self.get_response(request)
        view = _view_name(request)
        method = request.method if request.method in METHODS else "<invalid method>"
        key = (view, method)
        latency = self._latency.get(key)
        if latency is None:
            latency = self.metrics.requests_latency_by_view_method.labels(view=view, method=method)
            self._latency[key] = latency
        latency.observe(perf_counter() - start)
        key = (str(response.status_code), view, method)
        answers = self._answers.get(key)
        if answers is None:
            answers = self.metrics.responses_by_status_view_method.labels(
                status=key[0], view=view, method=method
            )
            self._answers[key] = answers
        answers.inc()
        return response

    def process_exception(self, request, exception):
        self.metrics.exceptions_by_type.labels(type=type(exception).__name__).inc()
        self.metrics.exceptions_by_view.labels(view=_view_name(request)).inc()
