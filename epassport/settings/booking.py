"""Booking: its protection against bots and touts (proof of work, rate limits, contact
verification, bounds on holds) and the waiting room at a reopening."""

from django.core.exceptions import ImproperlyConfigured

from .environment import env

# Booking protection: proof-of-work challenge (altcha, no third party) and per-IP rate
# limits in Redis. Both on unless turned off (benchmarks, tests of other behaviour).
BOOKING_CHALLENGE = env.bool("BOOKING_CHALLENGE", default=True)
# What a slow phone solves without missing the 6 s of a whole booking on slow 3G: measured
# by bench/slow_phone.py (the README's row of this setting gives the figures).
BOOKING_CHALLENGE_MAX_NUMBER = env.int("BOOKING_CHALLENGE_MAX_NUMBER", default=20_000)
RATE_LIMITS = env.bool("RATE_LIMITS", default=True)
# Generous: many applicants may share one carrier-grade NAT address.
BOOKING_RATE = env.str("BOOKING_RATE", default="60/m")
AVAILABILITY_RATE = env.str("AVAILABILITY_RATE", default="600/m")
LOGIN_RATE = env.str("LOGIN_RATE", default="10/m")
RATELIMIT_USE_CACHE = "default"
# Always on for django-ratelimit itself: appointments.protection checks RATE_LIMITS at each
# request, so that tests and operators have one switch.
RATELIMIT_ENABLE = True

# --- touts and bots: contact verification, the challenge's rate ----------------
# A new booking holds its seat as `pending` for 15 minutes until the applicant enters the
# 6-digit code sent by SMS and email (appointments/services/verification.py). On unless
# turned off (tests and benchmarks turn it off).
BOOKING_VERIFY_CONTACT = env.bool("BOOKING_VERIFY_CONTACT", default=True)
# Proof-of-work challenges handed to one address (each booking needs one of its own).
BOOKING_CHALLENGE_RATE = env.str("BOOKING_CHALLENGE_RATE", default="60/m")
# Booking without JavaScript (appointments/pacing.py): the booking form carries a signed,
# one-use pacing token, accepted BOOKING_PACE_SECONDS after the form was shown (a person
# takes longer than that to fill it) and for BOOKING_PACE_MINUTES. One address is given
# BOOKING_PACE_RATE tokens, one /24 IPv4 or /48 IPv6 network BOOKING_PACE_NETWORK_RATE
# (counted in Redis; every showing of the form takes one, with JavaScript or without).
BOOKING_PACE_SECONDS = env.int("BOOKING_PACE_SECONDS", default=10)
BOOKING_PACE_MINUTES = env.int("BOOKING_PACE_MINUTES", default=60)
BOOKING_PACE_RATE = env.str("BOOKING_PACE_RATE", default="60/h")
BOOKING_PACE_NETWORK_RATE = env.str("BOOKING_PACE_NETWORK_RATE", default="600/h")
if BOOKING_PACE_SECONDS < 0 or BOOKING_PACE_MINUTES < 1:
    raise ImproperlyConfigured("BOOKING_PACE_SECONDS must be >= 0, BOOKING_PACE_MINUTES >= 1.")
# Bounds on pending holds, counted in PostgreSQL (services/holds.py). Besides one hold at a
# time per identity number, phone and mailbox: holds waiting for their code from one /24
# IPv4 or /48 IPv6 network. A person confirms within a minute or two, so this many at once
# is a steady stream of bookings from one network, while a bot that never confirms holds no
# more than this per network (README, "Holds and their bounds").
HOLDS_PER_NETWORK = env.int("HOLDS_PER_NETWORK", default=16)
# Wrong codes per identity number over a rolling day, past which no hold may replace its
# booking; moves of one booking by its holder.
CODE_FAILURES_PER_NINA = env.int("CODE_FAILURES_PER_NINA", default=5)
MAX_MOVES = env.int("MAX_MOVES", default=3)
for _name in ("HOLDS_PER_NETWORK", "CODE_FAILURES_PER_NINA", "MAX_MOVES"):
    if globals()[_name] < 1:
        raise ImproperlyConfigured(f"{_name} must be at least 1.")

# --- Waiting room at a reopening (appointments/waiting_room/; README, "Waiting room at a
# reopening"). For WAITING_ROOM_MINUTES before and after an office's reopening, booking there
# needs an admission; people are admitted at WAITING_ROOM_RATE per second (a starting value:
# administrators change each line's rate on the backlog dashboard); an admission is good for
# ADMISSION_MINUTES. Past WAITING_ROOM_PER_NETWORK places of one /24 IPv4 or /48 IPv6 network
# in a line (sized for a mobile operator's carrier-grade NAT, README), a new place goes to the
# back of the line; one address (IPv4, or the /64 of IPv6) takes at most
# WAITING_ROOM_PER_ADDRESS places (a family's or a cyber-café's NAT), then is refused. Nobody
# is admitted for whom no seat is left: an admitted place that has not booked keeps its seat
# WAITING_ROOM_GRACE_SECONDS at least (waiting_room/seats.py).
WAITING_ROOM_MINUTES = env.int("WAITING_ROOM_MINUTES", default=30)
WAITING_ROOM_RATE = env.float("WAITING_ROOM_RATE", default=20.0)
WAITING_ROOM_PER_NETWORK = env.int("WAITING_ROOM_PER_NETWORK", default=256)
WAITING_ROOM_PER_ADDRESS = env.int("WAITING_ROOM_PER_ADDRESS", default=16)
ADMISSION_MINUTES = env.int("ADMISSION_MINUTES", default=10)
WAITING_ROOM_GRACE_SECONDS = env.int("WAITING_ROOM_GRACE_SECONDS", default=120)
# At most this many admitted places booking at once (admitted, not booked yet, within their
# grace): admissions follow the pace at which people really book (0: no such bound).
WAITING_ROOM_IN_PROGRESS = env.int("WAITING_ROOM_IN_PROGRESS", default=400)
if WAITING_ROOM_IN_PROGRESS < 0:
    raise ImproperlyConfigured("WAITING_ROOM_IN_PROGRESS must be >= 0 (0: no bound).")
if WAITING_ROOM_GRACE_SECONDS < 1:
    raise ImproperlyConfigured("WAITING_ROOM_GRACE_SECONDS must be >= 1.")
if WAITING_ROOM_MINUTES < 0 or WAITING_ROOM_RATE < 0:
    raise ImproperlyConfigured("WAITING_ROOM_MINUTES and WAITING_ROOM_RATE must not be negative.")
if WAITING_ROOM_PER_NETWORK < 1 or WAITING_ROOM_PER_ADDRESS < 1 or ADMISSION_MINUTES < 1:
    raise ImproperlyConfigured(
        "WAITING_ROOM_PER_NETWORK, WAITING_ROOM_PER_ADDRESS and ADMISSION_MINUTES must be >= 1."
    )
