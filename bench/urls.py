"""The portal's URLs plus the floors of the benchmarks: booking (bench/floor.py) and
tracking (bench/track_floor.py)."""

from django.urls import path

from bench.floor import floor_booking
from bench.track_floor import track_floor
from epassport.urls import urlpatterns as portal_urlpatterns

# The portal's list itself, not include(): its i18n_patterns must stay in the root URLconf.
urlpatterns = [
    path("bench/floor/", floor_booking),
    path("bench/track-floor/", track_floor),
    *portal_urlpatterns,
]
