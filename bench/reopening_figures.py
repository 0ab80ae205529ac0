"""The figures of the reopening benchmark (bench/reopening.py): the data it starts from (one
office, its seats, the suspension that reopens), what the database holds while it runs
(sampled every second), what it holds at the end (overbooked slots, codes sent late), the
statistics (percentiles, Kendall's tau), the goals and the summary printed and written as
JSON."""

from __future__ import annotations

import argparse
import bisect
import math
import threading
import time
from dataclasses import dataclass, field
from datetime import UTC, date, datetime, timedelta

from bench.reopening_people import ATTACKER_NINA_PREFIX, Applicant
from bench.reopening_scene import Attacker
from bench.report import SEAT_HOLDING, conclude

# The seat trigger counts holds too (contact verification): a seat is taken by these.
SEAT_TAKING = ("pending", *SEAT_HOLDING)
OFFICE_CODE = "bko-reouverture"
LATE_CODE_SECONDS = 60
FIRST_MARK_SECONDS = 10
GOAL_ATTACKER_SHARE = 0.02
GOAL_P95_SECONDS = 300


@dataclass
class Office:
    id: int
    code: str
    seats: int
    slots: int
    first_day: date
    last_day: date
    suspension_id: int


def create_office(*, seats: int, capacity: int) -> Office:
    """One Bamako centre with `seats` seats in slots of `capacity` seats (15 minutes each,
    from the day after tomorrow, 08:00 to 16:00 local time, every day), suspended for a
    week; the reopening is set by `set_reopening` once everything is started. The suspension
    is written directly: no appointment is displaced, so no seat is held back for
    displaced ones (Slot.reserved stays 0) and every seat is offered."""
    import django

    django.setup()
    from django.db import connection, transaction

    from appointments.models import Slot, Suspension
    from core.models import Office as OfficeModel

    now = datetime.now(UTC)
    day = (now + timedelta(days=2)).date()
    starts, left = [], seats
    while left > 0:
        for quarter in range(8 * 4):
            if left <= 0:
                break
            at = datetime(day.year, day.month, day.day, 8, tzinfo=UTC)  # Bamako is UTC
            starts.append((at + timedelta(minutes=15 * quarter), min(capacity, left)))
            left -= capacity
        day += timedelta(days=1)
    with transaction.atomic():
        office = OfficeModel.objects.create(
            code=OFFICE_CODE,
            name="Centre de production de Bamako (réouverture)",
            name_en="Bamako production centre (reopening)",
            kind=OfficeModel.Kind.CENTRE,
            city="Bamako",
            country="ML",
            timezone="Africa/Bamako",
        )
        Slot.objects.bulk_create(
            [
                Slot(
                    office=office,
                    starts_at=at,
                    ends_at=at + timedelta(minutes=15),
                    capacity=room,
                )
                for at, room in starts
            ]
        )
        suspension = Suspension.objects.create(
            starts_at=now - timedelta(days=7),
            reopens_at=now + timedelta(hours=1),
            message="Le service Premium est suspendu ; il rouvre à l’heure annoncée.",
            message_en="The Premium service is suspended; it reopens at the announced time.",
        )
        suspension.offices.set([office])
        with connection.cursor() as cursor:
            cursor.execute("ANALYZE")
    connection.close()
    return Office(
        id=office.pk,
        code=office.code,
        seats=seats,
        slots=len(starts),
        first_day=starts[0][0].date(),
        last_day=starts[-1][0].date(),
        suspension_id=suspension.pk,
    )


def set_reopening(office: Office, reopens_at: datetime) -> None:
    from django.db import connection

    with connection.cursor() as cursor:
        cursor.execute(
            "UPDATE appointments_suspension SET reopens_at = %s WHERE id = %s",
            [reopens_at, office.suspension_id],
        )
    connection.close()


# While it runs --------------------------------------------------------------------------------

_SAMPLE_SQL = """
SELECT
    count(*) FILTER (WHERE attacker AND status = 'pending'),
    count(*) FILTER (WHERE attacker AND status <> 'pending'),
    count(*) FILTER (WHERE NOT attacker AND status = 'pending'),
    count(*) FILTER (WHERE NOT attacker AND status <> 'pending')
FROM (
    SELECT status, national_id LIKE %s AS attacker
    FROM appointments_appointment
    WHERE office_id = %s AND status = ANY(%s)
) AS seats
"""


@dataclass
class Sample:
    at: float  # seconds from reopens_at
    attacker_held: int
    attacker_booked: int
    applicants_held: int
    applicants_booked: int

    @property
    def attacker(self) -> int:
        return self.attacker_held + self.attacker_booked

    @property
    def applicants(self) -> int:
        return self.applicants_held + self.applicants_booked


@dataclass
class Sampler:
    """The seats taken, by the attacker and by applicants, every `every` seconds, read by a
    thread of its own on its own connection."""

    database_url: str
    office_id: int
    clock: object  # reopening_people.Clock
    every: float = 1.0
    samples: list[Sample] = field(default_factory=list)
    errors: list[str] = field(default_factory=list)

    def __post_init__(self) -> None:
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._run, name="sampler", daemon=True)

    def __enter__(self) -> Sampler:
        self._thread.start()
        return self

    def __exit__(self, *exc) -> None:
        self._stop.set()
        self._thread.join(timeout=10)

    def _run(self) -> None:
        import psycopg2

        connection = None
        while True:
            stopping = self._stop.is_set()
            try:
                if connection is None or connection.closed:
                    connection = psycopg2.connect(self.database_url)
                    connection.autocommit = True
                self.samples.append(self.take(connection))
            except psycopg2.Error as error:
                # A connection dropped (the machine's PostgreSQL is shared): a sample is
                # missed, the next one reconnects.
                self.errors.append(f"{self.clock.now():+.0f}s {type(error).__name__}")
                if connection is not None:
                    connection.close()
                connection = None
            if stopping:
                break
            self._stop.wait(self.every)
        if connection is not None:
            connection.close()

    def take(self, connection) -> Sample:
        at = self.clock.now()
        with connection.cursor() as cursor:
            cursor.execute(
                _SAMPLE_SQL, [ATTACKER_NINA_PREFIX + "%", self.office_id, list(SEAT_TAKING)]
            )
            return Sample(at, *cursor.fetchone())

    def at(self, moment: float) -> Sample | None:
        """The first sample taken at or after `moment`."""
        times = [sample.at for sample in self.samples]
        index = bisect.bisect_left(times, moment)
        return self.samples[index] if index < len(self.samples) else None


# At the end -----------------------------------------------------------------------------------

_OVERBOOKED_SQL = """
SELECT count(*), coalesce(sum(taken - capacity), 0) FROM (
    SELECT s.id, s.capacity, count(a.id) AS taken
    FROM appointments_slot s
    JOIN appointments_appointment a ON a.slot_id = s.id AND a.status = ANY(%s)
    WHERE s.office_id = %s
    GROUP BY s.id, s.capacity
    HAVING count(a.id) > s.capacity
) AS over
"""
_CODES_SQL = """
SELECT recipient LIKE %s AS applicant,
       extract(epoch FROM coalesce(sent_at, now()) - created_at) AS delay,
       status
FROM appointments_outboxmessage
WHERE kind = 'booking_code' AND channel = 'sms'
"""


def final_counts(database_url: str, office_id: int) -> dict:
    """Overbooked slots and seats (appointments taking a seat, pending holds included,
    against each slot's capacity: not Slot.booked and its trigger), and the delay of every
    code SMS from its creation in the outbox to its sending (to now if unsent)."""
    import psycopg2

    connection = psycopg2.connect(database_url)
    try:
        with connection.cursor() as cursor:
            cursor.execute(_OVERBOOKED_SQL, [list(SEAT_TAKING), office_id])
            slots, seats = cursor.fetchone()
            cursor.execute(_CODES_SQL, ["+2237%"])
            codes = cursor.fetchall()
            cursor.execute(
                "SELECT status, count(*) FROM appointments_outboxmessage GROUP BY status"
            )
            outbox = dict(cursor.fetchall())
    finally:
        connection.close()
    applicant_delays = [float(delay) for applicant, delay, _status in codes if applicant]
    all_delays = [float(delay) for _applicant, delay, _status in codes]
    unsent = sum(1 for _applicant, _delay, status in codes if status != "sent")
    return {
        "overbooked_slots": int(slots),
        "overbooked_seats": int(seats),
        "codes": len(all_delays),
        "codes_late": sum(1 for delay in all_delays if delay > LATE_CODE_SECONDS),
        "codes_unsent": unsent,
        "applicant_codes": len(applicant_delays),
        "applicant_codes_late": sum(1 for d in applicant_delays if d > LATE_CODE_SECONDS),
        "applicant_code_p50_s": _round(percentile(applicant_delays, 50)),
        "applicant_code_p95_s": _round(percentile(applicant_delays, 95)),
        "outbox": outbox,
    }


# Statistics ---------------------------------------------------------------------------------


def percentile(values: list[float], q: float) -> float | None:
    """The q-th percentile, linear between the closest ranks; None for no values."""
    if not values:
        return None
    ordered = sorted(values)
    rank = (len(ordered) - 1) * q / 100
    low, high = math.floor(rank), math.ceil(rank)
    return ordered[low] + (ordered[high] - ordered[low]) * (rank - low)


def kendall_tau(first: list[float], second: list[float]) -> float | None:
    """Kendall's tau-b between two rankings of the same items (ties allowed): +1 the same
    order, 0 unrelated, -1 reversed. O(n²): a few thousand items take a second or two."""
    n = len(first)
    if n < 2 or n != len(second):
        return None
    concordant = discordant = ties_first = ties_second = 0
    for i in range(n):
        a_i, b_i = first[i], second[i]
        for j in range(i + 1, n):
            a, b = a_i - first[j], b_i - second[j]
            if a == 0 and b == 0:
                continue
            if a == 0:
                ties_first += 1
            elif b == 0:
                ties_second += 1
            elif (a > 0) == (b > 0):
                concordant += 1
            else:
                discordant += 1
    denominator = math.sqrt(
        (concordant + discordant + ties_first) * (concordant + discordant + ties_second)
    )
    return (concordant - discordant) / denominator if denominator else None


# Whose turn came while seats remained ----------------------------------------------------


def behind_the_bound(people: list[Applicant]) -> set[int]:
    """The applicants (their numbers) whose first place in the line went to the back, past
    their address's or network's bound: read from the line, each place found by the ticket
    its signed credential names (this process has the portal's settings)."""
    from django.core import signing
    from django.db import connection

    from appointments.models import WaitingTicket
    from appointments.waiting_room import TICKET_SALT

    signer = signing.Signer(salt=TICKET_SALT)
    tickets = {}
    for person in people:
        if person.ticket:
            try:
                tickets[signer.unsign_object(person.ticket)["t"]] = person.number
            except (signing.BadSignature, KeyError, TypeError, ValueError):
                continue
    back = WaitingTicket.objects.filter(pk__in=list(tickets), overflow=True)
    numbers = {tickets[pk] for pk in back.values_list("pk", flat=True)}
    connection.close()
    return numbers


def line_order(people: list[Applicant], behind: set[int]) -> list[list[Applicant]]:
    """The applicants in the order a fair line serves them, as groups: those who arrived
    before the reopening (one group: the draw orders them, and every one of them comes before
    anyone later), then the later ones one by one in their order of arrival, then those whose
    place went to the back of the line, in their order of arrival."""
    in_bound = [p for p in people if p.number not in behind]
    early = [p for p in in_bound if p.arrival < 0]
    later = sorted((p for p in in_bound if p.arrival >= 0), key=lambda p: p.arrival)
    back = sorted((p for p in people if p.number in behind), key=lambda p: p.arrival)
    return [early] + [[p] for p in later] + [[p] for p in back]


def in_turn(groups: list[list[Applicant]], seats: int) -> tuple[int, list[Applicant]]:
    """How many applicants a fair line with `seats` seats serves (those whose turn came while
    seats remained), and those of them without a seat. Within a group the line's order is
    not known here: when the seats run out inside it, as many of it as seats remained must
    have one, whichever (the missing ones are those without a seat, as many as are short)."""
    entitled, missed = 0, []
    for group in groups:
        if seats <= 0:
            break
        take = min(len(group), seats)
        without = [p for p in group if p.confirmed is None]
        missed += without[: max(0, take - (len(group) - len(without)))]
        entitled += take
        seats -= take
    return entitled, missed


def _round(value: float | None, digits: int = 1) -> float | None:
    return None if value is None else round(value, digits)


# The summary ----------------------------------------------------------------------------------


def summarise(
    args: argparse.Namespace,
    *,
    office: Office,
    people: list[Applicant],
    attacker: Attacker | None,
    sampler: Sampler,
    counts: dict,
    tallies: dict,
    room: bool | None,
    log_problems: list[str],
    command: list[str],
) -> int:
    """Prints the figures and the goals, writes the JSON; returns the exit status."""
    seats = office.seats
    marks = {}
    print("\n== seats taken by the attacker (held or confirmed), as a share of the seats")
    for minutes in args.marks:
        # "At reopens_at": once its first burst has landed, FIRST_MARK_SECONDS later.
        sample = sampler.at(minutes * 60 or FIRST_MARK_SECONDS)
        label = f"reopens_at+{FIRST_MARK_SECONDS}s" if minutes == 0 else f"+{minutes:g} min"
        if sample is None:
            print(f"  {label:<15} not reached")
            marks[label] = None
            continue
        marks[label] = {
            "attacker": sample.attacker,
            "attacker_share": round(sample.attacker / seats, 4),
            "attacker_held": sample.attacker_held,
            "attacker_booked": sample.attacker_booked,
            "applicants_held": sample.applicants_held,
            "applicants_booked": sample.applicants_booked,
            "sampled_at_s": round(sample.at, 1),
        }
        print(
            f"  {label:<15} {sample.attacker:>5} of {seats} seats ({sample.attacker / seats:.1%})"
            f"; applicants {sample.applicants_booked} booked + {sample.applicants_held} held"
        )

    booked = [p for p in people if p.confirmed is not None]
    waits = [p.confirmed - p.arrival for p in booked]
    # "Arrived while seats remained": whose turn in a fair line came while seats remained
    # (line_order). The first `seats` arrivals, as this once was, is not that: the seats the
    # attacker holds (bounded per network, and judged by its own goal) are seats no line can
    # give to an applicant, and the places past an address's bound go to the back of the
    # line by design (a carrier NAT's crowd is late, not locked out). That figure is still
    # printed, for comparison. The attacker's seats: the most it held at once (its holds of
    # the first seconds lapse 15 minutes later, when the run ends: the seats they free then
    # go to whoever is next in line, too late to count).
    attacker_held = max((sample.attacker for sample in sampler.samples), default=0)
    behind = behind_the_bound(people)
    for_applicants = max(0, seats - attacker_held)
    entitled, missed = in_turn(line_order(people, behind), for_applicants)
    by_arrival = sorted(people, key=lambda person: person.arrival)
    first_missed = [p for p in by_arrival[:seats] if p.confirmed is None]
    # Admission order: the place the portal gave when admitting (its `position`), else
    # the moment the applicant saw the admission, else (no waiting room) their first hold.
    after = [p for p in people if p.arrival >= 0]
    placed = [p for p in after if p.position is not None]
    if room and placed:
        after = placed
        order, admitted = "admission (position in the line)", [p.position for p in after]
    elif room:
        after = [p for p in after if p.admitted is not None]
        order, admitted = "admission (seen at)", [p.admitted for p in after]
    else:
        after = [p for p in after if p.held is not None]
        order, admitted = "first hold (no waiting room)", [p.held for p in after]
    # The line keeps arrival order among the places within the bounds; those past their
    # address's bound go to the back by design (tau_all counts them too).
    tau_all = kendall_tau([p.arrival for p in after], admitted)
    kept = [i for i, p in enumerate(after) if p.number not in behind]
    tau = kendall_tau([after[i].arrival for i in kept], [admitted[i] for i in kept])
    outcomes: dict[str, int] = {}
    for person in people:
        outcomes[person.outcome] = outcomes.get(person.outcome, 0) + 1
    p50, p95 = percentile(waits, 50), percentile(waits, 95)
    server_errors = sum(t.server_errors for t in tallies.values())
    no_answer = sum(t.no_answer for t in tallies.values())

    print("\n== applicants")
    print(
        f"  got a seat        {len(booked)} of {len(people)} (seats {seats}, at most "
        f"{attacker_held} held by the attacker); of the {entitled} whose turn in the line "
        f"came while seats remained, {len(missed)} got none"
    )
    print(
        f"  first arrivals    of the first {min(seats, len(people))} to arrive, "
        f"{len(first_missed)} got none ({len(behind)} applicants' places went to the back "
        f"of the line, past their address's bound)"
    )
    print(f"  outcomes          {outcomes}")
    for person in missed[:5]:  # what happened to them, for whoever looks into it
        later = [
            p
            for p in booked
            if p.arrival > person.arrival and (p.position or 0) > (person.position or 0)
        ]
        print(
            f"  without a seat    applicant {person.number}: arrived {person.arrival:+.1f} s, "
            f"admitted {_fmt(person.admitted)}, position {person.position}, holds "
            f"{person.holds}, {person.outcome}; {len(later)} who arrived after them and "
            f"came later in the line booked"
        )
    # From the admission to the hold: what the waiting room's grace must cover.
    to_hold = [
        p.held - p.admitted for p in people if p.held is not None and p.admitted is not None
    ]
    nat_waits = [w for p, w in zip(booked, waits, strict=True) if p.behind_nat]
    print(
        f"  arrival->booked   p50 {_fmt(p50)}, p95 {_fmt(p95)} "
        f"(behind the NAT: p50 {_fmt(percentile(nat_waits, 50))})"
    )
    print(
        f"  admitted->held    p50 {_fmt(percentile(to_hold, 50))}, p95 "
        f"{_fmt(percentile(to_hold, 95))}, max {_fmt(max(to_hold, default=None))}"
    )
    print(
        f"  Kendall tau       {tau if tau is None else round(tau, 3)} ({order} vs arrival, "
        f"{len(kept)} who arrived after reopens_at, within the bounds; with the "
        f"{len(after) - len(kept)} whose place went to the back: "
        f"{tau_all if tau_all is None else round(tau_all, 3)})"
    )
    print(
        f"  codes late        {counts['applicant_codes_late']} of {counts['applicant_codes']} "
        f"applicants' code SMS sent > {LATE_CODE_SECONDS} s after queued (all codes: "
        f"{counts['codes_late']} of {counts['codes']}, {counts['codes_unsent']} unsent at the "
        f"end); applicants' p50 {_fmt(counts['applicant_code_p50_s'])}, p95 "
        f"{_fmt(counts['applicant_code_p95_s'])}"
    )
    print(f"  waiting room      {'yes' if room else 'no (404: booked without admission)'}")
    if attacker is not None:
        print(
            f"\n== attacker: {len(attacker.addresses)} addresses, {attacker.connections} "
            f"connections, {attacker.holds} holds (201), {attacker.identities} identities used, "
            f"{attacker.solved} challenges solved; refusals {attacker.refused}"
        )
    print("\n== server")
    for side, tally in tallies.items():
        print(
            f"  {side:<10} {tally.requests} requests, {tally.server_errors} 5xx, "
            f"{tally.no_answer} without answer"
        )
        for key, value in sorted(tally.answers.items()):
            print(f"      {key:<52} {value}")
    print(
        f"  overbooked        {counts['overbooked_seats']} seats in "
        f"{counts['overbooked_slots']} slots (appointments taking a seat vs capacity, in SQL)"
    )
    print(f"  outbox at the end {counts['outbox']}")

    worst = max((m["attacker_share"] for m in marks.values() if m), default=0.0)
    goals = {
        "attacker_under_2pct": worst < GOAL_ATTACKER_SHARE,
        "every_entitled_applicant_booked": not missed,
        "p95_under_5_min": p95 is not None and p95 < GOAL_P95_SECONDS,
        "no_5xx": server_errors == 0,
        "no_overbooking": counts["overbooked_seats"] == 0,
    }
    print("\n== goals")
    lines = {
        "attacker_under_2pct": f"attacker under 2% of the seats (worst mark {worst:.1%})",
        "every_entitled_applicant_booked": f"every applicant who arrived while seats remained "
        f"got one ({len(missed)} did not)",
        "p95_under_5_min": f"p95 arrival to confirmed booking under 5 min ({_fmt(p95)})",
        "no_5xx": f"no 5xx ({server_errors})",
        "no_overbooking": f"0 overbooked seats ({counts['overbooked_seats']})",
    }
    for name, ok in goals.items():
        print(f"  {'PASS' if ok else 'FAIL'}  {lines[name]}")
    problems = list(log_problems)
    if sampler.errors:
        print(f"  sampler           {len(sampler.errors)} samples missed: {sampler.errors[:5]}")
    if counts["overbooked_seats"]:
        problems.append(f"{counts['overbooked_seats']} overbooked seats")
    if server_errors:
        problems.append(f"{server_errors} answers 5xx")
    if no_answer:
        problems.append(f"{no_answer} requests without an answer (connection or timeout)")
    data = {
        "applicants": len(people),
        "seats": seats,
        "slots": office.slots,
        "attacker_addresses": len(attacker.addresses) if attacker else 0,
        "marks": marks,
        "booked": len(booked),
        "entitled": entitled,
        "entitled_without_seat": len(missed),
        "attacker_seats_at_most": attacker_held,
        "behind_the_bound": len(behind),
        "first_arrivals_without_seat": len(first_missed),
        "arrival_to_booked_p50_s": _round(p50),
        "arrival_to_booked_p95_s": _round(p95),
        "admitted_to_held_p50_s": _round(percentile(to_hold, 50)),
        "admitted_to_held_p95_s": _round(percentile(to_hold, 95)),
        "kendall_tau": None if tau is None else round(tau, 4),
        "kendall_tau_with_the_back": None if tau_all is None else round(tau_all, 4),
        "kendall_tau_order": order,
        "waiting_room": bool(room),
        "outcomes": outcomes,
        "database": counts,
        "server_errors": server_errors,
        "no_answer": no_answer,
        "attacker": None
        if attacker is None
        else {
            "holds": attacker.holds,
            "identities": attacker.identities,
            "solved": attacker.solved,
            "refused": attacker.refused,
        },
        "answers": {side: dict(t.answers) for side, t in tallies.items()},
        "gunicorn": " ".join(command[1:]),
        "timeline": [
            [
                round(s.at, 1),
                s.attacker_held,
                s.attacker_booked,
                s.applicants_held,
                s.applicants_booked,
            ]
            for s in sampler.samples[:: max(1, len(sampler.samples) // 600)]
        ],
        "goals": goals,
    }
    return conclude(args, problems, goals, data, width=18)


def _fmt(seconds: float | None) -> str:
    if seconds is None:
        return "-"
    return f"{seconds:.1f} s" if seconds < 120 else f"{seconds / 60:.1f} min"


def wait_until_wall(moment: datetime) -> None:
    delay = (moment - datetime.now(UTC)).total_seconds()
    if delay > 0:
        time.sleep(delay)
