"""The attacker of the reopening benchmark (bench/reopening.py), and the whole scene: the
applicants (bench/reopening_people.py) and the attacker played together until the clock's
end. What the attacker does is told in reopening_people's docstring."""

from __future__ import annotations

import asyncio
import heapq
import random
import time
from collections import deque
from dataclasses import dataclass, field
from datetime import datetime

from bench.reopening_http import solve
from bench.reopening_people import Applicant, applicant_run
from bench.reopening_stage import (
    ADMISSION_HEADER,
    ATTACKER_NINA,
    ATTACKER_PHONE,
    BOOKING_PATH,
    CHALLENGE_PATH,
    Stage,
    enter_room,
    free_slots,
    identity,
)

# The attacker -------------------------------------------------------------------------------


def attacker_addresses(count: int) -> list[str]:
    """Half IPv4 in one /24, half IPv6 in one /48, each IPv6 in a /64 of its own."""
    v4 = [f"45.12.34.{i}" for i in range(min(count // 2, 256))]
    v6 = [f"2001:db8:bad:{i:x}::1" for i in range(count - len(v4))]
    return v4 + v6


@dataclass
class Attacker:
    addresses: list[str]
    connections: int
    stock_target: int
    holds: int = 0  # 201s
    refused: dict[str, int] = field(default_factory=dict)
    identities: int = 0
    solved: int = 0

    def __post_init__(self) -> None:
        self.cooling: dict[str, float] = {}  # address -> relative time it may ask again
        self.admissions: dict[str, deque[str]] = {a: deque() for a in self.addresses}
        self.stock: deque[tuple[float, str]] = deque()  # (fetched at, solution)
        self.targets: deque[int] = deque()
        self.relapse: list[tuple[float, int]] = []  # (hold lapses at, slot)
        self.turn = 0

    def next_address(self, now: float, *, admitted: bool) -> str | None:
        for _ in range(len(self.addresses)):
            address = self.addresses[self.turn % len(self.addresses)]
            self.turn += 1
            if self.cooling.get(address, -1e9) > now:
                continue
            if admitted and not self.admissions[address]:
                continue
            return address
        return None

    def new_identity(self) -> dict:
        self.identities += 1
        number = self.identities
        return identity(ATTACKER_NINA.format(number), ATTACKER_PHONE.format(number), number)

    def count(self, key: str) -> None:
        self.refused[key] = self.refused.get(key, 0) + 1


async def attacker_run(stage: Stage, attacker: Attacker, *, start: float) -> None:
    await stage.clock.until(start)
    tasks = [
        asyncio.create_task(_tickets(stage, attacker)),
        *(asyncio.create_task(_solver(stage, attacker)) for _ in range(8)),
        asyncio.create_task(_targets(stage, attacker)),
        *(asyncio.create_task(_booker(stage, attacker)) for _ in range(attacker.connections)),
    ]
    try:
        await asyncio.gather(*tasks)
    finally:
        for task in tasks:
            task.cancel()


async def _tickets(stage: Stage, attacker: Attacker) -> None:
    """Tickets from every address, as many as the room gives each; admissions kept."""

    async def one(address: str) -> None:
        while not stage.clock.over():
            if stage.room is False:
                return
            if len(attacker.admissions[address]) >= 2:
                await asyncio.sleep(5)
                continue
            ticket = await enter_room(stage, address, "attacker")
            if ticket.admission:
                attacker.admissions[address].append(ticket.admission)
            elif stage.room is False:
                return
            else:
                await asyncio.sleep(1)

    await asyncio.gather(*(one(address) for address in attacker.addresses))


async def _solver(stage: Stage, attacker: Attacker) -> None:
    """Challenges fetched from address after address, solved, stockpiled (valid 2 minutes:
    used within 100 s)."""
    clock = stage.clock
    while not clock.over():
        if len(attacker.stock) >= attacker.stock_target:
            await asyncio.sleep(0.2)
            continue
        address = attacker.next_address(clock.now(), admitted=False)
        if address is None:
            await asyncio.sleep(0.5)
            continue
        answer = await stage.client.request(
            "attacker GET challenge", "GET", CHALLENGE_PATH, address=address
        )
        if answer.status != 200:
            if answer.status == 429:
                attacker.cooling[address] = clock.now() + answer.retry_after(10)
            continue
        fetched = clock.now()
        loop = asyncio.get_running_loop()
        solution = await loop.run_in_executor(stage.pool, solve, answer.json())
        if solution is not None:
            attacker.solved += 1
            attacker.stock.append((fetched, solution))


def _take_solution(attacker: Attacker, now: float) -> str | None:
    while attacker.stock:
        fetched, solution = attacker.stock.popleft()
        if now - fetched < 100:
            return solution
    return None


async def _targets(stage: Stage, attacker: Attacker) -> None:
    """The slots to book: the free ones from the list, and each slot of the attacker's own
    at the moment its hold lapses."""
    clock = stage.clock
    await clock.until(0)
    while not clock.over():
        now = clock.now()
        while attacker.relapse and attacker.relapse[0][0] <= now:
            _at, slot = heapq.heappop(attacker.relapse)
            attacker.targets.appendleft(slot)
        if attacker.targets:
            await asyncio.sleep(0.2)
            continue
        address = attacker.next_address(now, admitted=False) or attacker.addresses[0]
        slots = await free_slots(stage, address, "attacker")
        if slots:
            for slot in slots:
                attacker.targets.extend([slot["id"]] * int(slot.get("remaining", 1)))
        else:
            await asyncio.sleep(1)


async def _booker(stage: Stage, attacker: Attacker) -> None:
    clock = stage.clock
    await clock.until(0)
    while not clock.over():
        if not attacker.targets:
            await asyncio.sleep(0.1)
            continue
        now = clock.now()
        solution = _take_solution(attacker, now)
        address = attacker.next_address(now, admitted=bool(stage.room))
        if solution is None or address is None:
            if solution is not None:
                attacker.stock.appendleft((now, solution))
            await asyncio.sleep(0.1)
            continue
        slot = attacker.targets.popleft()
        admission = attacker.admissions[address][0] if stage.room else None
        headers = {ADMISSION_HEADER: admission} if admission else {}
        answer = await stage.client.request(
            "attacker POST booking",
            "POST",
            BOOKING_PATH,
            address=address,
            body={**attacker.new_identity(), "slot": slot, "altcha": solution},
            headers=headers,
        )
        code = answer.code
        if answer.status == 201:
            attacker.holds += 1
            expires = answer.json().get("hold_expires_at")
            lapse = (
                datetime.fromisoformat(expires).timestamp() - time.time() + clock.now()
                if expires
                else clock.now() + 15 * 60
            )
            heapq.heappush(attacker.relapse, (lapse + 0.2, slot))
            continue
        if code != "challenge_failed":
            # Refused, so not used up: good for the next try until it expires (the server
            # then says challenge_failed). Its age is not kept: it may be tried once too late.
            attacker.stock.appendleft((now, solution))
        attacker.count(f"{answer.status} {code}".strip())
        if answer.status == 409 and code == "slot_full":
            attacker.targets.extendleft(s["id"] for s in answer.json().get("next_free") or [])
        elif answer.status == 409 and code == "booking_closed":
            attacker.targets.appendleft(slot)
            await asyncio.sleep(0.05)
        elif answer.status == 403 and code.startswith("admission"):
            if attacker.admissions[address]:
                attacker.admissions[address].popleft()
            attacker.targets.appendleft(slot)
        elif answer.status == 429:
            attacker.cooling[address] = clock.now() + answer.retry_after(10)
            attacker.targets.appendleft(slot)
        elif answer.status == 0 or answer.status >= 500:
            attacker.targets.appendleft(slot)
            await asyncio.sleep(0.5)


# The whole scene ----------------------------------------------------------------------------


async def play(
    stage: Stage,
    people: list[Applicant],
    attacker: Attacker | None,
    *,
    attacker_stage: Stage,
    attacker_start: float,
    seed: int,
    on_tick=None,
) -> None:
    """Everybody, until the clock's end; `on_tick(now)` is called every second. The
    attacker plays on `attacker_stage`: the same clock and office, its own connections
    and solvers."""
    rng = random.Random(seed + 1)
    follow = asyncio.create_task(stage.inbox.follow(stage.clock))
    tasks = [
        asyncio.create_task(applicant_run(stage, person, random.Random(rng.random())))
        for person in people
    ]
    if attacker is not None:
        tasks.append(
            asyncio.create_task(attacker_run(attacker_stage, attacker, start=attacker_start))
        )
    try:
        while not stage.clock.over():
            if on_tick is not None:
                on_tick(stage.clock.now())
            everyone_done = all(task.done() for task in tasks[: len(people)])
            if everyone_done and attacker is None and stage.clock.now() > 0:
                break
            await asyncio.sleep(1)
    finally:
        for task in [*tasks, follow]:
            task.cancel()
        await asyncio.gather(*tasks, follow, return_exceptions=True)
        stage.inbox.read()
