"""The moto-server fixtures of ``tests/live`` (drift attribution runs against the same server)."""
from __future__ import annotations

from tests.live.conftest import aws_client, aws_env, ec2, moto_server, moto_url, run_iacscan  # noqa: F401
