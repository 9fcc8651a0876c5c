"""Live-AWS tests against moto in server mode: the real AWS API over HTTP on 127.0.0.1.

Fixtures (usable by any test under ``tests/``, e.g. drift):

- ``moto_server``: session-wide ``ThreadedMotoServer`` on 127.0.0.1 and a free port.
- ``moto_url``: its URL, with moto's state wiped before the test (``/moto-api/reset``).
- ``aws_client``: ``aws_client("rds")`` → a boto3 client on a freshly reset moto; ``ec2``.
- ``aws_env``: the environment for an ``iacscan`` subprocess: ``AWS_ENDPOINT_URL`` to moto,
  fake keys, ``us-east-1``, empty config/credentials files, no real ``AWS_*`` variable
  (it does not reset moto: ask for ``moto_url`` or ``aws_client`` too for a fresh state).
- ``run_iacscan``: ``run_iacscan("scan", "--snapshot", path)`` → ``CompletedProcess``.

Plain helpers for module-scoped set-ups (one estate shared by a module's tests):
``reset(url)``, ``make_client(url, service, region)``, ``subprocess_env(url, home)``,
``iacscan(env, cwd, *args)``.
"""
from __future__ import annotations

import logging
import os
import subprocess
import sys
import urllib.request
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import boto3
import pytest
from botocore.config import Config

REGION = "us-east-1"
ACCOUNT = "123456789012"
REPO = Path(__file__).resolve().parents[2]


@pytest.fixture(scope="session")
def moto_server() -> Iterator[str]:
    """A moto server for the whole test session; yields its URL."""
    moto_server_mod = pytest.importorskip("moto.server")
    logging.getLogger("werkzeug").setLevel(logging.ERROR)
    server = moto_server_mod.ThreadedMotoServer(ip_address="127.0.0.1", port=0, verbose=False)
    server.start()
    host, port = server.get_host_and_port()
    try:
        yield f"http://{host}:{port}"
    finally:
        server.stop()


def reset(url: str) -> None:
    """Wipe every moto backend (a fresh account with only the default VPCs)."""
    request = urllib.request.Request(f"{url}/moto-api/reset", method="POST", data=b"")
    with urllib.request.urlopen(request, timeout=30) as response:
        assert response.status == 200


def make_client(url: str, service: str, region: str = REGION) -> Any:
    """A boto3 client bound to the moto server at ``url``."""
    return boto3.client(service, region_name=region, endpoint_url=url, aws_access_key_id="testing",
                        aws_secret_access_key="testing", config=Config(retries={"mode": "standard"}))


def subprocess_env(url: str, home: Path) -> dict[str, str]:
    """Environment for a subprocess that must talk to moto at ``url`` and nothing else."""
    config, credentials = home / "config", home / "credentials"
    config.write_text("")
    credentials.write_text("")
    env = {k: v for k, v in os.environ.items() if not k.startswith(("AWS_", "BOTO"))}
    env.update({
        "AWS_ENDPOINT_URL": url, "AWS_ACCESS_KEY_ID": "testing", "AWS_SECRET_ACCESS_KEY": "testing",
        "AWS_DEFAULT_REGION": REGION, "AWS_CONFIG_FILE": str(config),
        "AWS_SHARED_CREDENTIALS_FILE": str(credentials), "AWS_EC2_METADATA_DISABLED": "true",
        "PYTHONPATH": str(REPO) + os.pathsep + env.get("PYTHONPATH", ""), "NO_COLOR": "1",
    })
    return env


def iacscan(env: dict[str, str], cwd: Path, *args: str) -> subprocess.CompletedProcess[str]:
    """Run ``python -m iacscan ARGS`` in ``cwd`` with ``env``."""
    return subprocess.run([sys.executable, "-m", "iacscan", *args], cwd=cwd, env=env, capture_output=True,
                          text=True, timeout=120)


@pytest.fixture
def moto_url(moto_server: str) -> str:
    """The moto server's URL, with every backend reset to a fresh account."""
    reset(moto_server)
    return moto_server


@pytest.fixture
def aws_env(moto_server: str, tmp_path_factory: pytest.TempPathFactory) -> dict[str, str]:
    """Environment for an ``iacscan`` subprocess bound to moto (moto's state is left as it is)."""
    return subprocess_env(moto_server, tmp_path_factory.mktemp("aws-home"))


@pytest.fixture
def aws_client(moto_url: str) -> Callable[..., Any]:
    """``aws_client(service, region="us-east-1")``: a boto3 client bound to a freshly reset moto."""
    return lambda service, region=REGION: make_client(moto_url, service, region)


@pytest.fixture
def ec2(aws_client: Callable[..., Any]) -> Any:
    return aws_client("ec2")


@pytest.fixture
def run_iacscan(aws_env: dict[str, str], tmp_path: Path) -> Callable[..., subprocess.CompletedProcess[str]]:
    """``run_iacscan(*args, env={...})``: ``python -m iacscan ARGS`` in ``tmp_path`` with ``aws_env`` (+ overrides)."""
    return lambda *args, env=None: iacscan({**aws_env, **(env or {})}, tmp_path, *args)
