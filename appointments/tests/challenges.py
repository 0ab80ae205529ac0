"""Solving the booking's proof of work as the altcha widget does."""

import base64
import json

from altcha import v1 as altcha


def solution_number(challenge: dict) -> int:
    """The number whose hash with the salt gives the challenge."""
    return altcha.solve_challenge(
        challenge["challenge"], challenge["salt"], challenge["algorithm"], challenge["maxnumber"]
    ).number


def encoded(value) -> str:
    """Base64 of the JSON of `value`: the form of every payload."""
    return base64.b64encode(json.dumps(value).encode()).decode()


def solve(challenge: dict, *, number: int | None = None, **changes) -> str:
    """What the widget sends: base64 of the JSON of the solved challenge (with `number`
    instead of the right one, and fields changed by `changes`, to forge one)."""
    return encoded(
        {
            "algorithm": challenge["algorithm"],
            "challenge": challenge["challenge"],
            "number": solution_number(challenge) if number is None else number,
            "salt": challenge["salt"],
            "signature": challenge["signature"],
            **changes,
        }
    )
