"""Settings of the portal under benchmark: the portal's own, plus the floor views at
/bench/floor/ and /bench/track-floor/ (bench/urls.py). Only the benchmark's server uses them
(DJANGO_SETTINGS_MODULE=bench.settings, bench/prepare.py); the portal never imports bench/.
"""

from epassport.settings import *  # noqa: F403

ROOT_URLCONF = "bench.urls"
