"""The application the benchmarks serve: the portal (epassport.wsgi) with the benchmark's
settings, and the bare floor of the booking rush (bench/floor.py) at /bench/floor/, in front
of Django so that it pays for none of it."""

from bench.floor import floor_booking
from epassport.wsgi import application as portal

FLOOR_PATH = "/bench/floor/"


def application(environ, start_response):
    if environ.get("PATH_INFO") == FLOOR_PATH:
        return floor_booking(environ, start_response)
    return portal(environ, start_response)
