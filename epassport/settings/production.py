"""Passport files: the Premium promise, tracking and its estimate, the seats held back for
displaced appointments after a reopening, and how long personal data is kept."""

from django.core.exceptions import ImproperlyConfigured

from .environment import env

# The Premium promise: working days from enrolment to the passport being ready, and the
# working days a mission's passports spend in the diplomatic pouch on top.
PREMIUM_DUE_WORKING_DAYS = env.int("PREMIUM_DUE_WORKING_DAYS", default=3)
PREMIUM_POUCH_WORKING_DAYS = env.int("PREMIUM_POUCH_WORKING_DAYS", default=5)

# Tracking (/suivi/, /api/v1/track/) and its estimated ready date (production/estimate.py):
# working days from the day a file is taken into production to its passport being ready at
# the centre; a pouch's travel time in days until a mission has POUCH_TRAVEL_MIN_SAMPLES
# received shipments (then the median of its last POUCH_TRAVEL_SAMPLES); how long each
# process keeps the queues and calendars the estimate reads.
PRODUCTION_WORKING_DAYS = env.int("PRODUCTION_WORKING_DAYS", default=1)
POUCH_TRAVEL_DAYS = env.int("POUCH_TRAVEL_DAYS", default=3)
POUCH_TRAVEL_SAMPLES = env.int("POUCH_TRAVEL_SAMPLES", default=10)
POUCH_TRAVEL_MIN_SAMPLES = env.int("POUCH_TRAVEL_MIN_SAMPLES", default=5)
TRACKING_SCHEDULE_TTL = env.int("TRACKING_SCHEDULE_TTL", default=60)
# Lookups per address, and per reference whatever the address: a reference alone, with
# dates of birth tried one after another, must not be guessable.
TRACK_RATE = env.str("TRACK_RATE", default="30/m")
TRACK_REFERENCE_RATE = env.str("TRACK_REFERENCE_RATE", default="10/h")
# How long a tracking link sent to an applicant's contacts works (production/tracking.py).
TRACK_LINK_HOURS = env.int("TRACK_LINK_HOURS", default=24)
if TRACK_LINK_HOURS < 1:
    raise ImproperlyConfigured("TRACK_LINK_HOURS must be at least 1.")
# After a reopening, this share of the seats of the first working days is held back for the
# appointments a suspension displaced, until they are all rebooked.
DISPLACED_RESERVED_SHARE = env.float("DISPLACED_RESERVED_SHARE", default=0.5)
DISPLACED_RESERVED_WORKING_DAYS = env.int("DISPLACED_RESERVED_WORKING_DAYS", default=5)
if not 0 <= DISPLACED_RESERVED_SHARE <= 1:
    raise ImproperlyConfigured("DISPLACED_RESERVED_SHARE must be between 0 and 1.")
if DISPLACED_RESERVED_WORKING_DAYS < 0:
    raise ImproperlyConfigured("DISPLACED_RESERVED_WORKING_DAYS must not be negative.")

# --- Personal data ---------------------------------------------------------
# Identity data is erased (production.retention, the daily task "personal data erasure")
# this many days after the slot of an appointment that led to no passport file, and after
# the delivery of a passport file (with its appointment).
RETENTION_APPOINTMENT_DAYS = env.int("RETENTION_APPOINTMENT_DAYS", default=90)
RETENTION_FILE_DAYS = env.int("RETENTION_FILE_DAYS", default=730)
RETENTION_REJECTED_DAYS = env.int("RETENTION_REJECTED_DAYS", default=365)
RETENTION_UNCOLLECTED_DAYS = env.int("RETENTION_UNCOLLECTED_DAYS", default=730)
if (
    min(
        RETENTION_APPOINTMENT_DAYS,
        RETENTION_FILE_DAYS,
        RETENTION_REJECTED_DAYS,
        RETENTION_UNCOLLECTED_DAYS,
    )
    < 0
):
    raise ImproperlyConfigured("RETENTION_*_DAYS must not be negative.")
