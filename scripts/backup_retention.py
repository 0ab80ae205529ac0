"""How long the backups of an output directory are kept (scripts/backup.py `create`, after a
successful backup): BACKUP_KEEP_DAYS, the backups older than that deleted, and with `--keep N`
all but the N newest. A backup is its dump and its manifest, found by their names."""

from __future__ import annotations

import os
import re
from datetime import UTC, datetime, timedelta
from pathlib import Path

from scripts.backup_files import PREFIX, STAMP, BackupError

# A backup's files: `<PREFIX><UTC time>` then .dump.age, .dump (format 1, plain) or .json.
_BACKUP_FILE = re.compile(rf"^{PREFIX}(\d{{8}}T\d{{6}}Z)(\.dump\.age|\.dump|\.json)$")
# A month of daily backups plus a margin, to notice a problem (a night that failed, a copy
# that is damaged) before the last good backup of that month is deleted.
KEEP_DAYS = 35


def keep_days(value: str | None = None) -> int:
    """BACKUP_KEEP_DAYS (or `value`): days a backup is kept, KEEP_DAYS when unset."""
    text = (os.environ.get("BACKUP_KEEP_DAYS", "") if value is None else value).strip()
    if not text:
        return KEEP_DAYS
    if not text.isdigit() or int(text) < 1:
        raise BackupError(f"BACKUP_KEEP_DAYS must be a whole number of days, at least 1: {text!r}")
    return int(text)


def _backups(output_dir: Path) -> dict[str, list[Path]]:
    """{UTC time in the name: the files of that backup} of the directory."""
    found: dict[str, list[Path]] = {}
    for path in output_dir.iterdir() if output_dir.is_dir() else ():
        match = _BACKUP_FILE.match(path.name)
        if match and path.is_file():
            found.setdefault(match.group(1), []).append(path)
    return found


def _delete(paths: list[Path]) -> list[Path]:
    deleted = []
    for path in sorted(paths, key=lambda path: (path.suffix == ".json", path.name)):
        path.unlink(missing_ok=True)
        deleted.append(path)
    return deleted


def backups_prune(*, output_dir: Path, keep: int) -> list[Path]:
    """Delete all but the `keep` newest backups (dump and manifest); returns the deleted."""
    backups = _backups(output_dir)
    with_dump = [
        stamp for stamp, paths in backups.items() if any(p.suffix != ".json" for p in paths)
    ]
    deleted = []
    for stamp in sorted(with_dump, reverse=True)[keep:]:  # names sort by time
        deleted += _delete(backups[stamp])
    return deleted


def backups_expire(*, output_dir: Path, days: int, now: datetime | None = None) -> list[Path]:
    """Delete the backups (dump and manifest) whose time in the name is more than `days`
    days before `now`; returns the deleted."""
    cutoff = (now or datetime.now(UTC)) - timedelta(days=days)
    deleted = []
    for stamp, paths in sorted(_backups(output_dir).items()):
        try:
            made = datetime.strptime(stamp, STAMP).replace(tzinfo=UTC)
        except ValueError:  # digits that are no time: not one of ours
            continue
        if made < cutoff:
            deleted += _delete(paths)
    return deleted
