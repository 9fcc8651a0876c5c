"""NET301-NET304: exact findings and paths, on model-built estates and on fixtures."""
from __future__ import annotations

from pathlib import Path

import pytest

from iacscan.findings import Finding
from iacscan.model import Tier
from iacscan.ruleset import RulesetError, load_ruleset
from iacscan.scan import ScanResult, run_rules
from tests.helpers import hits, rule_fixture, scan_path
from tests.reach_estates import EstateBuilder, cidr, ref, three_tier

CHAIN = ["internet", "aws_lb.web", "aws_instance.app", "aws_db_instance.main"]
POLICIES = rule_fixture("NET304", "policies.yaml")


def only(result: ScanResult, rule_id: str, resource: str) -> Finding:
    found = [f for f in result.findings if f.rule_id == rule_id and f.resource == resource]
    assert len(found) == 1, found
    return found[0]


def paths(result: ScanResult, rule_id: str) -> dict[tuple[str, str], list[str]]:
    return {(f.resource, str(sorted(f.details.items()))): f.path for f in result.findings if f.rule_id == rule_id}


# ------------------------------------------------------------------ model-built


def test_net302_chain_with_path_and_hops() -> None:
    b = three_tier()
    result = run_rules(b.estate, load_ruleset("default"))
    assert hits(result, "NET302") == {("NET302", "aws_db_instance.main", "main.tf", 91)}
    finding = only(result, "NET302", "aws_db_instance.main")
    assert finding.path == CHAIN
    assert finding.severity.value == "critical"
    assert [(h["resource"], h["protocol"], h["ports"]) for h in finding.extra["hops"]] == [
        ("aws_lb.web", "tcp", "443"), ("aws_instance.app", "tcp", "8080"), ("aws_db_instance.main", "tcp", "5432")]
    assert finding.message.endswith(
        "internet -> aws_lb.web:443 -> aws_instance.app:8080 -> aws_db_instance.main:5432")
    assert hits(result, "NET301") == set()  # 443 is not sensitive in the default ruleset


@pytest.mark.parametrize("variant", ["app_egress_443", "no_app_egress", "db_admits_other"])
def test_net302_chain_broken(variant: str) -> None:
    if variant == "app_egress_443":
        b = three_tier(app_egress=(cidr("egress", "tcp", 443, 443, "0.0.0.0/0"),))
    elif variant == "no_app_egress":
        b = three_tier(app_egress=())
    else:
        b = three_tier(db_ingress=(ref("ingress", "tcp", 5432, 5432, "aws_security_group.batch"),))
        b.group("aws_security_group.batch")
        b.workload("aws_instance.batch", "aws_security_group.batch")
    assert hits(run_rules(b.estate, load_ruleset("default")), "NET302") == set()


def test_net301_severities_and_unconfirmed_exposure() -> None:
    b = EstateBuilder()
    b.group("aws_security_group.open", cidr("ingress", "tcp", 0, 65535, "0.0.0.0/0"))
    b.workload("aws_instance.public", "aws_security_group.open", public=True)  # line 21
    b.workload("aws_db_instance.public", "aws_security_group.open", tier=Tier.DATA, public=True, ports=(3306,))
    b.workload("aws_instance.maybe", "aws_security_group.open")  # line 41: unknown addressing
    b.workload("aws_instance.private", "aws_security_group.open", public=False)
    result = run_rules(b.estate, load_ruleset("default"))
    assert hits(result, "NET301") == {
        ("NET301", "aws_instance.public", "main.tf", 21),
        ("NET301", "aws_db_instance.public", "main.tf", 31),
        ("NET301", "aws_instance.maybe", "main.tf", 41),
    }
    severities = {f.resource: f.severity.value for f in result.findings if f.rule_id == "NET301"}
    assert severities == {"aws_instance.public": "high", "aws_db_instance.public": "critical",
                          "aws_instance.maybe": "medium"}
    maybe = only(result, "NET301", "aws_instance.maybe")
    assert maybe.extra["exposure"] == "unconfirmed"
    assert "exposure unconfirmed: the code does not say whether aws_instance.maybe has a public address" \
        in maybe.message
    db = only(result, "NET301", "aws_db_instance.public")
    assert db.path == ["internet", "aws_db_instance.public"]
    assert db.details == {"protocol": "tcp", "ports": "3306"}


def test_net303_dev_to_prod() -> None:
    b = EstateBuilder()
    b.group("aws_security_group.dev_app", cidr("egress", "all", None, None, "0.0.0.0/0"))
    b.group("aws_security_group.prod_db", ref("ingress", "tcp", 5432, 5432, "aws_security_group.dev_app"))
    b.workload("aws_instance.app", "aws_security_group.dev_app", tags={"Environment": "dev"})
    b.workload("aws_db_instance.main", "aws_security_group.prod_db", tier=Tier.DATA, ports=(5432,),
               tags={"Environment": "prod"})
    result = run_rules(b.estate, load_ruleset("default"))
    assert hits(result, "NET303") == {("NET303", "aws_db_instance.main", "main.tf", 41)}
    finding = only(result, "NET303", "aws_db_instance.main")
    assert finding.path == ["aws_instance.app", "aws_db_instance.main"]
    assert finding.details == {"from_environment": "dev", "to_environment": "prod"}


# ------------------------------------------------------------------ fixtures


def test_net301_terraform() -> None:
    result = scan_path(rule_fixture("NET301", "terraform", "fail"))
    assert hits(result, "NET301") == {
        ("NET301", "aws_instance.bastion", "main.tf", 55),
        ("NET301", "aws_db_instance.exposed", "main.tf", 63),
        ("NET301", "aws_instance.somewhere", "main.tf", 71),
    }
    severities = {f.resource: f.severity.value for f in result.findings if f.rule_id == "NET301"}
    assert severities == {"aws_instance.bastion": "high", "aws_db_instance.exposed": "critical",
                          "aws_instance.somewhere": "medium"}
    assert hits(scan_path(rule_fixture("NET301", "terraform", "pass")), "NET301") == set()


def test_net301_cloudformation() -> None:
    result = scan_path(rule_fixture("NET301", "cloudformation", "fail.yaml"))
    assert hits(result, "NET301") == {
        ("NET301", "Bastion", "fail.yaml", 13),
        ("NET301", "Cache", "fail.yaml", 28),
    }
    assert only(result, "NET301", "Cache").severity.value == "high"  # critical, unconfirmed
    assert hits(scan_path(rule_fixture("NET301", "cloudformation", "pass.yaml")), "NET301") == set()


def test_net302_terraform() -> None:
    result = scan_path(rule_fixture("NET302", "terraform", "fail"))
    assert hits(result, "NET302") == {("NET302", "aws_db_instance.main", "main.tf", 104)}
    assert only(result, "NET302", "aws_db_instance.main").path == CHAIN
    assert hits(scan_path(rule_fixture("NET302", "terraform", "pass")), "NET302") == set()


def test_net302_cloudformation_keeps_default_egress() -> None:
    result = scan_path(rule_fixture("NET302", "cloudformation", "fail.yaml"))
    assert hits(result, "NET302") == {("NET302", "Database", "fail.yaml", 63)}
    assert only(result, "NET302", "Database").path == ["internet", "WebLb", "AppServer", "Database"]
    assert hits(scan_path(rule_fixture("NET302", "cloudformation", "pass.yaml")), "NET302") == set()


def test_net303_terraform_and_cloudformation() -> None:
    result = scan_path(rule_fixture("NET303", "terraform", "fail"))
    assert hits(result, "NET303") == {("NET303", "aws_db_instance.prod", "main.tf", 34)}
    assert only(result, "NET303", "aws_db_instance.prod").path == ["aws_instance.dev_app", "aws_db_instance.prod"]
    assert hits(scan_path(rule_fixture("NET303", "terraform", "pass")), "NET303") == set()
    result = scan_path(rule_fixture("NET303", "cloudformation", "fail.yaml"))
    assert hits(result, "NET303") == {("NET303", "ProdCache", "fail.yaml", 28)}
    assert hits(scan_path(rule_fixture("NET303", "cloudformation", "pass.yaml")), "NET303") == set()


def test_net304_policies_terraform() -> None:
    result = scan_path(rule_fixture("NET304", "terraform", "fail"), ruleset=str(POLICIES))
    assert hits(result, "NET304") == {
        ("NET304", "aws_instance.app", "main.tf", 92),
        ("NET304", "aws_db_instance.main", "main.tf", 106),
    }
    assert paths(result, "NET304") == {
        ("aws_instance.app", "[('policy', 'only-lb-talks-to-app')]"): ["aws_instance.bastion", "aws_instance.app"],
        ("aws_db_instance.main", "[('policy', 'dev-stays-out-of-prod')]"): [
            "aws_instance.dev_tool", "aws_db_instance.main"],
        ("aws_db_instance.main", "[('policy', 'no-internet-to-data')]"): CHAIN,
    }
    severities = {f.details["policy"]: f.severity.value for f in result.findings if f.rule_id == "NET304"}
    assert severities == {"only-lb-talks-to-app": "high", "dev-stays-out-of-prod": "high",
                          "no-internet-to-data": "critical"}
    assert hits(scan_path(rule_fixture("NET304", "terraform", "pass"), ruleset=str(POLICIES)), "NET304") == set()


def test_net304_silent_without_policies() -> None:
    assert hits(scan_path(rule_fixture("NET304", "terraform", "fail")), "NET304") == set()


# ------------------------------------------------------------------ policy validation


@pytest.mark.parametrize(("policy", "message"), [
    ("{id: p, deny: {from: internet}}", "'policies[0].deny.to' is missing"),
    ("{id: p, deny: {from: internet, to: internet}}", "'policies[0].deny.to' cannot be 'internet'"),
    ("{id: p, deny: {from: internet, to: {tier: gold}}}", "'policies[0].deny.to.tier': 'gold' is not one of"),
    ("{id: p, deny: {from: internet, to: {colour: red}}}", "unknown key 'policies[0].deny.to.colour'"),
    ("{id: p, allow_only: {from: internet, to: {tier: app}, ports: [99999]}}",
     "'policies[0].allow_only.ports' entry 99999 is outside 0-65535"),
    ("{id: p, deny: {from: internet, to: {tier: app}}, allow_only: {from: internet, to: {tier: app}}}",
     "'policies[0]' needs exactly one of 'deny' or 'allow_only'"),
    ("{id: p, deny: {from: internet, to: {tier: app}}, severity: urgent}", "'policies[0].severity'"),
    ("{id: p, deny: {from: internet, to: {tier: app}}, when: always}", "unknown key 'policies[0].when'"),
])
def test_wrong_policy_names_the_key(tmp_path: Path, policy: str, message: str) -> None:
    path = tmp_path / "rules.yaml"
    path.write_text(f"extends: default\npolicies:\n  - {policy}\n", encoding="utf-8")
    with pytest.raises(RulesetError) as err:
        load_ruleset(str(path))
    assert message in str(err.value)
    assert str(path) in str(err.value)


def test_duplicate_policy_ids_are_refused(tmp_path: Path) -> None:
    path = tmp_path / "rules.yaml"
    path.write_text("policies:\n  - {id: a, deny: {from: internet, to: {tier: data}}}\n"
                    "  - {id: a, deny: {from: internet, to: {tier: app}}}\n", encoding="utf-8")
    with pytest.raises(RulesetError, match="'policies\\[1\\].id': 'a' is used twice"):
        load_ruleset(str(path))


def test_shipped_policies_load() -> None:
    assert [p["id"] for p in load_ruleset("strict").policies] == ["no-internet-to-data", "dev-stays-out-of-prod"]
    assert [p["id"] for p in load_ruleset(str(POLICIES)).policies] == [
        "no-internet-to-data", "dev-stays-out-of-prod", "only-lb-talks-to-app"]


def test_net304_allow_only_flags_other_ports_and_open_targets(tmp_path: Path) -> None:
    rules = tmp_path / "rules.yaml"
    rules.write_text("extends: default\npolicies:\n"
                     "  - {id: app-from-web, allow_only: {to: {tag: {Tier: app}}, from: {tag: {Tier: web}},"
                     " ports: [8080]}}\n", encoding="utf-8")
    b = EstateBuilder()
    b.group("aws_security_group.lb", cidr("egress", "all", None, None, "0.0.0.0/0"))
    b.group("aws_security_group.app", ref("ingress", "tcp", 8080, 8080, "aws_security_group.lb"),
            ref("ingress", "tcp", 9000, 9000, "aws_security_group.lb"))
    b.group("aws_security_group.open", cidr("ingress", "tcp", 8080, 8080, "0.0.0.0/0"))
    b.group("aws_security_group.tool", cidr("egress", "tcp", 8080, 8080, "0.0.0.0/0"))
    b.workload("aws_lb.web", "aws_security_group.lb", tier=Tier.WEB, public=False, tags={"Tier": "web"})  # 51
    b.workload("aws_instance.app", "aws_security_group.app", public=False, tags={"Tier": "app"})  # 61
    b.workload("aws_instance.worker", "aws_security_group.open", public=False, tags={"Tier": "app"})  # 71
    b.workload("aws_instance.tool", "aws_security_group.tool", public=False)  # 81
    result = run_rules(b.estate, load_ruleset(str(rules)))
    assert hits(result, "NET304") == {("NET304", "aws_instance.app", "main.tf", 61),
                                      ("NET304", "aws_instance.worker", "main.tf", 71)}
    app = only(result, "NET304", "aws_instance.app")
    assert app.extra["intrusions"] == [{"source": "aws_lb.web", "traffic": "tcp/9000"}]
    assert app.path == ["aws_lb.web", "aws_instance.app"]
    worker = only(result, "NET304", "aws_instance.worker")
    assert worker.extra["intrusions"] == [{"source": "aws_instance.tool", "traffic": "tcp/8080"}]


def test_net304_policies_cloudformation() -> None:
    result = scan_path(rule_fixture("NET304", "cloudformation", "fail.yaml"), ruleset=str(POLICIES))
    assert hits(result, "NET304") == {("NET304", "Database", "fail.yaml", 63)}
    finding = only(result, "NET304", "Database")
    assert finding.details == {"policy": "no-internet-to-data"}
    assert finding.path == ["internet", "WebLb", "AppServer", "Database"]
    assert hits(scan_path(rule_fixture("NET304", "cloudformation", "pass.yaml"), ruleset=str(POLICIES)),
                "NET304") == set()
