"""Set-based work in chunks: the one loop every periodic claim runs (the backlog's holds,
releases and dispatch, the erasures of both apps, the expiry of lapsed holds, the rebooking
of displaced appointments).

Each chunk is one statement that claims at most `size` rows (`LIMIT :chunk ... FOR UPDATE
SKIP LOCKED`) and changes them, in a transaction of its own: its locks last as long as the
chunk, so a member of staff, a booking or a second worker waiting on one of those rows waits
for one chunk at most, never for the whole run; and a worker killed mid-run loses one chunk's
work, which the next run takes again. The loop ends at the first chunk that claims fewer
rows than it may: nothing more was left, or the rest is held by another worker, which takes
it.
"""

from collections.abc import Callable

from django.db import transaction

# Rows per chunk, for every claim. One size rather than one per caller, so that a chunk's
# cost is read in one place. Large enough that the cost of a chunk itself (a round trip, and
# an index scan starting again at the head of the queue, over the entries of the rows taken
# before: bench/backlog.py measured the dispatcher 1.36x its floor in chunks of 1,000 and
# 1.30x in chunks of 5,000, or 2.2x and 1.3x with an old transaction open on the server)
# stays small; small enough that the heaviest chunk, the rebooking (a seat, an event and two
# messages per appointment, the slots' rows locked by the seat trigger until it commits, at
# a reopening when bookings come in), holds its locks for a fraction of a second.
CHUNK = 2000


def claim_in_chunks(claim: Callable[[int], int], *, size: int | None = None) -> int:
    """Call `claim(size)` (by default CHUNK), each call in a transaction of its own, until a
    call claims fewer than `size` rows; returns how many were claimed in all. `claim` returns
    the number of rows its statement claimed (0 to stop: nothing to do any more)."""
    size = size or CHUNK  # read at the call: tests make it small to interleave runs
    total = 0
    while True:
        with transaction.atomic():
            claimed = claim(size)
        total += claimed
        if claimed < size:
            return total
