"""Audit the installed Python packages against published advisories, with pip-audit.

    .venv/bin/python scripts/audit_dependencies.py [--strict]

Audits the environment it runs in (`.venv`, installed from requirements-dev.txt: the
portal's packages and the tools'). pip-audit asks an advisory service about each package:
the OSV database first, then PyPI's. A service may not answer from a machine whose network
reaches the package registries only; and PyPI's can answer "not found" for every package
(when the index in front of it serves no per-version data), which pip-audit reports as
"no known vulnerabilities" although it audited nothing. This script tells these apart:

- exit 1 when a service audited packages and found a known vulnerability (listed);
- exit 0 when a service audited packages and found none (packages it could not audit are
  named);
- when no service audited anything, it says so in a block that cannot be mistaken for a
  pass, and exits 0, or 2 with --strict (for machines that do reach an advisory service).
"""

from __future__ import annotations

import argparse
import json
import subprocess
import sys
from dataclasses import dataclass, field
from pathlib import Path

SERVICES = ("osv", "pypi")
TIMEOUT = 300


@dataclass
class Outcome:
    service: str
    audited: list[str] = field(default_factory=list)
    skipped: dict[str, str] = field(default_factory=dict)  # package: reason
    vulnerabilities: list[str] = field(default_factory=list)  # "package version: ID (fix)"
    error: str = ""  # why the service gave no answer at all

    @property
    def usable(self) -> bool:
        return not self.error and bool(self.audited)


def _last_line(text: str) -> str:
    lines = [line.strip() for line in text.splitlines() if line.strip()]
    return lines[-1] if lines else "no output"


def read_outcome(service: str, returncode: int, stdout: str, stderr: str) -> Outcome:
    """What one run of `pip-audit -f json` said."""
    outcome = Outcome(service=service)
    try:
        report = json.loads(stdout)
        dependencies = report["dependencies"]
    except (ValueError, KeyError, TypeError):
        outcome.error = f"no report (exit status {returncode}): {_last_line(stderr)}"
        return outcome
    for dependency in dependencies:
        name = f"{dependency['name']} {dependency.get('version', '')}".strip()
        if "skip_reason" in dependency:
            outcome.skipped[name] = dependency["skip_reason"]
            continue
        outcome.audited.append(name)
        for vulnerability in dependency.get("vulns", []):
            fixes = ", ".join(vulnerability.get("fix_versions", [])) or "no fixed version"
            outcome.vulnerabilities.append(f"{name}: {vulnerability['id']} (fixed in {fixes})")
    return outcome


def run_service(service: str) -> Outcome:
    command = [
        str(Path(sys.executable).with_name("pip-audit")),
        "--vulnerability-service",
        service,
        "--format",
        "json",
        "--progress-spinner",
        "off",
    ]
    try:
        result = subprocess.run(  # nosec B603 # pip-audit of this venv, fixed arguments
            command, capture_output=True, text=True, timeout=TIMEOUT
        )
    except (OSError, subprocess.TimeoutExpired) as error:
        return Outcome(service=service, error=f"{error.__class__.__name__}: {error}")
    return read_outcome(service, result.returncode, result.stdout, result.stderr)


def decide(outcomes: list[Outcome], *, strict: bool) -> tuple[int, list[str]]:
    """The exit status and the lines to print, from the outcomes in the order tried."""
    lines = []
    for outcome in outcomes:
        if outcome.error:
            lines.append(f"{outcome.service}: unreachable or failed: {outcome.error}")
        elif not outcome.audited:
            reason = next(iter(outcome.skipped.values()), "no package listed")
            lines.append(
                f"{outcome.service}: answered, but audited none of {len(outcome.skipped)} "
                f"packages (e.g. {reason})"
            )
    usable = next((outcome for outcome in outcomes if outcome.usable), None)
    if usable is None:
        lines += [
            "",
            "!! NOT AUDITED: no advisory service could check the dependencies from this",
            "!! machine. This is not a pass; run scripts/audit_dependencies.py where one",
            "!! answers.",
        ]
        return (2 if strict else 0), lines
    lines.append(
        f"{usable.service}: audited {len(usable.audited)} packages"
        + (
            f", could not audit {len(usable.skipped)}: {', '.join(usable.skipped)}"
            if usable.skipped
            else ""
        )
    )
    if usable.vulnerabilities:
        lines.append(f"known vulnerabilities ({len(usable.vulnerabilities)}):")
        lines += [f"  {line}" for line in usable.vulnerabilities]
        return 1, lines
    lines.append("no known vulnerability")
    return 0, lines


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument(
        "--strict", action="store_true", help="exit 2 when no service could audit anything"
    )
    args = parser.parse_args(argv)
    outcomes = []
    for service in SERVICES:
        outcomes.append(run_service(service))
        if outcomes[-1].usable:
            break
    status, lines = decide(outcomes, strict=args.strict)
    print("\n".join(lines))
    return status


if __name__ == "__main__":
    sys.exit(main())
