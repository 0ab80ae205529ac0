"""When booking at an office needs an admission: for WAITING_ROOM_MINUTES before and after
the reopening of a suspension that covers it, and not before the suspension began."""

from dataclasses import dataclass
from datetime import datetime, timedelta
from time import monotonic

from django.conf import settings
from django.db.models.signals import m2m_changed, post_delete, post_save
from django.dispatch import receiver

from .. import eligibility
from ..models import Suspension


def window_minutes() -> timedelta:
    return timedelta(minutes=settings.WAITING_ROOM_MINUTES)


@dataclass(frozen=True)
class Window:
    suspension: Suspension
    reopens_at: datetime

    @property
    def closes_at(self) -> datetime:
        return self.reopens_at + window_minutes()


# Nearly always no reopening is near, and the check runs on every booking: a process
# remembers for a second that none is (for the instants of that second), and forgets it as
# soon as a suspension is saved, deleted or its offices change (signals below; another
# process's change reaches this one within the second).
NO_WINDOW_FOR = timedelta(seconds=1)
_no_window: tuple[float, datetime, datetime] | None = None


def windows_around(*, now: datetime) -> list[eligibility.ScopedSuspension]:
    """The suspensions whose reopening is within WAITING_ROOM_MINUTES of `now` and which have
    begun by `now`, with the offices each covers: one query whatever the office, none when
    this process found none in the last second."""
    global _no_window
    hit = _no_window
    if hit is not None and hit[0] > monotonic() and hit[1] <= now <= hit[2]:
        return []
    window, until = window_minutes(), now + NO_WINDOW_FOR
    # Those that may open a window at any instant from now to `until`...
    near = [
        scoped
        for scoped in eligibility.suspensions_around(moments=[now - window, until])
        if scoped.suspension.reopens_at is not None
        and scoped.suspension.reopens_at - window <= until
    ]
    if not near:
        _no_window = (monotonic() + NO_WINDOW_FOR.total_seconds(), now, until)
        return []
    # ...and those that do at `now`.
    return [
        scoped
        for scoped in near
        if scoped.suspension.starts_at <= now
        and scoped.suspension.reopens_at - window <= now < scoped.suspension.reopens_at + window
    ]


@receiver(post_save, sender=Suspension, dispatch_uid="waiting_room_suspension_saved")
@receiver(post_delete, sender=Suspension, dispatch_uid="waiting_room_suspension_deleted")
@receiver(
    m2m_changed, sender=Suspension.offices.through, dispatch_uid="waiting_room_offices_changed"
)
def forget_no_window(**_kwargs) -> None:
    global _no_window
    _no_window = None


def window_at(
    *,
    office_id: int,
    now: datetime,
    candidates: list[eligibility.ScopedSuspension] | None = None,
) -> Window | None:
    """The waiting room's window in force at this office at `now`, if any: around the
    reopening of a suspension that covers it (the one reopening last, when several do)."""
    if candidates is None:
        candidates = windows_around(now=now)
    covering = [s.suspension for s in candidates if s.covers(office_id=office_id)]
    if not covering:
        return None
    suspension = max(covering, key=lambda s: (s.reopens_at, s.pk))
    return Window(suspension=suspension, reopens_at=suspension.reopens_at)
