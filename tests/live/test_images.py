"""AWS407's live input: ``iacscan snapshot`` describes the AMIs the instances run (moto)."""
from __future__ import annotations

from collections.abc import Callable
from typing import Any

from iacscan.live.collect import collect
from iacscan.parsers.live import parse_snapshot


def test_snapshot_describes_the_instances_images(aws_client: Callable[..., Any]) -> None:
    ec2 = aws_client("ec2")
    images = ec2.describe_images(Owners=["amazon"])["Images"]
    used, unused = images[0], images[1]
    ec2.run_instances(ImageId=used["ImageId"], MinCount=2, MaxCount=2, InstanceType="t3.micro")

    class Source:
        def client(self, service: str, region: str) -> Any:
            return aws_client(service, region)

    snapshot = collect(["us-east-1"], source=Source())
    described = snapshot["regions"]["us-east-1"]["images"]
    assert [i["ImageId"] for i in described] == [used["ImageId"]]
    assert unused["ImageId"] not in {i["ImageId"] for i in described}
    assert set(described[0]) <= {"ImageId", "Name", "OwnerId", "ImageOwnerAlias", "CreationDate",
                                 "DeprecationTime", "State"}
    assert not [f for f in snapshot["failures"] if f["operation"] == "DescribeImages"]
    estate = parse_snapshot(snapshot)
    assert estate.images[used["ImageId"]]["creation_date"] == used["CreationDate"]
    assert estate.snapshot_time == snapshot["taken_at"]
