"""Remediation templates render the finding's own values."""
from __future__ import annotations

from iacscan.rules.base import Remediation


def test_protocol_all_reads_as_all_traffic_and_missing_keys_stay_visible() -> None:
    fix = Remediation(summary="Remove {protocol} {ports} from {peer} on {live_id} ({unknown_key})")
    assert fix.render({"protocol": "all", "ports": "all", "peer": "::/0", "live_id": "sg-1"}) == {
        "summary": "Remove all traffic from ::/0 on sg-1 ({unknown_key})"}
    assert fix.render({"protocol": "tcp", "ports": "22", "peer": "0.0.0.0/0", "live_id": "sg-1"})["summary"] \
        == "Remove tcp 22 from 0.0.0.0/0 on sg-1 ({unknown_key})"
