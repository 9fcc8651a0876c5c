#!/usr/bin/env python3
"""Benchmark ``iacscan snapshot`` (and ``scan --snapshot``) on 5,000 security groups in moto.

Starts a moto server on 127.0.0.1 (in this process), creates N groups with three ingress
rules each (a CIDR, another CIDR, a reference to the previous group) spread over VPCs of
``--regions`` regions, and 50 instances carrying them; then runs ``iacscan snapshot`` as a
subprocess ``--runs`` times and reports the median wall time and the peak RSS of the
iacscan process (moto's own memory is not counted), then the same for
``iacscan scan --snapshot``.

    python scripts/bench_snapshot.py                 # 5,000 groups, 1 region, 3 runs
    python scripts/bench_snapshot.py --groups 500 --regions us-east-1 eu-west-1
"""
from __future__ import annotations

import argparse
import json
import logging
import os
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

import boto3
from botocore.config import Config

REPO = Path(__file__).resolve().parents[1]
GROUPS_PER_VPC = 2500  # the default AWS quota of groups per region is 2,500; moto does not enforce it


def client(url: str, service: str, region: str) -> Any:
    return boto3.client(service, region_name=region, endpoint_url=url, aws_access_key_id="testing",
                        aws_secret_access_key="testing", config=Config(retries={"mode": "standard"}))


def create_groups(url: str, region: str, count: int, offset: int) -> list[str]:
    """``count`` groups with three ingress rules each, in VPCs of at most GROUPS_PER_VPC groups."""
    ec2 = client(url, "ec2", region)
    vpcs = [ec2.create_vpc(CidrBlock=f"10.{i}.0.0/16")["Vpc"]["VpcId"]
            for i in range((count + GROUPS_PER_VPC - 1) // GROUPS_PER_VPC)]

    def make(i: int) -> str:
        vpc = vpcs[i // GROUPS_PER_VPC]
        return ec2.create_security_group(GroupName=f"bench-{offset + i}", Description=f"bench group {offset + i}",
                                         VpcId=vpc)["GroupId"]

    ids = [make(i) for i in range(count)]  # one at a time: moto's backends are not thread-safe

    def rules(i: int) -> None:
        peer = ids[i - 1] if i and (i - 1) // GROUPS_PER_VPC == i // GROUPS_PER_VPC else ids[i]
        ec2.authorize_security_group_ingress(GroupId=ids[i], IpPermissions=[
            {"IpProtocol": "tcp", "FromPort": 443, "ToPort": 443, "IpRanges": [{"CidrIp": "10.0.0.0/8"}]},
            {"IpProtocol": "tcp", "FromPort": 22, "ToPort": 22,
             "IpRanges": [{"CidrIp": f"192.168.{i % 256}.0/24", "Description": "admin"}]},
            {"IpProtocol": "tcp", "FromPort": 8000, "ToPort": 8100, "UserIdGroupPairs": [{"GroupId": peer}]},
        ])

    for i in range(count):
        rules(i)
    subnet = ec2.create_subnet(VpcId=vpcs[0], CidrBlock="10.0.1.0/24")["Subnet"]["SubnetId"]
    image = ec2.describe_images(Owners=["amazon"])["Images"][0]["ImageId"]
    for i in range(min(50, count)):
        ec2.run_instances(ImageId=image, MinCount=1, MaxCount=1, SubnetId=subnet,
                          SecurityGroupIds=[ids[i], ids[(i + 1) % min(count, GROUPS_PER_VPC)]])
    return ids


def env_for(url: str, home: Path) -> dict[str, str]:
    (home / "config").write_text("")
    (home / "credentials").write_text("")
    env = {k: v for k, v in os.environ.items() if not k.startswith("AWS_")}
    env.update({"AWS_ENDPOINT_URL": url, "AWS_ACCESS_KEY_ID": "testing", "AWS_SECRET_ACCESS_KEY": "testing",
                "AWS_DEFAULT_REGION": "us-east-1", "AWS_CONFIG_FILE": str(home / "config"),
                "AWS_SHARED_CREDENTIALS_FILE": str(home / "credentials"), "AWS_EC2_METADATA_DISABLED": "true",
                "PYTHONPATH": str(REPO) + os.pathsep + os.environ.get("PYTHONPATH", "")})
    return env


def run(args: list[str], env: dict[str, str], cwd: Path) -> tuple[float, int, float]:
    """Wall seconds, peak RSS (KiB) and CPU seconds (user + system) of ``python -m iacscan ARGS``."""
    start = time.perf_counter()
    proc = subprocess.Popen([sys.executable, "-m", "iacscan", *args], cwd=cwd, env=env,
                            stdout=subprocess.DEVNULL, stderr=subprocess.PIPE)
    _, status, usage = os.wait4(proc.pid, 0)
    elapsed = time.perf_counter() - start
    proc.returncode = os.waitstatus_to_exitcode(status)
    if proc.returncode not in (0, 1):
        error = proc.stderr.read().decode()[-2000:] if proc.stderr else ""
        raise SystemExit(f"iacscan {' '.join(args)} failed ({proc.returncode}): {error}")
    return elapsed, usage.ru_maxrss, usage.ru_utime + usage.ru_stime


def measure(label: str, args: list[str], env: dict[str, str], cwd: Path, runs: int) -> dict[str, float]:
    results = [run(args, env, cwd) for _ in range(runs)]
    times = [r[0] for r in results]
    rss = max(r[1] for r in results) / 1024
    cpu = statistics.median(r[2] for r in results)
    print(f"{label}: median {statistics.median(times):.2f} s wall over {runs} runs "
          f"(min {min(times):.2f}, max {max(times):.2f}); median CPU {cpu:.2f} s; peak RSS {rss:.0f} MiB")
    return {"median_s": round(statistics.median(times), 2), "cpu_s": round(cpu, 2), "peak_rss_mib": round(rss)}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--groups", type=int, default=5000, help="security groups in all (default 5000)")
    parser.add_argument("--regions", nargs="+", default=["us-east-1"], help="regions to spread them over")
    parser.add_argument("--runs", type=int, default=3)
    opts = parser.parse_args()

    from moto.server import ThreadedMotoServer

    logging.getLogger("werkzeug").setLevel(logging.ERROR)
    server = ThreadedMotoServer(ip_address="127.0.0.1", port=0, verbose=False)
    server.start()
    host, port = server.get_host_and_port()
    url = f"http://{host}:{port}"
    try:
        start = time.perf_counter()
        per_region = opts.groups // len(opts.regions)
        for n, region in enumerate(opts.regions):
            create_groups(url, region, per_region, n * per_region)
        setup = time.perf_counter() - start
        print(f"setup: {per_region * len(opts.regions)} groups x 3 ingress rules + 50 instances "
              f"in {len(opts.regions)} region(s): {setup:.1f} s")
        with tempfile.TemporaryDirectory() as tmp:
            home = Path(tmp)
            env = env_for(url, home)
            regions = [a for r in opts.regions for a in ("--region", r)]
            snap = measure("iacscan snapshot", ["snapshot", *regions, "-o", "live.json"], env, home, opts.runs)
            size = (home / "live.json").stat().st_size / 1e6
            data = json.loads((home / "live.json").read_text())
            groups = sum(len(r.get("security_groups", [])) for r in data["regions"].values())
            print(f"snapshot: {groups} groups, {size:.1f} MB, {len(data['failures'])} failures")
            scan = measure("iacscan scan --snapshot", ["scan", "--snapshot", "live.json", "--format", "json",
                                                       "--output", "out.json"], env, home, opts.runs)
        print(json.dumps({"groups": groups, "setup_s": round(setup, 1), "snapshot": snap, "scan": scan}))
    finally:
        server.stop()


if __name__ == "__main__":
    main()
