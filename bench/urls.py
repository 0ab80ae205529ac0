"""The portal's URLs plus the floor of the tracking benchmark (bench/track_floor.py); the
booking floor is a bare WSGI function in front of Django (bench/wsgi.py)."""

from django.urls import path

from bench.track_floor import track_floor
from epassport.urls import urlpatterns as portal_urlpatterns

# The portal's list itself, not include(): its i18n_patterns must stay in the root URLconf.
urlpatterns = [
    path("bench/track-floor/", track_floor),
    *portal_urlpatterns,
]
