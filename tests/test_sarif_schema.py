"""The SARIF output validates against the official SARIF 2.1.0 schema (vendored, offline).

The schema is ``tests/data/sarif-schema-2.1.0.json`` (see ``tests/data/README.md``); it is
JSON Schema draft-04 and only refers to its own definitions, so nothing is fetched.
"""
from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import jsonschema
import pytest
from referencing import Registry, Resource

from iacscan.report import sarif

REPO = Path(__file__).resolve().parent.parent
SCHEMA_FILE = REPO / "tests" / "data" / "sarif-schema-2.1.0.json"


def _no_fetch(uri: str) -> Resource[Any]:
    raise AssertionError(f"the schema tried to fetch {uri}")


def validator() -> jsonschema.Draft4Validator:
    schema = json.loads(SCHEMA_FILE.read_text(encoding="utf-8"))
    assert schema["$schema"] == "http://json-schema.org/draft-04/schema#"
    jsonschema.Draft4Validator.check_schema(schema)
    return jsonschema.Draft4Validator(schema, registry=Registry(retrieve=_no_fetch))


def errors(doc: dict[str, Any]) -> list[str]:
    return [f"{'/'.join(map(str, e.absolute_path))}: {e.message}" for e in validator().iter_errors(doc)]


def test_the_schema_catches_a_broken_log() -> None:
    """The validator is live: a result without a message and a bad level are rejected."""
    doc = {"version": "2.1.0", "runs": [{"tool": {"driver": {"name": "x"}},
                                         "results": [{"ruleId": "A", "level": "fatal"}]}]}
    found = errors(doc)
    assert any("message" in e for e in found) and any("fatal" in e for e in found)


def test_sarif_of_the_demo_validates(monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]) -> None:
    from iacscan.cli import main

    monkeypatch.chdir(REPO)
    assert main(["scan", "fixtures/demo", "--format", "sarif"]) == 1
    doc = json.loads(capsys.readouterr().out)
    assert doc["runs"][0]["results"], "the demo has findings"
    assert errors(doc) == []


def test_sarif_of_hostile_and_fileless_findings_validates() -> None:
    from tests.test_markdown_github import hostile_result
    from tests.test_reports import make_result

    for result in (make_result(), hostile_result(), make_result([])):
        assert errors(sarif.document(result)) == []
