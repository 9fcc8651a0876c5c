"""Live mode under faults, on a moto server with faults injected on the wire (botocore
``before-send``): read and connect timeouts, a region that is not enabled (AuthFailure /
OptInRequired). The snapshot marks what is missing, a scan of it says what could not be
checked, and planted credentials appear nowhere (``--debug`` tracebacks included).
Throttling and AccessDenied are covered by ``tests/live/test_pagination.py``."""
from __future__ import annotations

import json
import logging
import os
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import boto3
import pytest
from botocore.awsrequest import AWSResponse
from botocore.exceptions import ConnectTimeoutError, ReadTimeoutError

from iacscan.live import collect as live_collect
from iacscan.live.collect import SessionClients, collect, dumps
from iacscan.parsers.live import parse_snapshot
from iacscan.ruleset import load_ruleset
from iacscan.scan import run_rules
from tests.live.conftest import REPO, make_client, reset, subprocess_env

HOME, DISABLED = "us-east-1", "eu-south-1"
SECRET = "planted-secret-Zq8vT1wK3mN5pR7s"
TOKEN = "planted-token-Hc4dL6fJ8gB0xV2y"
KEY_ID = "AKIAPLANTED0000KEYID"


@pytest.fixture(scope="module")
def moto() -> Iterator[str]:
    server_mod = pytest.importorskip("moto.server")
    logging.getLogger("werkzeug").setLevel(logging.ERROR)
    server = server_mod.ThreadedMotoServer(ip_address="127.0.0.1", port=0, verbose=False)
    server.start()
    host, port = server.get_host_and_port()
    url = f"http://{host}:{port}"
    reset(url)
    ec2 = make_client(url, "ec2", HOME)
    vpc = ec2.describe_vpcs()["Vpcs"][0]["VpcId"]
    group = ec2.create_security_group(GroupName="open-ssh", Description="ssh", VpcId=vpc)["GroupId"]
    ec2.authorize_security_group_ingress(GroupId=group, IpPermissions=[{
        "IpProtocol": "tcp", "FromPort": 22, "ToPort": 22, "IpRanges": [{"CidrIp": "0.0.0.0/0"}]}])
    try:
        yield url
    finally:
        server.stop()


def _error(request: Any, protocol: str, code: str, status: int) -> AWSResponse:
    message = f"{code} injected by the test"
    if protocol in ("json", "rest-json"):
        body = json.dumps({"__type": code, "message": message}).encode()
        headers = {"Content-Type": "application/x-amz-json-1.1", "x-amzn-ErrorType": code}
    elif protocol == "ec2":
        body = (f"<Response><Errors><Error><Code>{code}</Code><Message>{message}</Message></Error></Errors>"
                "<RequestID>r-1</RequestID></Response>").encode()
        headers = {"Content-Type": "text/xml"}
    else:
        body = (f"<ErrorResponse><Error><Type>Sender</Type><Code>{code}</Code><Message>{message}</Message></Error>"
                "<RequestId>r-1</RequestId></ErrorResponse>").encode()
        headers = {"Content-Type": "text/xml"}
    return AWSResponse(request.url, status, headers, _Raw(body))


class _Raw:
    def __init__(self, body: bytes) -> None:
        self.body = body

    def stream(self, **kwargs: Any) -> Iterator[bytes]:
        yield self.body


class FaultyClients(SessionClients):
    """Real boto3 clients to moto, with faults: RDS reads time out, ElastiCache cannot be
    connected to, and the DISABLED region answers AuthFailure (EC2) / OptInRequired (others)."""

    def client(self, service: str, region: str) -> Any:
        made = super().client(service, region)
        if not getattr(made, "_faults", False):
            protocol = made.meta.service_model.protocol

            def fault(request: Any, **kwargs: Any) -> AWSResponse | None:
                if region == DISABLED:
                    return _error(request, protocol, "AuthFailure" if service == "ec2" else "OptInRequired", 401)
                if service == "rds":
                    raise ReadTimeoutError(endpoint_url=request.url)
                if service == "elasticache":
                    raise ConnectTimeoutError(endpoint_url=request.url)
                return None

            made.meta.events.register("before-send", fault)
            made._faults = True
        return made


@pytest.fixture
def planted(moto: str, monkeypatch: pytest.MonkeyPatch) -> str:
    for name in list(os.environ):
        if name.startswith("AWS_"):
            monkeypatch.delenv(name)
    monkeypatch.setenv("AWS_ENDPOINT_URL", moto)
    monkeypatch.setenv("AWS_ACCESS_KEY_ID", KEY_ID)
    monkeypatch.setenv("AWS_SECRET_ACCESS_KEY", SECRET)
    monkeypatch.setenv("AWS_SESSION_TOKEN", TOKEN)
    monkeypatch.setenv("AWS_EC2_METADATA_DISABLED", "true")
    monkeypatch.setattr(live_collect, "MAX_ATTEMPTS", 2)  # one retry: keeps the backoff short
    return moto


def test_faults_are_marked_in_the_snapshot_and_reported_by_the_scan(planted: str,
                                                                    caplog: pytest.LogCaptureFixture) -> None:
    caplog.set_level(logging.INFO)
    snapshot = collect([HOME, DISABLED], source=FaultyClients(make_session=boto3.Session))
    failures = {(f["region"], f["service"], f["operation"], f["error"]) for f in snapshot["failures"]}
    assert {(HOME, "rds", "DescribeDBInstances", "ReadTimeoutError"),
            (HOME, "rds", "DescribeDBClusters", "ReadTimeoutError"),
            (HOME, "elasticache", "DescribeCacheClusters", "ConnectTimeoutError"),
            (HOME, "elasticache", "DescribeCacheSubnetGroups", "Skipped"),
            (DISABLED, "ec2", "DescribeSecurityGroups", "AuthFailure"),
            (DISABLED, "rds", "DescribeDBInstances", "OptInRequired")} <= failures
    assert not [f for f in failures if f[0] == HOME and f[1] == "ec2"], failures
    home, disabled = snapshot["regions"][HOME], snapshot["regions"][DISABLED]
    assert "db_instances" not in home and "cache_clusters" not in home and "security_groups" not in disabled
    assert "open-ssh" in {g["GroupName"] for g in home["security_groups"]}

    estate = parse_snapshot(snapshot)
    result = run_rules(estate, load_ruleset())
    assert [f.resource for f in result.findings if f.rule_id == "SG101"] != []  # what was read is checked
    notes = {(f.resource, f.details.get("what")) for f in result.findings if f.rule_id == "IAC002"}
    account = snapshot["account"] or "unknown"
    assert {(f"live:{account}:{HOME}", "db instances (rds DescribeDBInstances)"),
            (f"live:{account}:{DISABLED}", "security groups (ec2 DescribeSecurityGroups)")} <= notes
    text = dumps(snapshot) + json.dumps([f.message for f in result.findings]) + caplog.text
    for planted_value in (SECRET, TOKEN):
        assert planted_value not in text


SCRIPT = """\
import sys
from collections.abc import Iterator
from iacscan.cli import main
from iacscan.findings import Severity
from iacscan.rules.base import Remediation, rule

@rule(id="TST991", title="raises", severity=Severity.LOW, family="sg", remediation=Remediation(summary="x"))
def broken(ctx) -> Iterator:
    raise RuntimeError("boom")
    yield

sys.exit(main(sys.argv[1:]))
"""


def test_planted_credentials_appear_nowhere(moto: str, tmp_path: Path) -> None:
    """Snapshot file, scan output and a --debug traceback of a failing rule, in subprocesses."""
    env = subprocess_env(moto, tmp_path)
    env.update({"AWS_ACCESS_KEY_ID": KEY_ID, "AWS_SECRET_ACCESS_KEY": SECRET, "AWS_SESSION_TOKEN": TOKEN,
                "PYTHONPATH": str(REPO)})
    snap = tmp_path / "snap.json"
    runs = [
        subprocess.run([sys.executable, "-m", "iacscan", "snapshot", "--region", HOME, "--output", str(snap)],
                       cwd=tmp_path, env=env, capture_output=True, text=True, timeout=120),
        subprocess.run([sys.executable, "-c", SCRIPT, "scan", "--live", "--region", HOME, "--debug",
                        "--format", "json", "--no-cache"], cwd=tmp_path, env=env, capture_output=True, text=True,
                       timeout=120),
    ]
    assert runs[0].returncode == 0, runs[0].stderr
    assert runs[1].returncode == 3 and "Traceback" in runs[1].stderr and "RuntimeError: boom" in runs[1].stderr
    assert "SG101" in runs[1].stdout
    everything = snap.read_text() + "".join(r.stdout + r.stderr for r in runs)
    for planted_value in (SECRET, TOKEN):
        assert planted_value not in everything
