"""Shared bits of the events tests: fixture paths and CloudTrail records written to AWS's shape."""
from __future__ import annotations

import json
from pathlib import Path
from typing import Any

REPO = Path(__file__).resolve().parents[2]
FIXTURES = REPO / "fixtures" / "events"
ACCOUNT = "111122223333"
ALICE = f"arn:aws:iam::{ACCOUNT}:user/alice"
BOB = f"arn:aws:iam::{ACCOUNT}:user/bob"


def record(name: str, time: str, request: dict[str, Any], response: dict[str, Any] | None = None, *,
           event_id: str, user: str = "alice", region: str = "eu-west-1", account: str = ACCOUNT,
           **more: Any) -> dict[str, Any]:
    """One CloudTrail record of an EC2 call (the fields of "CloudTrail record contents")."""
    return {
        "eventVersion": "1.09",
        "userIdentity": {"type": "IAMUser", "principalId": f"AIDA{user.upper()}", "userName": user,
                         "arn": f"arn:aws:iam::{account}:user/{user}", "accountId": account},
        "eventTime": time, "eventSource": "ec2.amazonaws.com", "eventName": name, "awsRegion": region,
        "sourceIPAddress": "203.0.113.9", "userAgent": "aws-cli/2.15.0", "requestParameters": request,
        "responseElements": response, "eventID": event_id, "readOnly": False, "eventType": "AwsApiCall",
        "managementEvent": True, "recipientAccountId": account, **more,
    }


def ingress(group: str, protocol: str, port: int | None, **peer: Any) -> dict[str, Any]:
    """``requestParameters`` of AuthorizeSecurityGroupIngress with one ipPermissions item."""
    item: dict[str, Any] = {"ipProtocol": protocol, "groups": {}, "ipRanges": {}, "ipv6Ranges": {},
                            "prefixListIds": {}}
    if port is not None:
        item.update(fromPort=port, toPort=port)
    item.update(peer)
    return {"groupId": group, "ipPermissions": {"items": [item]}}


def write(path: Path, records: list[Any]) -> Path:
    path.write_text(json.dumps({"Records": records}))
    return path
