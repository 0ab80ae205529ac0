"""The waiting room at a reopening (appointments/waiting_room/)."""

from django.core.validators import MinValueValidator
from django.db import models
from django.db.models import Q
from django.utils.translation import gettext_lazy as _

from core.models import Office

from .calendar import Suspension


class WaitingLine(models.Model):
    """The waiting room of one office around the reopening of one suspension. Who is
    admitted is computed, never stored per person: from the reopening, `base + rate x (t -
    since)` places are in at `t`, segment after segment (`segments`: one is appended, under
    this row's lock, when the rate changes or an arrival finds the line empty; empty: one
    segment from the reopening at `rate`), so a refresh writes nothing and each place's
    admission time is the moment the count really reached it.

    The early arrivals (those drawn at the reopening) are settled under this row's lock by
    the first ticket issued at or after the reopening: `early` regular tickets, for the
    reopening `early_for` (a moved reopening settles again)."""

    office = models.ForeignKey(
        Office, on_delete=models.CASCADE, related_name="waiting_lines", verbose_name=_("bureau")
    )
    suspension = models.ForeignKey(
        Suspension,
        on_delete=models.CASCADE,
        related_name="waiting_lines",
        verbose_name=_("suspension"),
    )
    rate = models.FloatField(
        _("admissions par seconde"),
        validators=[MinValueValidator(0)],
        help_text=_("0 suspend les admissions ; chaque changement part du nombre déjà admis."),
    )
    # [{"at": seconds after the reopening, "start": places in before it, "base": places in
    # at its start, "rate": per second}, ...], in order; the first at 0.
    segments = models.JSONField(default=list, blank=True, editable=False)
    early = models.PositiveIntegerField(null=True, blank=True, editable=False)
    early_for = models.DateTimeField(null=True, blank=True, editable=False)
    # The seats the line lets people in for (waiting_room/seats.py): the office's free seats
    # as at the reopening, counted by each ticket issued before it and settled by the first
    # one issued at or after it, with `early`.
    seats = models.PositiveIntegerField(null=True, blank=True, editable=False)
    issued = models.PositiveIntegerField(_("places attribuées"), default=0, editable=False)
    # Tickets past their network's bound (at the back of the line), and how many of them
    # the last ticket within the bounds has ahead of it.
    overflowed = models.PositiveIntegerField(default=0, editable=False)
    ahead = models.PositiveIntegerField(default=0, editable=False)
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        verbose_name = _("salle d’attente")
        verbose_name_plural = _("salles d’attente")
        constraints = [
            models.UniqueConstraint(
                fields=["office", "suspension"], name="waiting_line_office_suspension"
            ),
            models.CheckConstraint(condition=Q(rate__gte=0), name="waiting_line_rate_positive"),
        ]

    def __str__(self) -> str:
        return f"{self.office_id} / {self.suspension_id}"


class WaitingTicket(models.Model):
    """A place in a waiting line: `number` is the arrival order in the line (1, 2, ...,
    dense: given under the line's row lock, so in the order of commit). `lane_number` is
    the same order among the tickets of its lane: within the bounds, or `overflow` (past its
    network's bound: after every ticket within the bounds). The early tickets within the
    bounds are put in a secret random order at the reopening (appointments/waiting_room/),
    later ones keep their order; `ahead` is how many overflow tickets had been admitted
    before this one arrived (they stay ahead of it)."""

    line = models.ForeignKey(WaitingLine, on_delete=models.CASCADE, related_name="tickets")
    number = models.PositiveIntegerField()
    overflow = models.BooleanField(default=False)
    lane_number = models.PositiveIntegerField()
    ahead = models.PositiveIntegerField(default=0)
    created_at = models.DateTimeField()

    class Meta:
        constraints = [
            models.UniqueConstraint(fields=["line", "number"], name="waiting_ticket_line_number"),
            models.UniqueConstraint(
                fields=["line", "overflow", "lane_number"], name="waiting_ticket_line_lane"
            ),
        ]
        indexes = [models.Index(fields=["line", "created_at"], name="waiting_ticket_line_arrival")]

    def __str__(self) -> str:
        return f"{self.line_id}#{self.number}"


class WaitingNetwork(models.Model):
    """Tickets a network (a /24 IPv4 or /48 IPv6, `kind` network) or an address (the rate
    limit's key: an IPv4 address or the /64 of an IPv6 one, `kind` address) took in a line,
    counted by an upsert on this row, so the bounds hold under concurrency."""

    NETWORK, ADDRESS = "network", "address"

    line = models.ForeignKey(WaitingLine, on_delete=models.CASCADE, related_name="networks")
    kind = models.CharField(max_length=8, default=NETWORK)
    network = models.CharField(max_length=50)
    tickets = models.PositiveIntegerField(default=0)

    class Meta:
        constraints = [
            models.UniqueConstraint(
                fields=["line", "kind", "network"], name="waiting_network_line_kind_key"
            )
        ]

    def __str__(self) -> str:
        return f"{self.line_id} {self.kind} {self.network}: {self.tickets}"
