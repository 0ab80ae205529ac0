"""A tour of the portal's pages in chromium, for the tests that look at every page at once
(tests/test_browser_pages.py, tests/test_browser_screenshots.py): what axe-core finds on a
page, what a page weighs with all it loads and from which hosts, and a member of staff's
session handed to a browser.

axe-core's script comes from the axe-playwright-python package (requirements-dev.txt; axe-core
4.12.1, Mozilla Public License 2.0, in the package as axe_playwright_python/axe.min.js): it is
evaluated in the page, never fetched from another host."""

from collections.abc import Callable, Collection
from dataclasses import dataclass, field
from urllib.parse import urlsplit

from axe_playwright_python.sync_playwright import Axe
from django.conf import settings
from django.contrib.auth.models import User
from django.test import Client

from tests.support import log_in

AXE = Axe()
# What a person cannot get past: axe-core's two highest impacts fail the suite; the other
# two (moderate, minor) are printed.
BLOCKING = {"serious", "critical"}
# Every public page with all it loads (HTML, styles, scripts, pictures, fonts, favicon):
# about 20 s on a 2G connection (64 kbit/s), two or three on 3G.
BUDGET = 100 * 1024


@dataclass
class Visit:
    """One page as a browser got it: its name, axe-core's findings, what it loaded."""

    name: str
    url: str
    status: int
    blocking: list[str] = field(default_factory=list)
    others: list[str] = field(default_factory=list)
    loaded: list[tuple[str, int]] = field(default_factory=list)  # (url, bytes received)
    hosts: set[str] = field(default_factory=set)

    @property
    def weight(self) -> int:
        return sum(size for _url, size in self.loaded)


def axe_findings(page, allowed: Collection[str] = ()) -> tuple[list[str], list[str]]:
    """axe-core's violations on the page as it is now, every rule of its set: (serious or
    critical ones, the others), one line each with the elements at fault. A rule in
    `allowed` (the test says why) goes with the others, marked so."""
    blocking, others = [], []
    for violation in AXE.run(page).response["violations"]:
        if violation["id"] in allowed:
            violation["impact"] = f"{violation['impact']}, allowed here"
        nodes = violation["nodes"]
        where = "; ".join(" ".join(map(str, node["target"])) for node in nodes[:4])
        more = f" (+{len(nodes) - 4} more)" if len(nodes) > 4 else ""
        line = f"{violation['id']} [{violation['impact']}] {violation['help']}: {where}{more}"
        (blocking if violation["impact"] in BLOCKING else others).append(line)
    return blocking, others


def _received(request) -> int:
    """Bytes of a request's answer as they came over the wire: headers and body."""
    sizes = request.sizes()
    return sizes["responseHeadersSize"] + max(sizes["responseBodySize"], 0)


def _favicon(page, loaded: list[tuple[str, int]]) -> tuple[str, int] | None:
    """The page's favicon, which chromium fetches on its own without telling Playwright: its
    address (the page's <link rel=icon>, else /favicon.ico) asked for once more, counted
    when the page itself did not load it."""
    href = page.evaluate(
        """() => {
            const link = document.querySelector('link[rel~="icon"]');
            return link ? link.href : new URL('/favicon.ico', location.href).href;
        }"""
    )
    if any(url == href for url, _size in loaded):
        return None
    response = page.request.get(href)
    headers = sum(len(h["name"]) + len(h["value"]) + 4 for h in response.headers_array)
    return href, headers + len(response.body())


def _settled(page) -> None:
    """Wait until the page has loaded all it asks for: at its load event every picture, style
    and script has come; a page with scripts may ask for more afterwards (the booking form's
    challenge), so it is given until the network is quiet."""
    page.wait_for_load_state("load")
    if page.locator("script[src]").count():
        page.wait_for_load_state("networkidle")


def visit(
    open_page: Callable,
    name: str,
    url: str,
    *,
    viewport: dict | None = None,
    cookies: list[dict] | None = None,
    then: Callable | None = None,
    allowed: Collection[str] = (),
) -> Visit:
    """Open `url` in a browser context of its own (an empty cache: everything the page needs
    is loaded), do `then(page)` if given (sending a form), wait until nothing more loads,
    and report axe-core's findings (but for the `allowed` rules) and every request the page
    made (the whole visit)."""
    page = open_page(viewport) if viewport else open_page()
    if cookies:
        page.context.add_cookies(cookies)
    finished, hosts, statuses = [], set(), []
    page.on("request", lambda request: hosts.add(urlsplit(request.url).netloc))
    page.on("requestfinished", lambda request: finished.append(request))
    page.on(
        "response",
        lambda r: (
            statuses.append(r.status)
            if r.request.is_navigation_request() and r.frame == page.main_frame
            else None
        ),
    )
    page.goto(url)
    _settled(page)
    if then is not None:
        then(page)
        _settled(page)
    loaded = [(request.url, _received(request)) for request in finished]
    favicon = _favicon(page, loaded)
    if favicon is not None:
        loaded.append(favicon)
        hosts.add(urlsplit(favicon[0]).netloc)
    blocking, others = axe_findings(page, allowed)
    hosts.discard("")  # data: addresses load nothing
    result = Visit(name, page.url, statuses[-1], blocking, others, loaded, hosts)
    page.context.close()
    return result


def send_the_form(page, field: str | None = None) -> None:
    """Send the page's main form (the one with the input named `field`, if given) as it
    is, past the browser's own checks of required fields: the server's answer, with its
    errors, is the page under test."""
    form = page.locator("main form[method=post]")
    if field is not None:
        form = form.filter(has=page.locator(f"[name={field}]"))
    with page.expect_navigation():
        form.first.evaluate("form => form.submit()")


def staff_cookies(user: User, base_url: str, *, second_factor: bool = True) -> list[dict]:
    """The session cookie of `user` logged in (with a second factor where their role needs
    one, unless `second_factor` is False: a session that must enrol one first), for a
    browser context: the staff pages without typing a password and a code at every page of
    the tour."""
    client = Client()
    if second_factor:
        log_in(client, user)
    else:
        client.force_login(user)
    name = settings.SESSION_COOKIE_NAME
    return [{"name": name, "value": client.cookies[name].value, "url": base_url}]


def report(visits: list[Visit]) -> str:
    """Every visit's findings and weight, for the test's output."""
    lines = []
    for v in visits:
        lines.append(f"{v.name}: {v.url} {v.weight / 1024:.1f} KB in {len(v.loaded)} answers")
        lines += [f"  SERIOUS {line}" for line in v.blocking]
        lines += [f"  other   {line}" for line in v.others]
    return "\n".join(lines)
