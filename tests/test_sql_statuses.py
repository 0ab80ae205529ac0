"""No SQL file of the apps writes a status by hand: each names it by a marker of its enum
(`{AppointmentStatus.BOOKED}`, core.sql), so that a status renamed or removed in Python
breaks the loading of every statement that uses it, at import, instead of a statement that
silently matches nothing. The benchmarks' own SQL (bench/) is theirs and may."""

import re
from pathlib import Path

from django.apps import apps
from django.conf import settings

APPS = ("core", "appointments", "production", "consulates")


def _statuses() -> set[str]:
    """The values of every status of the apps' models (status, from_status, to_status...)."""
    values = set()
    for label in APPS:
        for model in apps.get_app_config(label).get_models():
            for field in model._meta.get_fields():
                if field.name.endswith("status") and getattr(field, "choices", None):
                    values.update(str(value) for value, _label in field.choices)
    return values


def _sql_files() -> list[Path]:
    root = Path(settings.BASE_DIR)
    return sorted(path for label in APPS for path in (root / label).rglob("*.sql"))


def test_the_statuses_are_known():
    # The check below means something only if it knows the statuses of every machine.
    assert {"pending", "booked", "queued", "on_hold", "sent", "failed"} <= _statuses()
    assert len(_sql_files()) >= 10


def test_no_sql_file_writes_a_status_literal():
    statuses = _statuses()
    found = []
    for path in _sql_files():
        text = re.sub(r"--[^\n]*", "", path.read_text())
        found += [
            f"{path.name}: '{literal}'"
            for literal in re.findall(r"'((?:[^']|'')*)'", text)
            if literal in statuses
        ]
    assert found == [], "write them as {Enum.MEMBER} markers (core.sql)"
