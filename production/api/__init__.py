"""The staff JSON API under /api/v1/: counter work (agenda, check-in, enrolment) and
passport files (list, detail, transitions). Token authentication for integrations, the
session for the browser; every read is scoped to the caller's offices."""
