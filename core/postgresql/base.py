"""The portal's database backend: django-prometheus's PostgreSQL backend (Django's own, with
a counter around each statement), whose health check costs nothing while a connection is busy.

Django's health check (CONN_HEALTH_CHECKS) sends `SELECT 1` before the first statement of
every request that reuses a kept connection, so that a connection the server dropped (a
restart, a fail-over, an idle timeout) is replaced instead of failing the request. In a
booking rush that is one more round trip to PostgreSQL for every booking, which the booking
itself makes in one. Here the check is skipped when the connection answered a request without
error less than SOUND_SECONDS ago: a busy worker's connection is proven by its last request,
and an idle one is checked as before. A connection dropped within that second fails one
request, and Django closes it at the end of that request (errors_occurred)."""

import time

from django_prometheus.db.backends.postgresql import base

# Measured in bench/booking_rush.py: a worker in a rush serves a request every 10 to 20 ms.
SOUND_SECONDS = 1.0


class DatabaseWrapper(base.DatabaseWrapper):
    _sound_at = float("-inf")

    def close_if_unusable_or_obsolete(self):
        # Called at the start and at the end of each request. At its end, a connection that
        # this request used (its check done, or skipped) without an error is sound now.
        if self.connection is not None and self.health_check_done and not self.errors_occurred:
            self._sound_at = time.monotonic()
        super().close_if_unusable_or_obsolete()

    def close_if_health_check_failed(self):
        if (
            self.connection is not None
            and self.health_check_enabled
            and not self.health_check_done
            and time.monotonic() - self._sound_at < SOUND_SECONDS
        ):
            self.health_check_done = True
            return
        super().close_if_health_check_failed()

    def close(self):
        self._sound_at = float("-inf")
        super().close()
