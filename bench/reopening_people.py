"""The people of the reopening benchmark (bench/reopening.py): applicants and the attacker,
as asyncio tasks against the portal's API, written against the API's contract.

Times are seconds relative to `reopens_at` (negative before), on the monotonic clock.

- An **applicant** arrives at their time, takes a waiting-room ticket and polls it until
  admitted (honouring `estimated_wait_seconds`), lists the free slots, picks one of the
  first few, fetches a challenge, solves it, books with `X-Admission`, takes a slot of
  `next_free` on `slot_full`, reads the code of the SMS sent to their phone (the SMS file
  the outbox's sender writes: the code arrives when it is sent, not before) and confirms.
  Without a waiting room (404 on its endpoint) they go on without admission and, before
  the reopening, refresh the slot list every few seconds, as people do.
- The **attacker** starts early, from 256 IPv4 addresses of one /24 and 256 IPv6
  addresses of one /48 (each in its own /64: one rate-limit key each), with a fresh fake
  NINA, phone and email for every hold and as many connections as it likes: it takes
  tickets from every address, stockpiles solved challenges (valid 2 minutes) before the
  reopening, fires at `reopens_at`, follows `next_free`, and books again each slot of its
  own the moment its hold lapses (the booking that finds the slot full frees lapsed holds
  and takes the seat). It never confirms: the codes go to phones it does not own.

Every answer is counted (reopening_http.Tally); 5xx and failed connections are retried
after a pause, never fatal.
"""

from __future__ import annotations

import asyncio
import ipaddress
import random
import re
import time
from concurrent.futures import ProcessPoolExecutor
from dataclasses import dataclass, field
from datetime import UTC, date, datetime
from pathlib import Path

from bench.reopening_http import Answer, Client, solve

ROOM_PATH = "/api/v1/waiting-room/{office}/"
TICKET_PATH = "/api/v1/waiting-room/{office}/{ticket}/"
SLOTS_PATH = "/api/v1/offices/{office}/slots/?from={first}&to={last}"
CHALLENGE_PATH = "/api/v1/challenge/"
BOOKING_PATH = "/api/v1/bookings/"
CONFIRM_PATH = "/api/v1/bookings/{reference}/confirm/"
ADMISSION_HEADER = "X-Admission"
TOKEN_HEADER = "X-Booking-Token"  # noqa: S105 # a header name

# Identities: applicants' NINAs start with 1, the attacker's with 9 (the server cannot
# tell; the benchmark counts the attacker's seats in SQL by it).
APPLICANT_NINA = "1{:013d}A"
ATTACKER_NINA = "9{:013d}X"
ATTACKER_NINA_PREFIX = "9"
APPLICANT_PHONE = "+2237{:07d}"  # Orange/Malitel mobile ranges
ATTACKER_PHONE = "+2236{:07d}"
# An applicant's choice of slot older than this is made again from a fresh list.
FRESH_CHOICE = 3.0
CODE = re.compile(r"(?<!\d)(\d{6})(?!\d)")
REFERENCE = re.compile(r"\b([A-Z0-9]{4}-[A-Z0-9]{4})\b")

SURNAMES = ["TRAORE", "KEITA", "COULIBALY", "DIALLO", "TOURE", "SANGARE", "KONE", "CISSE"]
GIVEN = ["Awa", "Moussa", "Fatoumata", "Oumar", "Aminata", "Seydou", "Mariam", "Ibrahim"]


def _wall(seconds: float) -> datetime:
    return datetime.fromtimestamp(seconds, UTC)


@dataclass
class Clock:
    """`reopens_at` on the monotonic clock, and the run's end."""

    reopens_mono: float
    end: float  # relative

    def now(self) -> float:
        return time.monotonic() - self.reopens_mono

    async def until(self, moment: float) -> None:
        delay = moment - self.now()
        if delay > 0:
            await asyncio.sleep(delay)

    def over(self) -> bool:
        return self.now() >= self.end


@dataclass
class Stage:
    """What the people share: the server, the office and its dates, the clock, the SMS
    inbox, the process pools that solve challenges, and whether a waiting room answers."""

    client: Client
    office: str
    first_day: date
    last_day: date
    clock: Clock
    inbox: Inbox
    pool: ProcessPoolExecutor
    room: bool | None = None  # None: not asked yet; False: 404, no waiting room

    @property
    def slots_path(self) -> str:
        return SLOTS_PATH.format(office=self.office, first=self.first_day, last=self.last_day)


# The SMS inbox ------------------------------------------------------------------------------


class Inbox:
    """The codes sent so far, read from the file the SMS backend appends to (one line per
    SMS: `timestamp<TAB>phone<TAB>text`), by booking reference."""

    def __init__(self, path: Path) -> None:
        self.path = path
        self.offset = 0
        self.codes: dict[str, str] = {}
        self.waiting: dict[str, asyncio.Future] = {}
        self.lines = 0

    def read(self) -> None:
        if not self.path.exists():
            return
        if self.path.stat().st_size < self.offset:  # replaced: read it from the start
            self.offset = 0
        with self.path.open("rb") as file:
            file.seek(self.offset)
            chunk = file.read()
        end = chunk.rfind(b"\n") + 1  # a line being written waits for the next read
        self.offset += end
        for raw in chunk[:end].decode("utf-8", "replace").splitlines():
            self.lines += 1
            parts = raw.split("\t", 2)
            if len(parts) != 3:
                continue
            code, reference = CODE.search(parts[2]), REFERENCE.search(parts[2])
            if code and reference:
                self.codes[reference[1]] = code[1]
                future = self.waiting.pop(reference[1], None)
                if future is not None and not future.done():
                    future.set_result(code[1])

    async def follow(self, clock: Clock) -> None:
        while True:
            self.read()
            await asyncio.sleep(0.25)

    async def code(self, reference: str, timeout: float) -> str | None:
        if reference in self.codes:
            return self.codes[reference]
        future = self.waiting.setdefault(reference, asyncio.get_running_loop().create_future())
        try:
            return await asyncio.wait_for(asyncio.shield(future), max(timeout, 0.1))
        except TimeoutError:
            return None


# Shared steps -------------------------------------------------------------------------------


async def pause_for(answer: Answer, default: float = 2.0) -> None:
    """After a 429 (its Retry-After), a 5xx or no answer (a short pause)."""
    await asyncio.sleep(answer.retry_after(default) if answer.status == 429 else default)


async def solved_challenge(stage: Stage, address: str, who: str) -> str | None:
    """A challenge fetched from `address` and solved in the pool; None when the run ends."""
    while not stage.clock.over():
        answer = await stage.client.request(
            f"{who} GET challenge", "GET", CHALLENGE_PATH, address=address
        )
        if answer.status == 200:
            loop = asyncio.get_running_loop()
            solution = await loop.run_in_executor(stage.pool, solve, answer.json())
            if solution is not None:
                return solution
        else:
            await pause_for(answer)
    return None


@dataclass
class Ticket:
    ticket: str = ""
    admission: str | None = None
    position: int | None = None  # in the line when admitted: the admission order
    cookies: dict[str, str] = field(default_factory=dict)


async def enter_room(
    stage: Stage, address: str, who: str, *, patient: bool = True, taken=None
) -> Ticket:
    """A ticket of the office's waiting room, polled until admitted (None admission when
    the portal has no waiting room: 404). `patient`: poll until admitted; otherwise return
    the ticket as it is after taking it. `taken(ticket)` is told each ticket taken."""
    office = stage.office
    ticket = Ticket()
    while not stage.clock.over():
        if not ticket.ticket:
            answer = await stage.client.request(
                f"{who} POST waiting-room",
                "POST",
                ROOM_PATH.format(office=office),
                address=address,
                body={},
                headers=_cookie_header(ticket.cookies),
            )
        else:
            answer = await stage.client.request(
                f"{who} GET waiting-room ticket",
                "GET",
                TICKET_PATH.format(office=office, ticket=ticket.ticket),
                address=address,
                headers=_cookie_header(ticket.cookies),
            )
        _keep_cookies(answer, ticket.cookies)
        if answer.status == 404 and not ticket.ticket:
            stage.room = False
            return ticket
        if answer.status == 404:  # the ticket is unknown (lapsed): take another
            ticket.ticket = ""
            continue
        if answer.status in (200, 201):
            stage.room = True
            data = answer.json()
            if answer.status == 201 and data.get("ticket") and taken is not None:
                taken(str(data["ticket"]))
            ticket.ticket = str(data.get("ticket") or ticket.ticket)
            if isinstance(data.get("admission"), str) and data["admission"]:
                ticket.admission = data["admission"]
                position = data.get("position")
                ticket.position = position if isinstance(position, int) and position else None
                return ticket
            if not patient:
                return ticket
            await asyncio.sleep(_refresh_in(answer, data))
            continue
        await pause_for(answer)
    return ticket


def _refresh_in(answer: Answer, place: dict) -> float:
    """When the waiting page asks again: the server's Retry-After (its refresh), else the
    estimated wait (at least 1 s, at most 30 s)."""
    if "retry-after" in answer.headers:
        return answer.retry_after(2.0)
    wait = place.get("estimated_wait_seconds")
    wait = float(wait) if isinstance(wait, int | float) else 2.0
    return min(max(wait, 1.0), 30.0) * random.uniform(0.9, 1.1)


def _cookie_header(cookies: dict[str, str]) -> dict[str, str]:
    if not cookies:
        return {}
    return {"Cookie": "; ".join(f"{name}={value}" for name, value in cookies.items())}


def _keep_cookies(answer: Answer, cookies: dict[str, str]) -> None:
    for line in answer.headers.get("set-cookie", "").split("\n"):
        pair = line.split(";", 1)[0]
        name, sep, value = pair.partition("=")
        if sep and name.strip():
            cookies[name.strip()] = value.strip()


async def free_slots(stage: Stage, address: str, who: str) -> list[dict] | None:
    """The office's free slots now; None when the run ended."""
    while not stage.clock.over():
        answer = await stage.client.request(
            f"{who} GET slots", "GET", stage.slots_path, address=address
        )
        if answer.status == 200 and isinstance(answer.json(), list):
            return answer.json()
        await pause_for(answer)
    return None


def identity(nina: str, phone: str, number: int) -> dict:
    return {
        "surname": SURNAMES[number % len(SURNAMES)],
        "given_names": GIVEN[(number // len(SURNAMES)) % len(GIVEN)],
        "birth_date": f"{1960 + number % 45}-{1 + number % 12:02d}-{1 + number % 28:02d}",
        "national_id": nina,
        "email": f"p{number}.{nina.lower()}@example.ml",
        "phone": phone,
        "language": "fr",
    }


# Applicants ---------------------------------------------------------------------------------


@dataclass
class Applicant:
    number: int
    address: str
    arrival: float  # relative to reopens_at
    behind_nat: bool
    # What happened, relative to reopens_at.
    admitted: float | None = None
    position: int | None = None  # the line's admission order, when the portal tells it
    held: float | None = None
    code_at: float | None = None
    confirmed: float | None = None
    holds: int = 0
    saw_none_free: bool = False  # found every seat taken at some point
    outcome: str = "running"
    ticket: str | None = None  # the first place taken in the line (its credential)

    @property
    def nina(self) -> str:
        return APPLICANT_NINA.format(self.number)

    @property
    def phone(self) -> str:
        return APPLICANT_PHONE.format(self.number)


def applicants(count: int, *, window: float, nat_share: float, nat_addresses: int, seed: int):
    """`count` applicants arriving uniformly over `window` seconds centred on the reopening;
    `nat_share` of them behind `nat_addresses` addresses of one carrier's /24, the others
    each from an address of its own /24."""
    rng = random.Random(seed)
    nat = [f"102.16.40.{10 + i}" for i in range(nat_addresses)]
    behind = set(rng.sample(range(count), round(count * nat_share))) if nat_addresses else set()
    people = []
    for number in range(count):
        if number in behind:
            address = nat[number % len(nat)]
        else:  # its own /24, somewhere in 41.64.0.0/10 (West African mobile ranges)
            address = str(ipaddress.IPv4Address(0x29400000 + (number + 1) * 256 + 17))
        arrival = rng.uniform(-window / 2, window / 2)
        people.append(Applicant(number, address, arrival, number in behind))
    return people


async def applicant_run(stage: Stage, person: Applicant, rng: random.Random) -> None:
    clock = stage.clock
    await clock.until(person.arrival)
    who = "applicant"
    try:
        await _applicant(stage, person, rng, who)
    except asyncio.CancelledError:
        if person.outcome == "running":
            person.outcome = _unfinished(person)
        raise


def _unfinished(person: Applicant) -> str:
    """Where an applicant stood when the run ended."""
    if person.held is not None and person.code_at is None:
        return "holding, no code yet"
    if person.saw_none_free:
        return "no seat (all taken)"
    return "run ended"


async def _applicant(stage: Stage, person: Applicant, rng: random.Random, who: str) -> None:
    """One applicant's visit. As on the booking page, the challenge is solved while the
    form is filled in, and the slot is chosen from a list read once the solution is ready
    (again, when the choice is more than FRESH_CHOICE seconds old): solving here queues in
    a pool of a few processes (on phones it runs in parallel), and choosing before it would
    send everybody to slots taken while they waited."""
    clock = stage.clock

    def taken(credential: str) -> None:
        person.ticket = person.ticket or credential

    ticket = await enter_room(stage, person.address, who, taken=taken)
    if ticket.admission is not None:
        person.admitted, person.position = clock.now(), ticket.position
    body = identity(person.nina, person.phone, person.number)
    slot, chosen_at, solution = None, -1e9, None
    while not clock.over():
        if slot is None:
            # Nothing free before the reopening (without a waiting room) or once all is
            # taken: no challenge is worth solving until the list shows a seat.
            slots = await free_slots(stage, person.address, who)
            if slots is None:
                break
            if not slots:
                person.saw_none_free = person.saw_none_free or clock.now() > 5
                await asyncio.sleep(rng.uniform(3, 6) if clock.now() < 5 else rng.uniform(20, 40))
                continue
            slot, chosen_at = rng.choice(slots[:10])["id"], clock.now()
        if solution is None:
            solution = await solved_challenge(stage, person.address, who)
            if solution is None:
                break
        if clock.now() - chosen_at > FRESH_CHOICE:
            slot = None  # the list again, with the solution in hand
            continue
        headers = {ADMISSION_HEADER: ticket.admission} if ticket.admission else {}
        answer = await stage.client.request(
            f"{who} POST booking",
            "POST",
            BOOKING_PATH,
            address=person.address,
            body={**body, "slot": slot, "altcha": solution},
            headers=headers,
        )
        code = answer.code
        if answer.status == 201 or code == "challenge_failed":
            # Used up by the booking made; a refused booking leaves it good (until it
            # expires, when the server says challenge_failed and a new one is solved).
            solution = None
        if answer.status == 201:
            person.holds += 1
            person.held = person.held if person.held is not None else clock.now()
            if await _confirm(stage, person, answer.json(), who):
                person.confirmed = clock.now()
                person.outcome = "booked"
                return
            slot = None  # the hold lapsed: start again from the list
        elif answer.status == 409 and code == "slot_full":
            free = answer.json().get("next_free") or []
            slot, chosen_at = (rng.choice(free[:3])["id"] if free else None), clock.now()
        elif answer.status == 409 and code == "booking_closed":
            await clock.until(rng.uniform(0, 3))
            slot = None
        elif answer.status == 403 and code.startswith("admission"):
            # Required, used (an admission books once), expired: a new place in the line.
            ticket = await enter_room(stage, person.address, who)
            if ticket.admission is not None and person.admitted is None:
                person.admitted, person.position = clock.now(), ticket.position
        elif answer.status == 409 and code == "already_booked":
            person.outcome = "already booked"
            return
        elif answer.status in (429, 0) or answer.status >= 500:
            await pause_for(answer)
        elif answer.status == 400 and code == "challenge_failed":
            continue
        else:
            person.outcome = f"refused {answer.status} {code}"
            return
    if person.outcome == "running":
        person.outcome = _unfinished(person)


async def _confirm(stage: Stage, person: Applicant, booking: dict, who: str) -> bool:
    """Enter the code sent to the applicant's phone; True once booked."""
    clock = stage.clock
    reference, token = booking["reference"], booking["manage_token"]
    expires = booking.get("hold_expires_at")
    left = 15 * 60.0
    if expires:
        left = datetime.fromisoformat(expires).timestamp() - time.time()
    code = await stage.inbox.code(reference, min(left, clock.end - clock.now()))
    if code is None:
        return False
    person.code_at = clock.now()
    while not clock.over():
        answer = await stage.client.request(
            f"{who} POST confirm",
            "POST",
            CONFIRM_PATH.format(reference=reference),
            address=person.address,
            body={"code": code},
            headers={TOKEN_HEADER: token},
        )
        if answer.status == 200:
            return answer.json().get("status") == "booked"
        if answer.status in (429, 0) or answer.status >= 500:
            await pause_for(answer)
            continue
        return False
    return False
