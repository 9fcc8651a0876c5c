"""Static mode makes no network connection: a full scan (Terraform, CloudFormation, every
output format) in a process whose sockets refuse to connect or resolve names, and record
any attempt."""
from __future__ import annotations

import json
import os
import shutil
import subprocess
import sys
from pathlib import Path

REPO = Path(__file__).resolve().parents[2]

WRAPPER = """\
import socket, sys
attempts = []

def refuse(name):
    def blocked(*args, **kwargs):
        attempts.append(name)
        sys.stderr.write(f"NETWORK ATTEMPT: {name} {args!r}\\n")
        raise OSError(f"network blocked by the test ({name})")
    return blocked

socket.socket.connect = refuse("connect")
socket.socket.connect_ex = refuse("connect_ex")
socket.socket.sendto = refuse("sendto")
socket.create_connection = refuse("create_connection")
socket.getaddrinfo = refuse("getaddrinfo")
socket.gethostbyname = refuse("gethostbyname")

from iacscan.cli import main
codes = [main(["scan", "--no-cache", "--jobs", "2", "--format", fmt, "--output", f"out.{fmt}", "."])
         for fmt in ("json", "sarif", "text", "markdown", "github")]
sys.stderr.write(f"CODES {codes} ATTEMPTS {attempts}\\n")
"""


def test_a_full_static_scan_with_sockets_blocked(tmp_path: Path) -> None:
    shutil.copytree(REPO / "fixtures" / "demo", tmp_path / "demo")
    env = {**os.environ, "PYTHONPATH": str(REPO), "NO_COLOR": "1", "GITHUB_STEP_SUMMARY": str(tmp_path / "summary")}
    done = subprocess.run([sys.executable, "-c", WRAPPER], cwd=tmp_path, env=env, capture_output=True, text=True,
                          timeout=300)
    assert done.returncode == 0, done.stderr
    assert "NETWORK ATTEMPT" not in done.stderr
    assert "CODES [1, 1, 1, 1, 1] ATTEMPTS []" in done.stderr
    doc = json.loads((tmp_path / "out.json").read_text())
    rules = {f["rule_id"] for f in doc["findings"]}
    assert {"SG101", "NET301"} <= rules and "IAC003" not in rules and not doc["errors"]
