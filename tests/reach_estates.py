"""Model-built estates for the reachability tests (no parser involved)."""
from __future__ import annotations

from iacscan.model import (
    Direction, Estate, InternetGateway, Location, NaclEntry, NetworkAcl, Peer, PeerKind, Route, RouteTable, Rule,
    SecurityGroup, Subnet, Tier, Vpc, Workload, make_uid,
)

FILE = "main.tf"


def uid(address: str) -> str:
    return make_uid(".", address)


def loc(line: int) -> Location:
    return Location(FILE, line)


def cidr(direction: str, proto: str, lo: int | None, hi: int | None, value: str, line: int = 1) -> Rule:
    return Rule(Direction(direction), proto, lo, hi, Peer(PeerKind.CIDR, value), location=loc(line))


def ref(direction: str, proto: str, lo: int | None, hi: int | None, group: str, line: int = 1) -> Rule:
    return Rule(Direction(direction), proto, lo, hi, Peer(PeerKind.GROUP, uid(group)), location=loc(line))


def self_rule(direction: str, proto: str, lo: int | None, hi: int | None, line: int = 1) -> Rule:
    return Rule(Direction(direction), proto, lo, hi, Peer(PeerKind.SELF), location=loc(line))


class EstateBuilder:
    """Small helpers to declare an estate line by line."""

    def __init__(self) -> None:
        self.estate = Estate(root=".")
        self.line = 1

    def _next(self) -> Location:
        self.line += 10
        return loc(self.line)

    def vpc(self, address: str, cidr_block: str | None = "10.0.0.0/16") -> str:
        self.estate.vpcs[uid(address)] = Vpc(uid(address), address, [cidr_block] if cidr_block else [],
                                             location=self._next())
        return uid(address)

    def subnet(self, address: str, vpc: str, cidr_block: str | None, *, public: bool | None = None,
               igw: bool | None = None) -> str:
        """A subnet; ``igw=True`` adds a route table sending 0.0.0.0/0 to an internet gateway,
        ``igw=False`` one with only a NAT route, ``None`` no route table at all."""
        self.estate.subnets[uid(address)] = Subnet(uid(address), address, uid(vpc) if "#" not in vpc else vpc,
                                                   cidr_block, map_public_ip=public, location=self._next())
        vpc_uid = uid(vpc) if "#" not in vpc else vpc
        if igw is not None:
            gw = f"aws_internet_gateway.{address.split('.')[-1]}"
            self.estate.internet_gateways[uid(gw)] = InternetGateway(uid(gw), gw, vpc_uid)
            table = f"aws_route_table.{address.split('.')[-1]}"
            route = Route("0.0.0.0/0", "igw", uid(gw)) if igw else Route("0.0.0.0/0", "nat", "nat-1")
            self.estate.route_tables[uid(table)] = RouteTable(uid(table), table, vpc_uid, [route], [uid(address)])
        return uid(address)

    def group(self, address: str, *rules: Rule, implicit_egress: bool = False, tags: dict[str, str] | None = None,
              vpc: str | None = None, source: str = "terraform") -> str:
        self.estate.groups[uid(address)] = SecurityGroup(
            uid(address), address, address.split(".")[-1], None, vpc, dict(tags or {}), list(rules),
            self._next(), implicit_egress=implicit_egress, source=source)
        return uid(address)

    def workload(self, address: str, *groups: str, tier: Tier = Tier.APP, public: bool | None = None,
                 subnets: tuple[str, ...] = (), vpc: str | None = None, ports: tuple[int, ...] = (),
                 tags: dict[str, str] | None = None, environment: str | None = None) -> Workload:
        kind = address.split(".")[0]
        workload = Workload(uid(address), address, kind, tier, [uid(g) for g in groups], vpc,
                            list(subnets), public, list(ports), dict(tags or {}), location=self._next(),
                            environment=environment)
        self.estate.workloads[workload.uid] = workload
        return workload

    def nacl(self, address: str, subnet: str, *entries: tuple[int, str, str, int | None, int | None, str]) -> None:
        """Inbound entries as (rule_number, action, protocol, from, to, cidr)."""
        acl = NetworkAcl(uid(address), address, None, [subnet], [
            NaclEntry(n, False, proto, action, block, lo, hi) for n, action, proto, lo, hi, block in entries])
        self.estate.nacls[acl.uid] = acl


def three_tier(*, app_egress: tuple[Rule, ...] | None = None, db_ingress: tuple[Rule, ...] | None = None,
               lb_public: bool | None = True, cloudformation: bool = False) -> EstateBuilder:
    """internet -> aws_lb.web:443 -> aws_instance.app:8080 -> aws_db_instance.main:5432."""
    b = EstateBuilder()
    b.vpc("aws_vpc.main")
    pub = b.subnet("aws_subnet.public", "aws_vpc.main", "10.0.1.0/24", public=True, igw=True)
    priv = b.subnet("aws_subnet.private", "aws_vpc.main", "10.0.2.0/24", public=False, igw=False)
    lb_rules = [cidr("ingress", "tcp", 443, 443, "0.0.0.0/0")]
    if not cloudformation:
        lb_rules.append(ref("egress", "tcp", 8080, 8080, "aws_security_group.app"))
    b.group("aws_security_group.lb", *lb_rules, implicit_egress=cloudformation)
    if app_egress is None:
        app_egress = () if cloudformation else (ref("egress", "tcp", 5432, 5432, "aws_security_group.db"),)
    b.group("aws_security_group.app", ref("ingress", "tcp", 8080, 8080, "aws_security_group.lb"), *app_egress,
            implicit_egress=cloudformation and not app_egress)
    if db_ingress is None:
        db_ingress = (ref("ingress", "tcp", 5432, 5432, "aws_security_group.app"),)
    b.group("aws_security_group.db", *db_ingress, implicit_egress=cloudformation)
    b.workload("aws_lb.web", "aws_security_group.lb", tier=Tier.WEB, public=lb_public, subnets=(pub,),
               ports=(443,))
    b.workload("aws_instance.app", "aws_security_group.app", subnets=(priv,))
    b.workload("aws_db_instance.main", "aws_security_group.db", tier=Tier.DATA, public=False, subnets=(priv,),
               ports=(5432,))
    return b
