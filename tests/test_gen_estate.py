"""Smoke test of the synthetic estate (scripts/gen_estate.py, size S): it parses cleanly and a
scan finds exactly the planted mistakes. No timing here: speed is measured by scripts/bench.py."""
from __future__ import annotations

import importlib.util
import sys
from collections import Counter
from pathlib import Path

import pytest

from iacscan.scan import ScanResult
from tests.helpers import REPO, scan_path

_SPEC = importlib.util.spec_from_file_location("gen_estate", REPO / "scripts" / "gen_estate.py")
assert _SPEC is not None and _SPEC.loader is not None
gen_estate = importlib.util.module_from_spec(_SPEC)
sys.modules["gen_estate"] = gen_estate
_SPEC.loader.exec_module(gen_estate)


@pytest.fixture(scope="module")
def estate_s(tmp_path_factory: pytest.TempPathFactory) -> tuple[Path, dict[str, int], ScanResult]:
    out = tmp_path_factory.mktemp("estate") / "S"
    counts = gen_estate.generate("S", out)
    return out, counts, scan_path(out)


#: The rule families the planted mistakes exercise; the estate is clean for all of them.
#: (Other families, e.g. AWS407 on hard-coded AMI ids, are not part of this contract.)
FAMILIES = ("SG", "NET", "ENV", "IAC")


def tuples(result: ScanResult) -> set[tuple[str, str, str, int]]:
    return {(f.rule_id, f.resource, f.file, f.line) for f in result.findings if f.rule_id.startswith(FAMILIES)}


def test_generates_the_documented_shape(estate_s: tuple[Path, dict[str, int], ScanResult]) -> None:
    out, counts, _ = estate_s
    assert counts["services"] == 25 and counts["module_dirs"] == 54
    assert len(list(out.glob("envs/*/svc-*/modules/workers/main.tf"))) == 25
    assert len(list(out.glob("envs/*/svc-*/cfn/stack.yaml"))) == 9
    texts = [p.read_bytes() for p in out.rglob("*.tf")]
    assert len(texts) == len(set(texts))  # no two Terraform files are identical


def test_parses_without_errors(estate_s: tuple[Path, dict[str, int], ScanResult]) -> None:
    _, counts, result = estate_s
    assert result.estate.errors == []
    assert not [f for f in result.findings if f.rule_id in ("IAC001", "IAC002", "IAC003")]
    assert result.rule_errors == []
    groups = list(result.estate.groups.values())
    assert len(groups) == counts["tf_groups"] + counts["cfn_groups"] == 280  # 3 default groups of the network roots
    # for_each pools in the local module expand to one group each, under the module address
    pools = {(g.location.file, g.address) for g in groups if ".pool[" in g.address}
    assert ("envs/prod/svc-0000/modules/workers/main.tf", 'module.workers.aws_security_group.pool["render"]') in pools
    assert len(pools) == 75


def test_group_references_are_resolved(estate_s: tuple[Path, dict[str, int], ScanResult]) -> None:
    _, _, result = estate_s
    by_address = {(g.location.file, g.address): g for g in result.estate.groups.values()}
    db = by_address[("envs/prod/svc-0000/main.tf", "aws_security_group.db")]
    peers = sorted(r.peer.value for r in db.rules)
    # app + three worker pools (module output through merge() and a dynamic block)
    assert len(peers) == 4
    assert all(p in result.estate.groups for p in peers)


def test_finds_exactly_the_planted_mistakes(estate_s: tuple[Path, dict[str, int], ScanResult]) -> None:
    _, _, result = estate_s
    assert tuples(result) == {
        # svc-0002: SSH from anywhere on the bastion group (and the VPN rules it now shadows)
        ("SG101", "aws_vpc_security_group_ingress_rule.admin_ssh_anywhere", "envs/dev/svc-0002/main.tf", 135),
        ("NET301", "aws_instance.bastion", "envs/dev/svc-0002/main.tf", 227),
        ("SG111", 'aws_vpc_security_group_ingress_rule.admin_ssh["10.250.2.0/24"]', "envs/dev/svc-0002/main.tf", 116),
        ("SG111", 'aws_vpc_security_group_ingress_rule.admin_ssh["10.251.2.0/24"]', "envs/dev/svc-0002/main.tf", 116),
        # svc-0005: all traffic from var.debug_cidr (default 0.0.0.0/0)
        ("SG102", "aws_security_group_rule.admin_debug", "envs/dev/svc-0005/main.tf", 140),
        ("NET301", "aws_instance.bastion", "envs/dev/svc-0005/main.tf", 233),
        ("SG111", 'aws_vpc_security_group_ingress_rule.admin_ssh["10.250.5.0/24"]', "envs/dev/svc-0005/main.tf", 116),
        ("SG111", 'aws_vpc_security_group_ingress_rule.admin_ssh["10.251.5.0/24"]', "envs/dev/svc-0005/main.tf", 116),
        # svc-0003: CloudFormation database open to the internet
        ("SG101", "ReportingDbSecurityGroup", "envs/prod/svc-0003/cfn/stack.yaml", 51),
        ("NET301", "ReportingDatabase", "envs/prod/svc-0003/cfn/stack.yaml", 100),
        # svc-0004: a rule without description; svc-0007: an invalid CIDR from terraform.tfvars
        ("SG106", "aws_security_group.cache", "envs/staging/svc-0004/main.tf", 98),
        ("SG107", 'aws_vpc_security_group_ingress_rule.admin_ssh["10.7.0.0/33"]', "envs/staging/svc-0007/main.tf", 116),
    }
    assert Counter(f.rule_id for f in result.findings)["SG101"] == 2
    assert not [f for f in result.findings if f.rule_id in ("AWS401", "AWS402", "AWS403", "AWS404", "AWS405",
                                                            "AWS406", "AWS408")]
