"""The HTTP side of the reopening benchmark (bench/reopening.py): a small asyncio client for
the portal's JSON API, and the altcha proof of work solved in a process pool.

The client speaks HTTP/1.0 on a new connection per request, as gunicorn's sync workers
answer (they close every connection after its answer), and sends the simulated client's
address in X-Forwarded-For: the server runs with TRUSTED_PROXY_COUNT=1, as behind the
reverse proxy, so thousands of addresses come from one machine. It is written on asyncio's
streams rather than added as a dependency: two thousand people and an attacker waiting on
their answers need only a status, a few headers and a JSON body, and the venv has no
asyncio HTTP client.
"""

from __future__ import annotations

import asyncio
import base64
import contextlib
import hashlib
import json
import time
from collections import Counter
from dataclasses import dataclass, field

TIMEOUT = 60.0  # gunicorn's own worker timeout: an answer later than that is not coming


@dataclass
class Answer:
    status: int  # 0: no HTTP answer (refused, reset, timed out)
    headers: dict[str, str]
    body: bytes
    seconds: float
    error: str = ""  # why there is no answer (status 0)

    def json(self) -> dict | list:
        try:
            return json.loads(self.body)
        except ValueError:
            return {}

    @property
    def code(self) -> str:
        """The `code` of an error answer ({"code": ..., "detail": ...}), else ''."""
        data = self.json()
        return data.get("code", "") if isinstance(data, dict) else ""

    def retry_after(self, default: float) -> float:
        try:
            return max(float(self.headers.get("retry-after", default)), 0.1)
        except ValueError:
            return default


@dataclass
class Tally:
    """What every request of one side (applicants, attacker) got: answers by
    (method path-pattern, status), the 5xx and the failed connections."""

    answers: Counter = field(default_factory=Counter)
    server_errors: int = 0
    no_answer: int = 0
    requests: int = 0
    in_flight: int = 0
    seconds: float = 0.0  # summed over the answers
    slowest: float = 0.0

    def add(self, name: str, answer: Answer) -> None:
        self.requests += 1
        self.seconds += answer.seconds
        self.slowest = max(self.slowest, answer.seconds)
        key = f"{name} {answer.status}" + (f" {answer.code}" if answer.code else "")
        if answer.status == 0:
            key += f" {answer.error}"
        self.answers[key] += 1
        if answer.status >= 500:
            self.server_errors += 1
        elif answer.status == 0:
            self.no_answer += 1


class Client:
    """Requests to the portal on 127.0.0.1:`port`, counted in `tally`; at most `limit` at
    once (a browser's or a bot's connections)."""

    def __init__(self, port: int, tally: Tally, *, limit: int) -> None:
        self.port = port
        self.tally = tally
        self.slots = asyncio.Semaphore(limit)

    async def request(
        self,
        name: str,
        method: str,
        path: str,
        *,
        address: str,
        body: dict | None = None,
        headers: dict[str, str] | None = None,
    ) -> Answer:
        """One request from the client at `address`; `name` labels it in the tally."""
        async with self.slots:
            started = time.monotonic()
            self.tally.in_flight += 1
            try:
                answer = await asyncio.wait_for(
                    self._exchange(method, path, address, body, headers or {}), TIMEOUT
                )
            except (TimeoutError, OSError, ValueError, IndexError) as error:
                answer = Answer(0, {}, b"", 0.0, type(error).__name__)
            finally:
                self.tally.in_flight -= 1
            answer.seconds = time.monotonic() - started
        self.tally.add(name, answer)
        return answer

    async def _exchange(
        self, method: str, path: str, address: str, body: dict | None, headers: dict[str, str]
    ) -> Answer:
        payload = b"" if body is None else json.dumps(body).encode()
        lines = [
            f"{method} {path} HTTP/1.0",
            "Host: 127.0.0.1",
            f"X-Forwarded-For: {address}",
            "Accept: application/json",
            "Accept-Language: fr",
            "Connection: close",
        ]
        if body is not None:
            lines += ["Content-Type: application/json", f"Content-Length: {len(payload)}"]
        lines += [f"{name}: {value}" for name, value in headers.items()]
        reader, writer = await asyncio.open_connection("127.0.0.1", self.port)
        try:
            writer.write(("\r\n".join(lines) + "\r\n\r\n").encode("latin-1") + payload)
            await writer.drain()
            raw = await reader.read()
        finally:
            writer.close()
            with contextlib.suppress(OSError):
                await writer.wait_closed()
        head, _sep, content = raw.partition(b"\r\n\r\n")
        status_line, *header_lines = head.decode("latin-1").split("\r\n")
        status = int(status_line.split(" ", 2)[1])
        answer_headers = {}
        for line in header_lines:
            name, _colon, value = line.partition(":")
            name, value = name.strip().lower(), value.strip()
            # Several Set-Cookie headers: kept one a line.
            previous = answer_headers.get(name)
            answer_headers[name] = value if previous is None else f"{previous}\n{value}"
        if answer_headers.get("transfer-encoding", "").lower() == "chunked":
            content = _unchunk(content)
        return Answer(status, answer_headers, content, 0.0)


def _unchunk(content: bytes) -> bytes:
    out, rest = [], content
    while rest:
        size_line, _sep, rest = rest.partition(b"\r\n")
        size = int(size_line.split(b";")[0] or b"0", 16)
        if size == 0:
            break
        out.append(rest[:size])
        rest = rest[size + 2 :]
    return b"".join(out)


# Proof of work ------------------------------------------------------------------------------


def solve(challenge: dict | None) -> str | None:
    """The `altcha` field for a challenge from /api/v1/challenge/ (altcha v1: the number n in
    [0, maxnumber] with SHA-256(salt + str(n)) == challenge), as base64 of the JSON the
    server decodes (appointments/protection._decode); None if no number fits. Runs in a
    worker process: about 2 million hashes a second on one core of the machine it was
    written on, 50,000 on average at the default difficulty. None: nothing (a pool's
    warm-up)."""
    if challenge is None:
        return None
    salt = challenge["salt"]
    target = bytes.fromhex(challenge["challenge"])
    base = hashlib.sha256(salt.encode())
    for number in range(int(challenge["maxnumber"]) + 1):
        attempt = base.copy()
        attempt.update(str(number).encode())
        if attempt.digest() == target:
            solution = {
                "algorithm": challenge["algorithm"],
                "challenge": challenge["challenge"],
                "number": number,
                "salt": salt,
                "signature": challenge["signature"],
            }
            return base64.b64encode(json.dumps(solution).encode()).decode()
    return None
