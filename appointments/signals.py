"""Signals by which this app tells the apps that depend on it what happened here (they may
not be imported from here: appointments <- production <- consulates)."""

from django.dispatch import Signal

# A suspension was created, changed or deleted, in the sender's transaction: the production
# app holds or releases files at once (production.backlog), within that transaction.
suspension_changed = Signal()  # kwargs: suspension, now

# A suspension's start or reopening came (its clocked task, appointments.suspension_edge, ran
# at that time): the production app runs its backlog then (holds or releases files and
# dispatches the queue).
suspension_edge = Signal()  # kwargs: suspension_id, edge ("start" or "reopening")
