"""The public JSON API of Premium booking under /api/v1/ (offices, free slots, bookings and
their management by token, the anti-bot challenge)."""
