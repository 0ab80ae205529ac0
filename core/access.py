"""Who among the staff may see and do what, at which office: the one home of the staff scope.

A member of staff holds roles at offices (Membership):

- agents and supervisors work at the **counter** of their office: its agenda and
  appointments, the files enrolled there, the pouches it receives;
- operators work in the **production** of their centre: the files it produces, the pouches
  it ships to its missions;
- administrators of the ministry hold the role `admin`, with no office, and see and do
  everything everywhere.

Every page, API view and service asks `staff_scope(user)` (one query) and builds its reads
on it: `production.selectors` for files, `consulates.selectors` for pouches. An object outside
the scope answers 404, exactly as an unknown one. Which *moves* of a file each role may make
is the other rule, in production/transitions.py.
"""

from collections.abc import Mapping
from dataclasses import dataclass, field

from django.db.models import Q, QuerySet

from core.models import Membership, Office

Role = Membership.Role
COUNTER_ROLES = frozenset({Role.AGENT, Role.SUPERVISOR})


@dataclass(frozen=True)
class StaffScope:
    is_admin: bool = False
    roles_by_office: Mapping[int, frozenset[str]] = field(default_factory=dict)

    def _offices_with(self, roles: frozenset[str]) -> frozenset[int]:
        return frozenset(office for office, held in self.roles_by_office.items() if held & roles)

    @property
    def counter_office_ids(self) -> frozenset[int]:
        """Offices whose counter this member works at (administrators: see is_admin)."""
        return self._offices_with(COUNTER_ROLES)

    @property
    def centre_office_ids(self) -> frozenset[int]:
        """Offices of the centres this member operates (administrators: see is_admin)."""
        return self._offices_with(frozenset({Role.OPERATOR}))

    @property
    def supervisor_office_ids(self) -> frozenset[int]:
        """Offices this member supervises (administrators: see is_admin)."""
        return self._offices_with(frozenset({Role.SUPERVISOR}))

    @property
    def is_member(self) -> bool:
        return self.is_admin or bool(self.roles_by_office)

    @property
    def requires_two_factor(self) -> bool:
        """Supervisors and administrators prove a second factor (TOTP) at login."""
        return self.is_admin or bool(self.supervisor_office_ids)

    @property
    def is_supervisor(self) -> bool:
        """Supervisors and administrators (exports, reports)."""
        return self.is_admin or bool(self.supervisor_office_ids)

    def works_at_counter(self, office_id: int) -> bool:
        return self.is_admin or office_id in self.counter_office_ids

    def works_at_centre(self, office_id: int) -> bool:
        return self.is_admin or office_id in self.centre_office_ids

    def roles_for(self, *, counter_office_id: int, centre_office_id: int) -> frozenset[str]:
        """The roles held for an object enrolled at one office and produced at a centre
        (a passport file): counter roles at the first, operator at the second, admin
        everywhere. Empty: the object is not this member's."""
        roles = set(self.roles_by_office.get(counter_office_id, ())) - {Role.OPERATOR}
        if Role.OPERATOR in self.roles_by_office.get(centre_office_id, ()):
            roles.add(Role.OPERATOR)
        if self.is_admin:
            roles.add(Role.ADMIN)
        return frozenset(roles)

    def counter_filter(self, field_name: str) -> Q:
        """Rows whose `field_name` (an office id) is a counter of this member's."""
        if self.is_admin:
            return Q()
        return Q(**{f"{field_name}__in": self.counter_office_ids})

    def centre_filter(self, field_name: str) -> Q:
        """Rows whose `field_name` (an office id) is a centre this member operates."""
        if self.is_admin:
            return Q()
        return Q(**{f"{field_name}__in": self.centre_office_ids})


NOBODY = StaffScope()


def staff_scope(user) -> StaffScope:
    """The scope of a member of staff (one query); nobody's for anyone else."""
    if user is None or not user.is_authenticated:
        return NOBODY
    # A superuser of the Django admin is an administrator of the ministry.
    is_admin, roles = user.is_superuser, {}
    for office_id, role in Membership.objects.filter(user=user).values_list("office_id", "role"):
        if role == Role.ADMIN:
            is_admin = True
        else:
            roles.setdefault(office_id, set()).add(role)
    return StaffScope(
        is_admin=is_admin,
        roles_by_office={office: frozenset(held) for office, held in roles.items()},
    )


def two_factor_required(user, scope: StaffScope | None = None) -> bool:
    """Whether this account must log in with a second factor: supervisors and administrators
    of the ministry (superusers included), and anyone let into the Django admin. `scope`:
    the user's, when the caller has it already (saves its query)."""
    if user is None or not user.is_authenticated:
        return False
    if user.is_staff or user.is_superuser:
        return True
    return (scope or staff_scope(user)).requires_two_factor


def counter_offices(scope: StaffScope) -> QuerySet[Office]:
    """The active offices whose counter this member works at (every one, for an
    administrator), for the office switch of the workspace. An inactive office receives
    nobody, so it is not offered; its agenda stays reachable where the scope allows it."""
    return (
        Office.objects.filter(active=True)
        .filter(scope.counter_filter("pk"))
        .order_by("kind", "city")
    )


def counter_office(scope: StaffScope, *, code: str) -> Office | None:
    """The office with this code if this member works at its counter; None otherwise (an
    unknown office and another's get the same answer)."""
    office = Office.objects.filter(code=code).first()
    if office is None or not scope.works_at_counter(office.pk):
        return None
    return office
