"""The browser of the slow-phone benchmark (bench/slow_phone.py): Debian's chromium driven by
Playwright on a phone's screen, slowed by chromium's DevTools protocol to slow 3G and a CPU
four times slower, booking from `/` to the manage page as an applicant does, and the times
of each phase read from the page's own clock (Navigation Timing).

What a journey counts (`counted`): each page's load (from the start of its navigation to its
load event: a link followed, or a form posted with its redirect) and the wait for the proof
of work after the day's page has loaded (from its load event to the moment the page says
the check is done: `SOLVED_MARK`), as if the applicant sent the form the instant it showed.
What it leaves out: typing (Playwright's `fill`, instant) and the wait for the code, both
timed apart (`Journey.excluded`).
"""

from __future__ import annotations

import statistics
import time
import urllib.parse
from collections.abc import Callable
from dataclasses import dataclass, field

from tests.browser import PHONE

# Slow 3G as the measurements and Lighthouse's mobile profile set it: 400 ms of
# latency and 400 kbit/s (50,000 bytes/s) each way; a CPU four times slower than this
# machine's (a cheap phone's).
SLOW_3G = {
    "offline": False,
    "latency": 400,
    "downloadThroughput": 50_000,
    "uploadThroughput": 50_000,
}
CPU_SLOWDOWN = 4

# The phases of a journey that count, in order: `/`, the office's month, the day's page with
# the form, the proof of work's wait, the form posted (to the code page), the code posted
# (to the manage page). Four navigations after `/`.
PHASES = ("home", "office", "day", "proof_of_work", "code_page", "manage_page")
NAVIGATIONS = ("office", "day", "code_page", "manage_page")

# The moment the booking form's proof of work is solved, on the page's clock: the page says
# so in #challenge-status (static/js/challenge.js), watched from the document's start.
SOLVED_MARK = """
document.addEventListener("DOMContentLoaded", function () {
  var status = document.getElementById("challenge-status");
  if (!status) return;
  new MutationObserver(function () {
    if (!window.__benchSolvedAt && status.textContent === status.getAttribute("data-done")) {
      window.__benchSolvedAt = performance.now();
    }
  }).observe(status, { childList: true, characterData: true, subtree: true });
});
"""
LOADED = """() => {
  const entry = performance.getEntriesByType("navigation")[0];
  return entry && entry.loadEventEnd > 0 ? entry.loadEventEnd : 0;
}"""
SOLVED = "() => window.__benchSolvedAt || 0"
# The challenge's number (from the solution the page put in the form) and when its challenge
# arrived, on the page's clock: the solving time is the mark less that.
CHALLENGE = """() => {
  const url = document.getElementById("challenge-status").getAttribute("data-challenge-url");
  const fetched = performance.getEntriesByType("resource").filter((e) => e.name.includes(url));
  const field = document.querySelector('#booking-form input[name="altcha"]');
  return {
    number: JSON.parse(atob(field.value)).number,
    arrived: fetched.length ? fetched[fetched.length - 1].responseEnd : 0,
  };
}"""


class JourneyBroken(RuntimeError):
    """The booking did not go through: what the page said."""


def throttle(context, page) -> Meter:
    """Slow 3G and a 4x slower CPU on `page` (chromium's DevTools protocol: both stay for
    the page's later navigations), and a meter of what it transfers."""
    session = context.new_cdp_session(page)
    session.send("Network.enable")
    session.send("Network.emulateNetworkConditions", SLOW_3G)
    session.send("Emulation.setCPUThrottlingRate", {"rate": CPU_SLOWDOWN})
    return Meter(session)


class Meter:
    """Bytes received (headers and bodies, as encoded on the wire, redirects included) and
    requests sent, counted from the DevTools protocol's network events."""

    def __init__(self, session) -> None:
        self.bytes = 0
        self.requests = 0
        session.on("Network.requestWillBeSent", self.sent)
        session.on("Network.loadingFinished", self.finished)

    def sent(self, event: dict) -> None:
        self.requests += 1
        redirect = event.get("redirectResponse")
        if redirect:  # the answer that redirected ends here, not in loadingFinished
            self.bytes += int(redirect.get("encodedDataLength", 0))

    def finished(self, event: dict) -> None:
        self.bytes += int(event.get("encodedDataLength", 0))


def counted(phases: dict[str, float]) -> float:
    """A journey's seconds: its page loads, form posts and proof of work (PHASES), never
    the typing or the wait for the code."""
    return sum(phases[name] for name in PHASES)


@dataclass
class Person:
    """Who books: a distinct identity, phone and mailbox per journey (one hold each)."""

    number: int
    surname: str = "TRAORE"
    given_names: str = "Aminata"
    birth: tuple[str, str, str] = ("17", "5", "1990")

    @property
    def national_id(self) -> str:
        return f"1{self.number:013d}A"

    @property
    def email(self) -> str:
        return f"aminata.{self.number}@example.org"

    @property
    def phone(self) -> str:
        return f"+2237{self.number:07d}"


@dataclass
class Journey:
    phases: dict[str, float]  # seconds, PHASES
    excluded: dict[str, float]  # seconds: typing, the wait for the code
    bytes: int
    requests: int
    reference: str
    day_url: str
    challenge_number: int
    solve_seconds: float  # from the challenge's arrival to its solution
    delivery_seconds: float | None = None  # appointment created to code sent
    wall_seconds: float = 0.0  # the whole, typing and waits included

    @property
    def seconds(self) -> float:
        return counted(self.phases)

    @property
    def work_overhead(self) -> float:
        """The proof of work's wait that is not solving: the challenge's fetch (a round
        trip) when it ends after the page's load."""
        return max(0.0, self.phases["proof_of_work"] - self.solve_seconds)

    def as_dict(self) -> dict:
        return {
            "seconds": round(self.seconds, 3),
            "phases": {name: round(value, 3) for name, value in self.phases.items()},
            "excluded": {name: round(value, 3) for name, value in self.excluded.items()},
            "bytes": self.bytes,
            "requests": self.requests,
            "reference": self.reference,
            "challenge_number": self.challenge_number,
            "solve_seconds": round(self.solve_seconds, 3),
            "delivery_seconds": self.delivery_seconds,
            "wall_seconds": round(self.wall_seconds, 3),
        }


def new_phone(browser):
    """A fresh browser context (cold cache, no cookies) on a phone's screen, in French,
    slowed: (context, page, meter)."""
    context = browser.new_context(viewport=PHONE, locale="fr-FR")
    context.add_init_script(SOLVED_MARK)
    page = context.new_page()
    page.set_default_timeout(120_000)
    return context, page, throttle(context, page)


def _loaded(page) -> float:
    """Seconds from the start of this page's navigation to its load event."""
    return page.wait_for_function(LOADED, polling=50).json_value() / 1000


def _follow(page, click: Callable[[], None]) -> float:
    with page.expect_navigation(wait_until="load"):
        click()
    return _loaded(page)


def _fill(page, person: Person) -> None:
    page.locator('input[name="slot"]').first.check()
    values = {
        "surname": person.surname,
        "given_names": person.given_names,
        "birth_date_day": person.birth[0],
        "birth_date_month": person.birth[1],
        "birth_date_year": person.birth[2],
        "national_id": person.national_id,
        "email": person.email,
        "phone": person.phone,
    }
    for name, value in values.items():
        page.locator(f'#booking-form [name="{name}"]').fill(value)
    page.locator('#booking-form [name="consent"]').check()


def _what_the_page_says(page) -> str:
    errors = page.locator("#form-errors, .errors, .notice-error")
    said = " | ".join(errors.all_inner_texts()) if errors.count() else ""
    return f"{page.url}: {said or page.title()}"


def reference_of(url: str) -> str:
    """The booking's reference in the address of its code page or manage page
    (/rendez-vous/<reference>/<token>/...)."""
    parts = urllib.parse.urlsplit(url).path.strip("/").split("/")
    if "rendez-vous" not in parts or parts.index("rendez-vous") + 1 >= len(parts):
        raise JourneyBroken(f"not a booking's page: {url}")
    return parts[parts.index("rendez-vous") + 1]


def solved_after_load(page) -> tuple[float, int, float]:
    """Waits for the page's proof of work: (seconds from the load event to the solution, 0
    if it was solved before; the challenge's number; seconds solving it)."""
    solved_at = page.wait_for_function(SOLVED, polling=50).json_value()
    loaded_at = page.evaluate(LOADED)
    challenge = page.evaluate(CHALLENGE)
    return (
        max(0.0, solved_at - loaded_at) / 1000,
        int(challenge["number"]),
        (solved_at - challenge["arrived"]) / 1000,
    )


def journey(browser, base: str, office: str, person: Person, code_of) -> Journey:
    """One booking from `/` to the manage page, in a fresh slowed phone; `code_of(reference)`
    waits for the code sent and returns it."""
    started = time.monotonic()
    context, page, meter = new_phone(browser)
    try:
        phases: dict[str, float] = {}
        page.goto(f"{base}/", wait_until="load")
        phases["home"] = _loaded(page)
        link = page.locator(f'a[href="/bureaux/{office}/"]').first
        phases["office"] = _follow(page, link.click)
        phases["day"] = _follow(page, page.locator("table.month a.free").first.click)
        day_url = page.url
        typing = time.monotonic()
        _fill(page, person)
        typed = time.monotonic() - typing
        phases["proof_of_work"], number, solving = solved_after_load(page)
        send = page.locator('#booking-form button[type="submit"]')
        phases["code_page"] = _follow(page, send.click)
        if not page.url.endswith("/confirmer/"):
            raise JourneyBroken(f"the form was not accepted: {_what_the_page_says(page)}")
        reference = reference_of(page.url)
        waiting = time.monotonic()
        code = code_of(reference)
        waited = time.monotonic() - waiting
        page.locator('input[name="code"]').fill(code)
        phases["manage_page"] = _follow(page, page.locator('form button[type="submit"]').click)
        if page.url.endswith("/confirmer/") or reference_of(page.url) != reference:
            raise JourneyBroken(f"the code was not accepted: {_what_the_page_says(page)}")
        return Journey(
            phases={name: phases[name] for name in PHASES},
            excluded={"typing": typed, "code_wait": waited},
            bytes=meter.bytes,
            requests=meter.requests,
            reference=reference,
            day_url=day_url,
            challenge_number=number,
            solve_seconds=solving,
            wall_seconds=time.monotonic() - started,
        )
    finally:
        context.close()


@dataclass
class Solves:
    """Challenges solved by the booking form's own script in the slowed phone: (number,
    seconds) each; the number of hashes tried is the number plus one."""

    samples: list[tuple[int, float]] = field(default_factory=list)

    @property
    def hashes_per_second(self) -> float:
        seconds = sum(s for _n, s in self.samples)
        return sum(n + 1 for n, _s in self.samples) / seconds if seconds else 0.0

    @property
    def median_seconds(self) -> float:
        return statistics.median(s for _n, s in self.samples) if self.samples else 0.0

    def expected_seconds(self, max_number: int) -> float:
        """The average solving time at this difficulty: the number is uniform in [0, max],
        so max/2 + 1 hashes on average."""
        rate = self.hashes_per_second
        return (max_number / 2 + 1) / rate if rate else 0.0

    def fitting_max_number(self, budget: float) -> int:
        """The largest difficulty whose average solving time fits in `budget` seconds."""
        return max(0, int(2 * (budget * self.hashes_per_second - 1)))


def solve_samples(browser, day_url: str, count: int) -> list[tuple[int, float]]:
    """`count` challenges solved by the day page's own script in a slowed phone (the page
    loaded again for each: a challenge is fetched when the form opens)."""
    context, page, _meter = new_phone(browser)
    samples = []
    try:
        page.goto(day_url, wait_until="load")
        for index in range(count):
            if index:
                page.reload(wait_until="load")
            _wait, number, seconds = solved_after_load(page)
            samples.append((number, seconds))
    finally:
        context.close()
    return samples
