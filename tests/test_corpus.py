"""Every file of the real-world corpus scans with no parse error and no crash."""
from __future__ import annotations

import pytest

from tests.helpers import CORPUS, scan_path

PROJECTS = sorted(p.name for p in CORPUS.iterdir() if p.is_dir()) if CORPUS.is_dir() else []


@pytest.mark.skipif(not CORPUS.is_dir(), reason="the shared corpus is not beside this checkout")
@pytest.mark.parametrize("project", PROJECTS)
def test_corpus_project_scans_without_parse_errors(project: str) -> None:
    result = scan_path(CORPUS / project)
    parse_errors = [(f.file, f.line, f.message) for f in result.findings if f.rule_id == "IAC001"]
    assert parse_errors == []
    assert result.rule_errors == []
    assert result.estate.files, "the scan read no file"
