"""The pieces of the slow-phone benchmark (bench/slow_phone.py, bench/slow_phone_browser.py)
without timing anything: its options and the portal's environment it sets, the DevTools
protocol's settings it applies to chromium, the phases it sums (typing and the wait for the
code never among them) and the figures it derives, and one whole journey in the slowed
phone against the test server, the code read from the outbox as the browser tests read it.
CI's smoke runs the benchmark itself (`bench/slow_phone.py --quick`)."""

from pathlib import Path

import pytest

from appointments.models import Appointment
from appointments.tests.factories import paris_consulate, slot_at
from appointments.tests.verification import sent_code
from bench import slow_phone
from bench import slow_phone_browser as phone


def test_the_options_of_a_full_run_and_of_the_quick_one():
    full = slow_phone.parse_args([])
    assert (full.runs, full.solves, full.days, full.quick, full.strict) == (3, 6, 60, False, False)
    assert full.database_url.endswith("/epassport_bench_slow_phone")
    assert full.redis_url.endswith("/11")
    assert full.worker_class == "sync"
    assert full.workers >= 3
    quick = slow_phone.parse_args(["--quick", "--strict"])
    assert (quick.runs, quick.solves, quick.days, quick.strict) == (1, 2, 14, True)
    assert slow_phone.parse_args(["--quick", "--runs", "2"]).runs == 2


@pytest.mark.parametrize(
    "options",
    [["--database-url", "postgres://postgres@127.0.0.1:5432/epassport"], ["--runs", "0"]],
)
def test_a_database_not_named_bench_or_no_journey_is_refused(options, capsys):
    with pytest.raises(SystemExit) as exit_:
        slow_phone.parse_args(options)
    assert exit_.value.code == 2


def test_the_portal_runs_the_booking_path_as_real_users_get_it(tmp_path):
    env = slow_phone.portal_env(slow_phone.parse_args(["--out", str(tmp_path / "s.json")]))
    for name in ("BOOKING_CHALLENGE", "BOOKING_VERIFY_CONTACT", "RATE_LIMITS", "OUTBOX_PUSH"):
        assert env[name] == "true", name
    assert env["DEBUG"] == "false"
    assert "BOOKING_CHALLENGE_MAX_NUMBER" not in env  # the portal's own default
    assert env["SMS_BACKEND"] == "core.sms.FileBackend"
    assert Path(env["SMS_FILE_PATH"]) == tmp_path / "s.sms.log"
    harder = slow_phone.portal_env(slow_phone.parse_args(["--max-number", "5000"]))
    assert harder["BOOKING_CHALLENGE_MAX_NUMBER"] == "5000"


def test_slow_3g_and_the_slow_cpu_are_those_of_the_goal():
    assert phone.SLOW_3G == {
        "offline": False,
        "latency": 400,
        "downloadThroughput": 50_000,  # 400 kbit/s
        "uploadThroughput": 50_000,
    }
    assert phone.CPU_SLOWDOWN == 4


def _phases(**overrides: float) -> dict[str, float]:
    return {**dict.fromkeys(phone.PHASES, 1.0), **overrides}


def _journey(number: int, seconds: float, work: float, delivery: float) -> phone.Journey:
    phases = _phases(home=seconds - 5 - work + 1, proof_of_work=work)
    return phone.Journey(
        phases=phases,
        excluded={"typing": 3.0, "code_wait": 9.0},
        bytes=30_000,
        requests=12,
        reference=f"REF{number}",
        day_url="http://127.0.0.1/bureaux/x/jour/2030-01-07/",
        challenge_number=1000,
        solve_seconds=work - 0.5,  # the challenge's fetch took the rest
        delivery_seconds=delivery,
    )


def test_a_journey_counts_its_page_loads_and_proof_of_work_never_typing_or_the_code_wait():
    assert set(phone.NAVIGATIONS) < set(phone.PHASES)
    assert len(phone.NAVIGATIONS) == 4
    assert phone.counted(_phases(proof_of_work=2.5)) == 7.5
    one = _journey(1, 7.0, 2.0, 0.3)
    assert one.seconds == pytest.approx(7.0)  # typing 3 s and the code's 9 s left out
    assert one.as_dict()["phases"]["proof_of_work"] == 2.0
    assert one.work_overhead == 0.5


def test_the_figures_of_a_run():
    journeys = [_journey(1, 5.0, 1.0, 0.2), _journey(2, 7.0, 2.0, 1.5), _journey(3, 6.5, 1.5, 0.4)]
    solves = phone.Solves(samples=[(9_999, 1.0), (19_999, 2.0), (4_999, 0.5)])
    assert solves.hashes_per_second == pytest.approx(10_000)
    assert solves.median_seconds == 1.0
    assert solves.expected_seconds(20_000) == pytest.approx(1.0001)
    assert solves.fitting_max_number(1.5) == 29_998
    figures = slow_phone.summary(journeys, solves, max_number=20_000)
    assert figures["median_seconds"] == 6.5
    assert figures["met"] is False
    assert figures["median_without_proof_of_work"] == 5.0
    assert figures["delivery_p95_seconds"] == 1.5  # nearest rank: the largest of three
    assert figures["median_challenge_fetch_wait"] == 0.5
    assert figures["solving_budget_seconds"] == 0.5  # 6 s less the pages and the fetch
    assert figures["proof_of_work"]["fitting_max_number"] == 9_998
    assert [j["reference"] for j in figures["journeys"]] == ["REF1", "REF2", "REF3"]


def test_the_quick_run_never_fails_on_a_time_and_strict_does(tmp_path, capsys):
    figures = slow_phone.summary([_journey(1, 9.0, 3.0, 2.5)], phone.Solves([(10, 0.1)]), 20_000)
    quick = slow_phone.parse_args(["--quick", "--strict", "--out", str(tmp_path / "q.json")])
    assert slow_phone.report(figures, quick) == 0
    strict = slow_phone.parse_args(["--strict", "--out", str(tmp_path / "s.json")])
    assert slow_phone.report(figures, strict) == 2
    printed = capsys.readouterr().out
    assert "MISSED: median of 1 journeys 9.00 s" in printed
    assert "MISSED: code delivered p95 2.50 s" in printed
    assert (tmp_path / "s.json").exists()


def test_the_reference_is_read_from_the_booking_pages_address():
    assert phone.reference_of("http://127.0.0.1:8000/rendez-vous/AB12-CD34/tok/confirmer/") == (
        "AB12-CD34"
    )
    assert phone.reference_of("http://h/en/rendez-vous/AB12-CD34/tok/") == "AB12-CD34"
    with pytest.raises(phone.JourneyBroken):
        phone.reference_of("http://127.0.0.1:8000/bureaux/paris-consulat/")


class Recorded:
    """The DevTools protocol's session of a context, each command sent recorded (and sent)."""

    def __init__(self, context) -> None:
        self.context, self.sent = context, []

    def new_cdp_session(self, page):
        session = self.context.new_cdp_session(page)
        recorded = self.sent

        class Session:
            def send(self, method, params=None):
                recorded.append((method, params))
                return session.send(method, params)

            def on(self, event, handler):
                session.on(event, handler)

        return Session()

    def __getattr__(self, name):
        return getattr(self.context, name)


@pytest.mark.browser
@pytest.mark.django_db(transaction=True)
def test_the_slowed_phone_gets_slow_3g_and_a_slow_cpu(live_server, browser, monkeypatch):
    contexts = []
    real_new_context = browser.new_context

    def new_context(**options):
        contexts.append(Recorded(real_new_context(**options)))
        return contexts[-1]

    monkeypatch.setattr(browser, "new_context", new_context)
    context, page, meter = phone.new_phone(browser)
    try:
        page.goto(f"{live_server.url}/", wait_until="load")
        assert contexts[0].sent == [
            ("Network.enable", None),
            ("Network.emulateNetworkConditions", phone.SLOW_3G),
            ("Emulation.setCPUThrottlingRate", {"rate": 4}),
        ]
        # The page itself sees the slow network (the Network Information API).
        assert page.evaluate("navigator.connection.rtt") >= 400
        assert page.viewport_size == {"width": 390, "height": 844}
        assert meter.requests >= 2
        assert meter.bytes > 1000
    finally:
        context.close()


@pytest.mark.browser
@pytest.mark.django_db(transaction=True)
def test_a_whole_journey_in_the_slowed_phone(live_server, browser, settings):
    settings.BOOKING_VERIFY_CONTACT = True
    settings.BOOKING_CHALLENGE = True
    settings.BOOKING_CHALLENGE_MAX_NUMBER = 2_000
    office = paris_consulate()
    slot_at(office, 9, 30, days=2, capacity=2)

    one = phone.journey(browser, live_server.url, office.code, phone.Person(7), sent_code)

    appointment = Appointment.objects.get()
    assert (appointment.reference, appointment.status) == (one.reference, "booked")
    assert appointment.national_id == phone.Person(7).national_id
    assert list(one.phases) == list(phone.PHASES)
    assert one.seconds == pytest.approx(sum(one.phases.values()))
    assert all(value > 0 for name, value in one.phases.items() if name != "proof_of_work")
    assert set(one.excluded) == {"typing", "code_wait"}
    assert 0 <= one.challenge_number <= 2_000
    assert "/jour/" in one.day_url
    assert one.bytes > 10_000
    assert one.requests >= 10
