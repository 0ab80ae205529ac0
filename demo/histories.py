"""Histories of demo passport files, walked on the one table of allowed moves.

Nothing here lists a path: every step is a move of `production.transitions.TRANSITIONS`
that `route_allows` accepts for the file's office (a mission's file reaches `ready` only
through the pouch, a centre's never travels), so the demo cannot hold a history that the
service itself would refuse.
"""

import random
from collections import deque
from functools import cache

from production import transitions
from production.models import FileStatus

# Every file is created `enrolled` (production.services: enrolment); its first event has no
# `from_status`.
START = FileStatus.ENROLLED


@cache
def _moves(status: str, *, at_mission: bool) -> tuple[str, ...]:
    """The statuses a file of this kind of office may move to from `status`."""
    return tuple(
        to
        for to in transitions.next_statuses(status)
        if transitions.route_allows(start=status, to=to, enrolled_at_mission=at_mission)
    )


@cache
def _distances(target: str, at_mission: bool) -> dict[str, int]:
    """Fewest moves from each status to `target` (statuses that cannot reach it are absent)."""
    distance = {target: 0}
    pending = deque([target])
    while pending:
        status = pending.popleft()
        for before in FileStatus.values:
            if before not in distance and status in _moves(before, at_mission=at_mission):
                distance[before] = distance[status] + 1
                pending.append(before)
    return distance


@cache
def _on_the_way(target: str, at_mission: bool) -> tuple[str, ...]:
    """The statuses that some history from START to `target` goes through."""
    return tuple(
        s
        for s in FileStatus.values
        if s in _distances(target, at_mission) and START in _distances(s, at_mission)
    )


def reachable(*, at_mission: bool) -> list[str]:
    """The statuses a file of this kind of office can be in."""
    return [s for s in FileStatus.values if START in _distances(s, at_mission)]


def walk(
    rng: random.Random, *, target: str, at_mission: bool, detour: float = 0.15, longest: int = 12
) -> list[str]:
    """A history from START to `target`, through a status drawn among those on some way there
    (so that rejections, say, come at every stage): mostly the shortest way, sometimes a
    detour the table allows (a hold and its release, a failed quality check made again),
    never much longer than `longest` statuses."""
    if START not in _distances(target, at_mission):
        raise ValueError(f"{target} cannot be reached from {START}")
    history = [START]
    for goal in (rng.choice(_on_the_way(target, at_mission)), target):
        distance = _distances(goal, at_mission)
        while history[-1] != goal:
            here = history[-1]
            options = [s for s in _moves(here, at_mission=at_mission) if s in distance]
            if len(history) < longest and rng.random() < detour:
                history.append(rng.choice(options))
            else:
                history.append(rng.choice([s for s in options if distance[s] < distance[here]]))
    return history
