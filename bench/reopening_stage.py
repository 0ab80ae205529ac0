"""What the people of the reopening benchmark (reopening_people.py says who they are and
what they do) share: the portal's API they call (its paths and headers), the identities they
book with, the clock relative to `reopens_at`, the stage (server, office, clock, SMS inbox,
solvers' pool), the SMS inbox the codes arrive in, and the steps both applicants and the
attacker take (a solved challenge, a place in the waiting room, the free slots)."""

from __future__ import annotations

import asyncio
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

# The code and the booking reference in the text of an SMS (the inbox reads them).
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
