"""The fast writers of the JSON and SARIF reports give the text of the plain-data documents.

``json_report.render`` and ``sarif.render`` write findings straight from their fields
(``FindingWriter``, ``ResultWriter``); ``document`` builds the same report as dicts. The
two must agree byte for byte, for ordinary findings and for every unusual value.
"""
from __future__ import annotations

import hashlib
import json
from dataclasses import replace
from enum import Enum
from pathlib import Path
from typing import Any

from hypothesis import given, settings
from hypothesis import strategies as st

from iacscan.findings import Finding, Severity
from iacscan.graph import EstateGraph
from iacscan.model import Estate, Unknown
from iacscan.report import json_report, sarif
from iacscan.report.jsontext import WrittenArray, dumps, text_array, text_object, write, write_into
from iacscan.scan import ScanResult


class Colour(str, Enum):
    RED = "red"


def _result(findings: list[Finding]) -> ScanResult:
    estate = Estate(root="/scan")
    return ScanResult(Path("/scan"), estate, EstateGraph(estate), findings)


def _same_as_documents(findings: list[Finding]) -> None:
    result = _result(findings)
    assert json_report.render(result) == dumps(json_report.document(result)) + "\n"
    assert sarif.render(result) == dumps(sarif.document(result)) + "\n"
    assert json_report.render(result) == json.dumps(json_report.document(result), indent=2, ensure_ascii=False) + "\n"


REMEDIATION = {"summary": "Remove the rule → now", "cli": "aws ec2 revoke … '[{\"IpProtocol\": \"tcp\"}]'\n# next"}


def _ordinary(n: int) -> list[Finding]:
    return [Finding("AWS407", Severity.INFO, "AMI hard-coded", f"uses ami-{i:04d}", f"aws_instance.a{i % 3}",
                    f"envs/e{i % 2}/main.tf", i + 1, uid=f"envs/e{i % 2}#aws_instance.a{i % 3}",
                    environment=None if i % 2 else "prod", details={"problem": "hard_coded_ami", "image": f"ami-{i}"},
                    remediation=dict(REMEDIATION), scope=f"envs/e{i % 2}") for i in range(n)]


def test_ordinary_findings_sharing_remediations() -> None:
    _same_as_documents(_ordinary(7))


def test_unusual_findings_are_written_as_their_dicts() -> None:
    event = {"event_id": "e-1", "event_name": "AuthorizeSecurityGroupIngress", "event_time": "2026-11-20T10:02:03Z",
             "actor": "arn:aws:iam::1:user/a", "source_ip": "203.0.113.9", "region": "eu-west-1",
             "revoked": {"event_id": "e-2", "event_time": "t", "actor": "b"}}
    base = _ordinary(1)[0]
    odd = [
        replace(base, extra=event),
        replace(base, details={"ports": Unknown("var.port"), "n": 3, "flag": True, "list": [1, "a"], "none": None}),
        replace(base, details={"colour": Colour.RED, "b": Colour.RED}),
        replace(base, details={}, path=("internet", Colour.RED, "aws_instance.a0")),  # type: ignore[arg-type]
        replace(base, remediation={"summary": Colour.RED}),
        replace(base, remediation={"summary": "1"}, line=2),
        replace(base, remediation={}, environment=Colour.RED),
        replace(base, message="", title="Title [with] \\ brackets\x1b", file="", resource="a b/ü"),
        replace(base, file="", resource=""),
        replace(base, message=Colour.RED, line=0, severity=Severity.CRITICAL),
        replace(base, rule_id="IAC003", title="A rule failed", line=-4, severity=Severity.HIGH),
        replace(base, path=["internet", "aws_lb.web"], details={"x": "\u2028\x00\"'"}),
    ]
    _same_as_documents(odd + _ordinary(2))


TEXT = st.text(max_size=12)
PLAIN = st.one_of(TEXT, st.integers(), st.booleans(), st.none(), st.floats(allow_nan=False))
FINDINGS = st.builds(
    Finding, rule_id=st.sampled_from(["SG101", "AWS407", "ZZ999", "IAC003"]), severity=st.sampled_from(list(Severity)),
    title=TEXT, message=TEXT, resource=TEXT, file=TEXT, line=st.integers(-2, 10 ** 6),
    environment=st.one_of(st.none(), TEXT), details=st.dictionaries(TEXT, st.one_of(TEXT, PLAIN), max_size=3),
    path=st.lists(TEXT, max_size=3), remediation=st.dictionaries(st.sampled_from(["summary", "cli"]), TEXT, max_size=2),
    scope=TEXT)


@settings(max_examples=60, deadline=None)
@given(st.lists(FINDINGS, max_size=6))
def test_any_findings(findings: list[Finding]) -> None:
    _same_as_documents(findings)


def test_written_array_is_written_as_a_list() -> None:
    def twice(item: int, newline: str, out: list[str]) -> None:
        write_into({"n": item, "twice": [item, item]}, newline, out)

    value = {"a": WrittenArray([1, 2], twice), "b": [WrittenArray([], twice), WrittenArray([3], twice)]}
    plain = {"a": [{"n": i, "twice": [i, i]} for i in (1, 2)], "b": [[], [{"n": 3, "twice": [3, 3]}]]}
    assert dumps(value) == json.dumps(plain, indent=2, ensure_ascii=False)
    assert dumps(WrittenArray([7], twice)) == json.dumps([{"n": 7, "twice": [7, 7]}], indent=2)


def test_write_at_an_indent_is_the_text_dumps_gives_there() -> None:
    inner: dict[str, Any] = {"k": ["x", {"y": None}], "e": {}}
    whole = dumps({"outer": inner})
    assert '"outer": ' + write(inner, "\n  ") in whole
    assert write(inner, "\n") == dumps(inner)


def test_text_object_and_text_array() -> None:
    for newline in ("\n", "\n    "):
        assert text_object({"a": "b", "ü": "→\n"}, newline) == write({"a": "b", "ü": "→\n"}, newline)
        assert text_object({}, newline) == "{}"
        assert text_array(["a", Colour.RED, 3], newline) == write(["a", str(Colour.RED), "3"], newline)
        assert text_array([], newline) == "[]"
    assert text_object({"a": 1}, "\n") is None
    assert text_object({"a": Colour.RED}, "\n") is None
    assert text_object({1: "a"}, "\n") is None
    assert text_object(["a"], "\n") is None


def _basis_hash(finding: Finding) -> str:
    basis = json.dumps([finding.rule_id, finding.scope, finding.resource, finding.details, finding.path],
                       sort_keys=True, default=str)
    return hashlib.sha256(basis.encode()).hexdigest()[:32]


def test_fingerprint_is_kept_and_follows_new_field_values() -> None:
    finding = _ordinary(1)[0]
    first = finding.fingerprint
    assert first == _basis_hash(finding) == finding.fingerprint
    assert finding.sort_key()[-1] == first
    finding.resource = "aws_instance.other"
    assert finding.fingerprint == _basis_hash(finding) != first
    finding.details = {"problem": "old_ami", "image": Unknown("var.ami")}
    assert finding.fingerprint == _basis_hash(finding)
    moved = replace(finding, line=999)
    assert moved.fingerprint == finding.fingerprint
    changed = replace(finding, path=["internet"])
    assert changed.fingerprint == _basis_hash(changed) != finding.fingerprint
    assert changed == replace(finding, path=["internet"])  # the kept fingerprint is not a field
