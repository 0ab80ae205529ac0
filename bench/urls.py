"""The portal's URLs plus the floor of the booking-rush benchmark (bench/floor.py)."""

from django.urls import path

from bench.floor import floor_booking
from epassport.urls import urlpatterns as portal_urlpatterns

# The portal's list itself, not include(): its i18n_patterns must stay in the root URLconf.
urlpatterns = [path("bench/floor/", floor_booking), *portal_urlpatterns]
