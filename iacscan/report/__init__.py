"""Reporters: each turns a ``ScanResult`` into the text of one output format.

Reporters only format; they never filter, re-judge or re-sort beyond presentation.
``REPORTERS`` maps a ``--format`` name to its render function, which takes the result
and ``color`` (only the terminal format uses it) and returns the whole output.
"""
from __future__ import annotations

from collections import Counter
from collections.abc import Callable
from typing import TYPE_CHECKING, Any

from iacscan.findings import Finding, Severity

if TYPE_CHECKING:
    from iacscan.scan import ScanResult

Render = Callable[["ScanResult", bool], str]

#: Severities from the most to the least severe, the order every report uses.
SEVERITY_ORDER = (Severity.CRITICAL, Severity.HIGH, Severity.MEDIUM, Severity.LOW, Severity.INFO)


def summary(result: ScanResult) -> dict[str, Any]:
    """What was scanned and how many findings of each severity: the JSON ``summary``."""
    counts = Counter(f.severity for f in result.findings)
    out = {
        "files": len(result.estate.files),
        "security_groups": len(result.estate.groups),
        "workloads": len(result.estate.workloads),
        "by_severity": {sev.value: counts.get(sev, 0) for sev in SEVERITY_ORDER},
        "suppressed": len(getattr(result, "suppressed", [])),  # hidden by inline suppressions
        "baselined": len(getattr(result, "baselined", [])),  # hidden by --baseline
    }
    events = getattr(result, "events", None)  # iacscan events: records read, judged, skipped
    if events is not None:
        out["events"] = events
    return out


def sorted_findings(result: ScanResult) -> list[Finding]:
    """The findings in the contract's order: file, line, rule id, resource (then fingerprint)."""
    return sorted(result.findings, key=Finding.sort_key)


def fingerprinted(result: ScanResult) -> list[tuple[Finding, str]]:
    """``sorted_findings`` with each finding's fingerprint beside it, computed once (a
    fingerprint is a hash of a JSON text: reports of many findings would compute it again
    and again). ``Finding.sort_key`` ends with the fingerprint."""
    keys = [f.sort_key() for f in result.findings]
    order = sorted(range(len(keys)), key=keys.__getitem__)  # stable, as sorted(key=sort_key) is
    return [(result.findings[i], keys[i][-1]) for i in order]


def _text(result: ScanResult, color: bool) -> str:
    from iacscan.report import text

    return text.render(result, color=color)


def _json(result: ScanResult, color: bool) -> str:
    from iacscan.report import json_report

    return json_report.render(result)


def _sarif(result: ScanResult, color: bool) -> str:
    from iacscan.report import sarif

    return sarif.render(result)


def _markdown(result: ScanResult, color: bool) -> str:
    from iacscan.report import markdown

    return markdown.render(result)


def _github(result: ScanResult, color: bool) -> str:
    from iacscan.report import github

    return github.render(result)


REPORTERS: dict[str, Render] = {"text": _text, "json": _json, "sarif": _sarif, "markdown": _markdown,
                                "github": _github}
