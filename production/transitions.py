"""The one table of allowed moves of a passport file, and who may make each.

Roles are those a member of staff holds *for this file*: at the office where the file was
enrolled (agent, supervisor) or at the centre that produces it (operator); an
administrator of the ministry holds `admin` everywhere.
"""

from core.models import Membership, Office

from .models import FileStatus as S
from .models import PassportFile

R = Membership.Role
AGENT, SUPERVISOR, OPERATOR, ADMIN = R.AGENT, R.SUPERVISOR, R.OPERATOR, R.ADMIN
# The service itself, no person: holds at a suspension, releases at the reopening, and the
# backlog dispatcher (production/backlog.py). Its events have no author.
SYSTEM = "system"

TRANSITIONS: dict[tuple[str, str], frozenset[str]] = {
    # Suspension and reopening.
    (S.ENROLLED, S.ON_HOLD): frozenset({SUPERVISOR, ADMIN, SYSTEM}),
    (S.QUEUED, S.ON_HOLD): frozenset({OPERATOR, ADMIN, SYSTEM}),
    (S.ON_HOLD, S.ENROLLED): frozenset({SUPERVISOR, ADMIN}),
    (S.ON_HOLD, S.QUEUED): frozenset({OPERATOR, ADMIN, SYSTEM}),
    # The office sends the file to production.
    (S.ENROLLED, S.QUEUED): frozenset({AGENT, SUPERVISOR, OPERATOR, ADMIN}),
    # Production at the centre.
    (S.QUEUED, S.IN_PRODUCTION): frozenset({OPERATOR, ADMIN, SYSTEM}),
    (S.IN_PRODUCTION, S.QUALITY_CHECK): frozenset({OPERATOR, ADMIN}),
    (S.QUALITY_CHECK, S.IN_PRODUCTION): frozenset({OPERATOR, ADMIN}),  # failed: made again
    (S.QUALITY_CHECK, S.READY): frozenset({OPERATOR, ADMIN}),  # enrolled at a centre
    (S.QUALITY_CHECK, S.IN_TRANSIT): frozenset({OPERATOR, ADMIN}),  # for a mission: pouch
    # At the office again.
    (S.IN_TRANSIT, S.READY): frozenset({AGENT, SUPERVISOR, ADMIN}),
    (S.READY, S.DELIVERED): frozenset({AGENT, SUPERVISOR, ADMIN}),
    # Rejection, with a reason, before the passport exists.
    (S.ON_HOLD, S.REJECTED): frozenset({SUPERVISOR, ADMIN}),
    (S.ENROLLED, S.REJECTED): frozenset({SUPERVISOR, OPERATOR, ADMIN}),
    (S.QUEUED, S.REJECTED): frozenset({SUPERVISOR, OPERATOR, ADMIN}),
    (S.IN_PRODUCTION, S.REJECTED): frozenset({OPERATOR, ADMIN}),
    (S.QUALITY_CHECK, S.REJECTED): frozenset({OPERATOR, ADMIN}),
}


def route_allows(*, start: str, to: str, enrolled_at_mission: bool) -> bool:
    """A file enrolled at a mission reaches `ready` only through the pouch (in_transit);
    one enrolled at a centre is ready where it was made and never travels."""
    if to == S.IN_TRANSIT:
        return enrolled_at_mission
    if (start, to) == (S.QUALITY_CHECK, S.READY):
        return not enrolled_at_mission
    return True


# The moves of a mission's passport that only the pouch services make
# (consulates.services.shipment_send and shipment_receive): the pouch is the record of the
# journey, so no file page, bulk move or API call makes them on its own.
POUCH_MOVES = frozenset({(S.QUALITY_CHECK, S.IN_TRANSIT), (S.IN_TRANSIT, S.READY)})


def pouch_only(*, start: str, to: str) -> bool:
    return (start, to) in POUCH_MOVES


def next_statuses(current: str) -> list[str]:
    return [to for (start, to) in TRANSITIONS if start == current]


def roles_for_move(*, start: str, to: str, enrolled_at_mission: bool) -> frozenset[str] | None:
    """The roles that may move a file from `start` to `to`; None when no one may (the move
    is not in the table, or not on the route of a file enrolled there)."""
    allowed = TRANSITIONS.get((start, to))
    if allowed is None or not route_allows(
        start=start, to=to, enrolled_at_mission=enrolled_at_mission
    ):
        return None
    return allowed


def allowed_moves(*, file: PassportFile, roles: frozenset[str]) -> list[str]:
    """The statuses this file may move to now, for someone holding `roles` for it (see
    production.selectors.roles_for_file): what the file page offers and file_transition
    accepts, the pouch's own moves left out."""
    at_mission = file.office.kind == Office.Kind.MISSION
    return [
        to
        for to in next_statuses(file.status)
        if not pouch_only(start=file.status, to=to)
        and roles
        & (roles_for_move(start=file.status, to=to, enrolled_at_mission=at_mission) or set())
    ]


def system_may(*, start: str, to: str) -> bool:
    """Whether the service itself may move a file from `start` to `to` (the set-based moves
    of production/backlog.py check each of theirs here)."""
    return SYSTEM in TRANSITIONS.get((start, to), frozenset())
