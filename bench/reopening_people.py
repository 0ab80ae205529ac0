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

This module plays the applicants; reopening_scene.py plays the attacker. What both share
(the API's paths, the identities, the clock, the stage, the SMS inbox and the steps they
both take) is in reopening_stage.py.
"""

from __future__ import annotations

import asyncio
import ipaddress
import random
import time
from dataclasses import dataclass
from datetime import datetime

from bench.reopening_stage import (
    ADMISSION_HEADER,
    APPLICANT_NINA,
    APPLICANT_PHONE,
    BOOKING_PATH,
    CONFIRM_PATH,
    TOKEN_HEADER,
    Stage,
    enter_room,
    free_slots,
    identity,
    pause_for,
    solved_challenge,
)

# An applicant's choice of slot older than this is made again from a fresh list.
FRESH_CHOICE = 3.0


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
