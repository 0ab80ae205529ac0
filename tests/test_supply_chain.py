"""Supply chain: bandit finds nothing of high severity in the code (as .ci/run checks), and
the dependency audit never passes off "audited nothing" as "no known vulnerability"."""

import json
import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parent.parent
BANDIT = str(Path(sys.executable).with_name("bandit"))
REPORT = ["-q", "-f", "json", "-o"]

sys.path.insert(0, str(ROOT / "scripts"))
from audit_dependencies import decide, read_outcome  # noqa: E402


def bandit(target: str, report: Path) -> tuple[int, list[dict]]:
    """bandit as .ci/run runs it, on `target`: (exit status, findings)."""
    result = subprocess.run(
        [
            BANDIT,
            "-c",
            "pyproject.toml",
            "-r",
            target,
            "--severity-level",
            "high",
            *REPORT,
            report,
        ],
        cwd=ROOT,
        capture_output=True,
        text=True,
        timeout=300,
    )
    assert report.exists(), result.stderr[-3000:]
    return result.returncode, json.loads(report.read_text())["results"]


def test_bandit_finds_no_high_severity_issue(tmp_path):
    status, results = bandit(".", tmp_path / "report.json")
    assert results == []
    assert status == 0


def test_the_bandit_configuration_still_reports_a_high_finding(tmp_path):
    code = tmp_path / "code"
    code.mkdir()
    (code / "runner.py").write_text(
        "import subprocess\n\n\ndef run(command):\n    subprocess.call(command, shell=True)\n"
    )
    status, results = bandit(str(code), tmp_path / "report.json")
    assert [(r["test_id"], r["issue_severity"]) for r in results] == [("B602", "HIGH")]
    assert status == 1


# The dependency audit -------------------------------------------------------------------------

# What pip-audit printed on this machine: every package "not found" by PyPI's service, and
# the OSV service's name not resolved.
NOT_FOUND = json.dumps(
    {
        "dependencies": [
            {
                "name": "django",
                "skip_reason": "Dependency not found on PyPI and could not be audited: "
                "django (5.2.19)",
            },
            {
                "name": "celery",
                "skip_reason": "Dependency not found on PyPI and could not be audited: "
                "celery (5.7.0)",
            },
        ],
        "fixes": [],
    }
)
UNRESOLVED = (
    "Traceback (most recent call last):\n  ...\nrequests.exceptions.ConnectionError: "
    "HTTPSConnectionPool(...): Failed to resolve (Name or service not known)\n"
)


def audited(**vulns) -> str:
    return json.dumps(
        {
            "dependencies": [
                {"name": "django", "version": "5.2.19", "vulns": vulns.get("django", [])},
                {"name": "celery", "version": "5.7.0", "vulns": []},
                {"name": "portal-local", "skip_reason": "Dependency not found on PyPI"},
            ],
            "fixes": [],
        }
    )


@pytest.mark.parametrize("strict", [False, True])
def test_no_service_audited_anything_is_not_a_pass(strict):
    outcomes = [
        read_outcome("osv", 1, "", UNRESOLVED),
        read_outcome("pypi", 0, NOT_FOUND, "No known vulnerabilities found\n"),
    ]
    assert not any(outcome.usable for outcome in outcomes)
    status, lines = decide(outcomes, strict=strict)
    text = "\n".join(lines)
    assert status == (2 if strict else 0)
    assert "NOT AUDITED" in text
    assert "osv: unreachable or failed" in text
    assert "Name or service not known" in text
    assert "pypi: answered, but audited none of 2 packages" in text
    assert "no known vulnerability" not in text


def test_a_known_vulnerability_fails():
    vulnerability = {"id": "PYSEC-2099-1", "fix_versions": ["5.2.20"], "aliases": []}
    outcome = read_outcome("osv", 1, audited(django=[vulnerability]), "")
    status, lines = decide([outcome], strict=False)
    assert status == 1
    assert "  django 5.2.19: PYSEC-2099-1 (fixed in 5.2.20)" in lines


def test_an_audit_with_nothing_found_passes_and_names_what_it_skipped():
    outcomes = [read_outcome("osv", 1, "", UNRESOLVED), read_outcome("pypi", 0, audited(), "")]
    status, lines = decide(outcomes, strict=True)
    assert status == 0
    assert "pypi: audited 2 packages, could not audit 1: portal-local" in lines
    assert lines[-1] == "no known vulnerability"
