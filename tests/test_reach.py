"""Reachability on model-built estates: flows, exposure, paths (the issue's "done when")."""
from __future__ import annotations

from typing import Any

from iacscan.model import Estate, Tier
from iacscan.net import Traffic
from iacscan.reach import Reachability
from iacscan.reach_queries import environment_crossings, internet_hits
from tests.reach_estates import EstateBuilder, cidr, ref, self_rule, three_tier, uid

CHAIN = ["internet", "aws_lb.web", "aws_instance.app", "aws_db_instance.main"]
CHAIN_HOPS = [
    {"resource": "aws_lb.web", "protocol": "tcp", "ports": "443", "traffic": "tcp/443"},
    {"resource": "aws_instance.app", "protocol": "tcp", "ports": "8080", "traffic": "tcp/8080"},
    {"resource": "aws_db_instance.main", "protocol": "tcp", "ports": "5432", "traffic": "tcp/5432"},
]


def reached(estate: Estate, *, data_entries: bool = True) -> dict[str, tuple[list[str], list[Any], bool]]:
    reach = Reachability(estate)
    out = {}
    for hit in internet_hits(reach, data_entries=data_entries):
        path, hops = hit.path(reach)
        out[hit.target.address] = (path, hops, hit.confirmed)
    return out


def test_chain_internet_lb_app_db_is_found_with_its_path() -> None:
    paths = reached(three_tier().estate)
    assert paths["aws_db_instance.main"] == (CHAIN, CHAIN_HOPS, True)
    assert paths["aws_lb.web"] == (["internet", "aws_lb.web"], CHAIN_HOPS[:1], True)
    assert set(paths) == {"aws_lb.web", "aws_instance.app", "aws_db_instance.main"}


def test_app_egress_that_stops_short_breaks_the_chain() -> None:
    b = three_tier(app_egress=(cidr("egress", "tcp", 443, 443, "0.0.0.0/0"),))
    assert set(reached(b.estate)) == {"aws_lb.web", "aws_instance.app"}


def test_terraform_app_group_without_egress_reaches_nothing() -> None:
    b = three_tier(app_egress=())
    assert set(reached(b.estate)) == {"aws_lb.web", "aws_instance.app"}


def test_database_admitting_only_an_unreachable_group() -> None:
    b = three_tier(db_ingress=(ref("ingress", "tcp", 5432, 5432, "aws_security_group.batch"),))
    b.group("aws_security_group.batch")
    b.workload("aws_instance.batch", "aws_security_group.batch")
    assert set(reached(b.estate)) == {"aws_lb.web", "aws_instance.app"}


def test_cloudformation_groups_without_egress_keep_the_default() -> None:
    paths = reached(three_tier(cloudformation=True).estate)
    assert paths["aws_db_instance.main"] == (CHAIN, CHAIN_HOPS, True)


def test_cloudformation_group_with_an_egress_rule_loses_the_default() -> None:
    b = three_tier(cloudformation=True, app_egress=(cidr("egress", "tcp", 443, 443, "0.0.0.0/0"),))
    assert "aws_db_instance.main" not in reached(b.estate)


def test_self_never_counts_as_internet() -> None:
    b = EstateBuilder()
    b.group("aws_security_group.cluster", self_rule("ingress", "all", None, None),
            self_rule("egress", "all", None, None))
    b.workload("aws_instance.node", "aws_security_group.cluster", public=True)
    reach = Reachability(b.estate)
    assert reach.internet_entries() == []
    sig = reach.sigs[reach.sig_of[uid("aws_instance.node")]]
    assert reach.flow(sig, sig) == Traffic(everything=True)


def test_dev_to_prod_path_is_found() -> None:
    b = EstateBuilder()
    b.group("aws_security_group.dev_app", cidr("egress", "all", None, None, "0.0.0.0/0"))
    b.group("aws_security_group.prod_db", ref("ingress", "tcp", 5432, 5432, "aws_security_group.dev_app"))
    b.group("aws_security_group.prod_app", ref("egress", "tcp", 5432, 5432, "aws_security_group.prod_db"))
    b.workload("aws_instance.dev_app", "aws_security_group.dev_app", environment="dev")
    b.workload("aws_db_instance.prod", "aws_security_group.prod_db", tier=Tier.DATA, ports=(5432,),
               environment="prod")
    b.workload("aws_instance.prod_app", "aws_security_group.prod_app", environment="prod")
    reach = Reachability(b.estate)
    found = [(env, hit.target.address, hit.path(reach)) for env, hit in environment_crossings(reach)]
    assert found == [("dev", "aws_db_instance.prod", (
        ["aws_instance.dev_app", "aws_db_instance.prod"],
        [{"resource": "aws_db_instance.prod", "protocol": "tcp", "ports": "5432", "traffic": "tcp/5432"}]))]


def test_network_acl_deny_breaks_a_path() -> None:
    b = three_tier()
    b.nacl("aws_network_acl.public", uid("aws_subnet.public"),
           (100, "deny", "tcp", 443, 443, "0.0.0.0/0"), (200, "allow", "all", None, None, "0.0.0.0/0"))
    assert reached(b.estate) == {}


def test_network_acl_order_decides() -> None:
    b = three_tier()
    b.nacl("aws_network_acl.public", uid("aws_subnet.public"),
           (100, "allow", "tcp", 443, 443, "0.0.0.0/0"), (200, "deny", "all", None, None, "0.0.0.0/0"))
    assert reached(b.estate)["aws_db_instance.main"] == (CHAIN, CHAIN_HOPS, True)


def test_network_acl_entry_for_a_narrow_range_does_not_close_the_internet() -> None:
    b = three_tier()
    b.nacl("aws_network_acl.public", uid("aws_subnet.public"),
           (50, "deny", "tcp", 443, 443, "203.0.113.0/24"), (100, "allow", "all", None, None, "0.0.0.0/0"))
    assert "aws_db_instance.main" in reached(b.estate)


def test_unknown_addressing_is_unconfirmed() -> None:
    b = EstateBuilder()
    b.group("aws_security_group.web", cidr("ingress", "tcp", 22, 22, "0.0.0.0/0"))
    b.workload("aws_instance.web", "aws_security_group.web")
    assert reached(b.estate) == {"aws_instance.web": (
        ["internet", "aws_instance.web"],
        [{"resource": "aws_instance.web", "protocol": "tcp", "ports": "22", "traffic": "tcp/22"}], False)}
    exposure = Reachability(b.estate).exposure(b.estate.workloads[uid("aws_instance.web")])
    assert exposure.reason == "exposure unconfirmed: the code does not say whether aws_instance.web has a public address"


def test_confirmed_path_ranks_above_an_unconfirmed_shorter_one() -> None:
    """The app is reached directly (unconfirmed: no subnet) and through the public LB
    (confirmed): the confirmed path is the one reported."""
    b = three_tier()
    app = b.estate.groups[uid("aws_security_group.app")]
    app.rules.append(cidr("ingress", "tcp", 8080, 8080, "0.0.0.0/0"))
    b.estate.workloads[uid("aws_instance.app")].subnets = []
    paths = reached(b.estate)
    assert paths["aws_instance.app"] == (CHAIN[:3], CHAIN_HOPS[:2], True)


def test_private_subnet_without_public_address_is_not_exposed() -> None:
    b = EstateBuilder()
    b.vpc("aws_vpc.main")
    priv = b.subnet("aws_subnet.private", "aws_vpc.main", "10.0.2.0/24", public=False, igw=False)
    b.group("aws_security_group.web", cidr("ingress", "tcp", 22, 22, "0.0.0.0/0"))
    b.workload("aws_instance.web", "aws_security_group.web", subnets=(priv,))
    assert reached(b.estate) == {}


def test_public_subnet_with_internet_route_confirms_exposure() -> None:
    b = EstateBuilder()
    b.vpc("aws_vpc.main")
    pub = b.subnet("aws_subnet.public", "aws_vpc.main", "10.0.1.0/24", public=True, igw=True)
    b.group("aws_security_group.web", cidr("ingress", "tcp", 22, 22, "0.0.0.0/0"))
    b.workload("aws_instance.web", "aws_security_group.web", subnets=(pub,))
    assert reached(b.estate)["aws_instance.web"][2] is True


def test_union_of_halves_counts_as_the_internet() -> None:
    b = EstateBuilder()
    b.group("aws_security_group.web", cidr("ingress", "tcp", 20, 30, "0.0.0.0/1"),
            cidr("ingress", "tcp", 22, 40, "128.0.0.0/1"))
    b.workload("aws_instance.web", "aws_security_group.web", public=True)
    assert reached(b.estate)["aws_instance.web"][1][0]["ports"] == "22-30"


def test_cidr_peers_use_the_declared_subnets_and_unknown_addresses_make_no_path() -> None:
    b = three_tier(db_ingress=(cidr("ingress", "tcp", 5432, 5432, "10.0.2.0/24"),),
                   app_egress=(cidr("egress", "tcp", 5432, 5432, "10.0.0.0/16"),))
    assert reached(b.estate)["aws_db_instance.main"][0] == CHAIN
    # the app's addresses unknown: a /24 may or may not hold it, so no path
    b.estate.workloads[uid("aws_instance.app")].subnets = []
    assert "aws_db_instance.main" not in reached(b.estate)


def test_cidr_that_only_partly_holds_a_subnet_is_not_a_path() -> None:
    b = three_tier(db_ingress=(cidr("ingress", "tcp", 5432, 5432, "10.0.2.0/25"),))
    assert "aws_db_instance.main" not in reached(b.estate)


def test_workload_without_groups_gets_the_vpc_default_group() -> None:
    b = EstateBuilder()
    b.vpc("aws_vpc.main")
    b.group("aws_security_group.web", cidr("ingress", "tcp", 443, 443, "0.0.0.0/0"),
            cidr("egress", "all", None, None, "0.0.0.0/0"))
    b.workload("aws_instance.web", "aws_security_group.web", public=True)
    b.workload("aws_instance.worker", vpc=uid("aws_vpc.main"))
    b.workload("aws_instance.other", vpc=uid("aws_vpc.main"))
    reach = Reachability(b.estate)
    worker = reach.sigs[reach.sig_of[uid("aws_instance.worker")]]
    web = reach.sigs[reach.sig_of[uid("aws_instance.web")]]
    assert worker.groups == ("default-sg:" + uid("aws_vpc.main"),)
    assert reach.sig_of[uid("aws_instance.other")] == worker.id  # same signature
    assert reach.flow(worker, worker) == Traffic(everything=True)  # default: all from itself
    assert not reach.flow(web, worker)  # ...and nothing from others
    assert reach.flow(worker, web) == Traffic.of("tcp", 443, 443)  # default egress: all


def test_unknown_group_refs_create_no_flow() -> None:
    b = EstateBuilder()
    b.group("aws_security_group.db", cidr("ingress", "tcp", 5432, 5432, "0.0.0.0/0"))
    w = b.workload("aws_instance.x")
    w.groups = ["sg-0123456789"]  # not declared by the code
    reach = Reachability(b.estate)
    sig = reach.sigs[reach.sig_of[w.uid]]
    assert sig.groups == () and sig.groups_unknown
    assert reached(b.estate) == {}


def test_prefix_list_entries_are_used() -> None:
    from iacscan.model import Peer, PeerKind, PrefixList, Rule, Direction

    b = EstateBuilder()
    b.estate.prefix_lists[uid("aws_ec2_managed_prefix_list.all")] = PrefixList(
        uid("aws_ec2_managed_prefix_list.all"), "aws_ec2_managed_prefix_list.all", ["0.0.0.0/1", "128.0.0.0/1"])
    b.group("aws_security_group.web", Rule(Direction.INGRESS, "tcp", 22, 22,
                                           Peer(PeerKind.PREFIX_LIST, uid("aws_ec2_managed_prefix_list.all"))))
    b.workload("aws_instance.web", "aws_security_group.web", public=True)
    assert reached(b.estate)["aws_instance.web"][1][0]["ports"] == "22"


def test_network_acl_from_terraform_breaks_the_chain() -> None:
    from tests.helpers import FIXTURES, hits, scan_path

    broken = scan_path(FIXTURES / "reach" / "nacl_deny")
    assert broken.estate.nacls  # the parser read the ACL
    assert hits(broken, "NET302") == set()
    assert reached(broken.estate) == {}


def test_icmp_hops_show_type_and_code() -> None:
    from iacscan.reach_paths import draw, hop_fields

    assert hop_fields(Traffic.of("icmp", 8, -1)) == ("icmp", "8")
    assert hop_fields(Traffic.of("icmp", 3, 4)) == ("icmp", "3/4")
    assert hop_fields(Traffic.of("icmp", -1, -1)) == ("icmp", "all")
    assert hop_fields(Traffic.of("all", None, None)) == ("all", "all")
    assert hop_fields(Traffic.of("tcp", 0, 65535)) == ("tcp", "0-65535")
    hops = [{"resource": "a", "protocol": "icmp", "ports": "8"}, {"resource": "b", "protocol": "all", "ports": "all"}]
    assert draw(["internet", "a", "b"], hops) == "internet -> a:icmp/8 -> b:all"
    assert draw(["x", "b"], hops[1:]) == "x -> b:all"


def test_covered_traffic_matches_brute_force() -> None:
    """Unions of ranges across rules: a port is admitted from the internet exactly when the
    ranges of the rules admitting it cover the internet."""
    from hypothesis import given, settings
    from hypothesis import strategies as st

    from iacscan.net import AddressSet
    from iacscan.reach_groups import covered_traffic

    halves = ["0.0.0.0/1", "128.0.0.0/1", "0.0.0.0/0", "10.0.0.0/8", "::/0", "::/1", "8000::/1"]
    entry = st.tuples(st.lists(st.sampled_from(halves), min_size=1, max_size=2),
                      st.sampled_from(["tcp", "udp", "all"]), st.integers(0, 30), st.integers(0, 30))

    @given(st.lists(entry, max_size=5))
    @settings(max_examples=200)
    def check(raw: list[tuple[list[str], str, int, int]]) -> None:
        entries = [(AddressSet.of(c), Traffic.of(p, min(a, b), max(a, b))) for c, p, a, b in raw]
        got = covered_traffic(entries, lambda s: s.is_internet)
        for proto in ("tcp", "udp"):
            for port in range(0, 32):
                union = AddressSet()
                for addresses, traffic in entries:
                    if traffic.everything or port in traffic.ports(proto):
                        union = union.union(addresses)
                assert (got.everything or port in got.ports(proto)) == union.is_internet, (proto, port)

    check()
