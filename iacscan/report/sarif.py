"""The SARIF 2.1.0 report, shaped for GitHub code scanning (REFERENCES.md section 7).

One run; ``tool.driver.rules`` lists every registered rule (sorted by id, so a rule's
``ruleIndex`` only changes when rules are added) plus any id a result uses that is not
registered (IAC003, the internal-error finding). Every result has a location: findings
without a file (live state, internal errors) point at their resource name.
``partialFingerprints.primaryLocationLineHash`` is the finding's fingerprint, which never
contains a line number, so alerts survive code moving up and down.
"""
from __future__ import annotations

import re
from typing import TYPE_CHECKING, Any
from urllib.parse import quote

from iacscan import __version__
from iacscan.findings import Finding, Severity
from iacscan.report import fingerprinted
from iacscan.report.escape import sarif_message
from iacscan.report.json_report import plain
from iacscan.report.jsontext import dumps
from iacscan.report.ruledoc import doc_markdown, remediation_markdown, summary_paragraph
from iacscan.rules.base import RuleMeta, iter_rules

if TYPE_CHECKING:
    from iacscan.scan import ScanResult

SCHEMA = "https://json.schemastore.org/sarif-2.1.0.json"
#: The project's home page; left empty (and omitted from the log) until the project has one.
INFORMATION_URI = ""
LEVELS = {Severity.CRITICAL: "error", Severity.HIGH: "error", Severity.MEDIUM: "warning",
          Severity.LOW: "note", Severity.INFO: "note"}
SECURITY_SEVERITY = {Severity.CRITICAL: "9.5", Severity.HIGH: "8.0", Severity.MEDIUM: "5.5",
                     Severity.LOW: "3.0", Severity.INFO: "1.0"}
FAMILY_TAGS = {"parse": "parse-error", "sg": "security-group", "env": "environment",
               "net": "reachability", "aws": "aws-configuration", "drift": "drift"}
#: Reachability is inferred across several resources and unknowns: medium precision.
PRECISION = {"net": "medium"}
_MAX_TEXT = 1024


def render(result: ScanResult) -> str:
    """The SARIF log as JSON text (deterministic: sorted rules and results, fixed keys)."""
    return dumps(document(result)) + "\n"


def document(result: ScanResult) -> dict[str, Any]:
    """The SARIF log as plain data."""
    keyed = fingerprinted(result)
    findings = [finding for finding, _ in keyed]
    descriptors = _descriptors(findings)
    index = {d["id"]: i for i, d in enumerate(descriptors)}
    driver: dict[str, Any] = {"name": "iacscan", "semanticVersion": __version__}
    if INFORMATION_URI:
        driver["informationUri"] = INFORMATION_URI
    driver["rules"] = descriptors
    run = {"tool": {"driver": driver}, "results": [_result(f, index[f.rule_id], fingerprint) for f, fingerprint in keyed]}
    return {"$schema": SCHEMA, "version": "2.1.0", "runs": [run]}


def _descriptors(findings: list[Finding]) -> list[dict[str, Any]]:
    by_id = {r.meta.id: rule_descriptor(r.meta) for r in iter_rules()}
    for finding in findings:
        if finding.rule_id not in by_id:
            by_id[finding.rule_id] = _adhoc_descriptor(finding)
    return [by_id[rule_id] for rule_id in sorted(by_id)]


def rule_descriptor(meta: RuleMeta) -> dict[str, Any]:
    """A ``reportingDescriptor`` for a registered rule."""
    doc = meta.doc.strip() or meta.title
    markdown = "\n\n".join([doc_markdown(doc), remediation_markdown(meta.remediation)])
    return {
        "id": meta.id,
        "name": rule_name(meta.title),
        "shortDescription": {"text": _cut(meta.title)},
        "fullDescription": {"text": _cut(summary_paragraph(doc) or meta.title)},
        "help": {"text": doc + _remediation_text(meta), "markdown": markdown},
        "defaultConfiguration": {"level": LEVELS[meta.severity]},
        "properties": {
            "tags": ["security", "aws", FAMILY_TAGS.get(meta.family, meta.family)],
            "security-severity": SECURITY_SEVERITY[meta.severity],
            "precision": PRECISION.get(meta.family, "high"),
        },
    }


def _adhoc_descriptor(finding: Finding) -> dict[str, Any]:
    title = finding.title or finding.rule_id
    return {
        "id": finding.rule_id, "name": rule_name(title),
        "shortDescription": {"text": _cut(title)}, "fullDescription": {"text": _cut(title)},
        "help": {"text": title, "markdown": title},
        "defaultConfiguration": {"level": LEVELS[finding.severity]},
        "properties": {"tags": ["security"], "security-severity": SECURITY_SEVERITY[finding.severity],
                       "precision": "high"},
    }


def _result(finding: Finding, rule_index: int, fingerprint: str) -> dict[str, Any]:
    region = {"startLine": max(finding.line, 1)}
    uri = quote(finding.file, safe="/") if finding.file else quote(finding.resource or "unknown", safe="/")
    properties = {"severity": finding.severity.value, "resource": finding.resource,
                  "environment": finding.environment, "path": [str(p) for p in finding.path]}
    if finding.details:
        properties["details"] = plain(finding.details)
    return {
        "ruleId": finding.rule_id,
        "ruleIndex": rule_index,
        "level": LEVELS[finding.severity],
        "message": {"text": sarif_message(finding.message or finding.title)},
        "locations": [{"physicalLocation": {"artifactLocation": {"uri": uri}, "region": region}}],
        "partialFingerprints": {"primaryLocationLineHash": fingerprint},
        "fingerprints": {"iacscan/v1": fingerprint},
        "properties": properties,
    }


def rule_name(title: str) -> str:
    """A SARIF rule ``name``: the title in PascalCase (``Internet to sensitive port`` →
    ``InternetToSensitivePort``)."""
    words = re.findall(r"[A-Za-z0-9]+", title)
    return "".join(w[:1].upper() + w[1:] for w in words)[:255] or "Rule"


def _remediation_text(meta: RuleMeta) -> str:
    summary = meta.remediation.summary.strip()
    return f"\n\nRemediation: {summary}" if summary else ""


def _cut(text: str) -> str:
    return text if len(text) <= _MAX_TEXT else text[: _MAX_TEXT - 1] + "…"
