"""Where a workload sits in the network: its addresses, whether it is publicly
addressable, and what the network ACLs of its subnets let in from the internet.

Everything here answers from what the code declares. A question the code does not
answer stays unanswered (``None``) and callers report it as such.

Public addressability (``exposure``):

- ``public is False`` (``associate_public_ip_address = false``, an internal load
  balancer, ``publicly_accessible = false``): not exposed.
- ``public is True`` (the resource says so, or an elastic IP attaches it): confirmed,
  unless every subnet it sits in is known to have no route to an internet gateway.
- otherwise: confirmed when one of its subnets maps public IPs on launch *and* routes
  ``0.0.0.0/0``/``::/0`` to an internet gateway; not exposed when every subnet is known
  and none does both; unconfirmed in every other case.

Network ACLs (``nacl_internet_ingress``): a subnet's ACL is the one the code
associates with it, else the VPC's default ACL when the code declares one, else AWS's
default (allows everything). Inbound entries are read in ``rule_number`` order, first
match wins, implicit deny at the end. An arbitrary internet host matches only entries
for ``0.0.0.0/0`` or ``::/0``: an entry for a narrower range neither opens nor closes
the internet as a whole. Limits: return traffic (outbound ephemeral ports) is not
checked, and ACLs are applied to hops from the internet only, not between workloads.
"""
from __future__ import annotations

from dataclasses import dataclass

from iacscan.model import Estate, NetworkAcl, RouteTable, Subnet, Unknown, Workload, is_unknown
from iacscan.net import AddressSet, Traffic

CONFIRMED, UNCONFIRMED, NONE = "confirmed", "unconfirmed", "none"
_EVERYTHING = Traffic(everything=True)


@dataclass(frozen=True)
class Exposure:
    state: str  # confirmed | unconfirmed | none
    reason: str


class Network:
    """Subnets, route tables and ACLs of an estate, indexed once."""

    def __init__(self, estate: Estate) -> None:
        self.estate = estate
        self.subnets: dict[str, Subnet] = dict(estate.subnets)
        for subnet in estate.subnets.values():
            if subnet.live_id:
                self.subnets.setdefault(subnet.live_id, subnet)
        self.subnet_table: dict[str, RouteTable] = {}
        self.main_table: dict[str, RouteTable] = {}
        for table in estate.route_tables.values():
            for ref in table.subnets:
                if isinstance(ref, str):
                    self.subnet_table[ref] = table
            if table.is_main and isinstance(table.vpc, str):
                self.main_table[table.vpc] = table
        self.subnet_acl: dict[str, NetworkAcl] = {}
        self.default_acl: dict[str, NetworkAcl] = {}
        for acl in estate.nacls.values():
            for ref in acl.subnets:
                if isinstance(ref, str):
                    self.subnet_acl[ref] = acl
            if acl.is_default and isinstance(acl.vpc, str):
                self.default_acl[acl.vpc] = acl
        self._acl_cache: dict[str, Traffic | None] = {}
        self._addr_cache: dict[tuple[object, ...], tuple[object, AddressSet | None]] = {}
        self._state_cache: dict[tuple[object, ...], str] = {}

    # -------------------------------------------------------------- addresses

    def known_subnets(self, workload: Workload) -> list[Subnet] | None:
        """The workload's subnets, or None when it names none or one cannot be resolved."""
        if not workload.subnets:
            return None
        out = []
        for ref in workload.subnets:
            subnet = self.subnets.get(ref) if isinstance(ref, str) else None
            if subnet is None:
                return None
            out.append(subnet)
        return out

    def addresses(self, workload: Workload, subnets: tuple[str, ...] | None = None) -> tuple[object, AddressSet | None]:
        """A hashable key and the addresses the workload may have (None when unknown):
        its subnets' CIDRs, else its VPC's CIDRs. ``subnets``: ``str`` of each of the
        workload's subnets, when the caller has them."""
        key = (tuple(map(str, workload.subnets)) if subnets is None else subnets, str(workload.vpc))
        found = self._addr_cache.get(key)
        if found is None:
            found = self._addr_cache[key] = self._addresses(workload)
        return found

    def _addresses(self, workload: Workload) -> tuple[object, AddressSet | None]:
        subnets = self.known_subnets(workload)
        if subnets and all(isinstance(s.cidr, str) for s in subnets):
            cidrs = [s.cidr for s in subnets] + [s.ipv6_cidr for s in subnets if isinstance(s.ipv6_cidr, str)]
            found = AddressSet.of(c for c in cidrs if isinstance(c, str))
            if found:
                return ("subnets", tuple(sorted(s.uid for s in subnets))), found
        vpc = self.estate.vpcs.get(workload.vpc) if isinstance(workload.vpc, str) else None
        if vpc is None and subnets and isinstance(subnets[0].vpc, str):
            vpc = self.estate.vpcs.get(subnets[0].vpc)
        if vpc is not None and vpc.cidrs and all(isinstance(c, str) for c in vpc.cidrs):
            found = AddressSet.of(c for c in vpc.cidrs if isinstance(c, str))
            if found:
                return ("vpc", vpc.uid), found
        return None, None

    # -------------------------------------------------------------- exposure

    def routes_to_igw(self, subnet: Subnet) -> bool | None:
        """Whether the subnet's route table sends the internet to an internet gateway."""
        table = self.subnet_table.get(subnet.uid) or (
            self.main_table.get(subnet.vpc) if isinstance(subnet.vpc, str) else None)
        if table is None:
            return None
        unsure = False
        for route in table.routes:
            if is_unknown(route.destination):
                unsure = True
                continue
            if route.destination in ("0.0.0.0/0", "::/0"):
                if route.target_kind == "igw":
                    return True
                if route.target_kind == "unknown":
                    unsure = True
        return None if unsure else False

    def exposure_state(self, workload: Workload) -> str:
        """``exposure(workload).state``, remembered per public flag and subnets (the
        state depends on nothing else)."""
        key = (workload.public, tuple(workload.subnets))
        found = self._state_cache.get(key)
        if found is None:
            found = self._state_cache[key] = self.exposure(workload).state
        return found

    def exposure(self, workload: Workload) -> Exposure:
        """Whether the internet can address the workload (see the module docs)."""
        name = workload.address
        if workload.public is False:
            return Exposure(NONE, f"the code gives {name} no public address")
        subnets = self.known_subnets(workload)
        routes = [self.routes_to_igw(s) for s in subnets] if subnets else []
        if workload.public is True:
            if routes and all(r is False for r in routes):
                return Exposure(NONE, f"{name} has a public address but its subnets do not route to an internet gateway")
            return Exposure(CONFIRMED, f"{name} has a public address")
        if subnets:
            for subnet, route in zip(subnets, routes):
                if subnet.map_public_ip is True and route is True:
                    return Exposure(CONFIRMED, f"{name} is in {subnet.address}, which maps public IPs and "
                                               "routes to an internet gateway")
            if all(s.map_public_ip is False or r is False for s, r in zip(subnets, routes)):
                return Exposure(NONE, f"{name}'s subnets give it no public address or no internet route")
        return Exposure(UNCONFIRMED, f"exposure unconfirmed: the code does not say whether {name} has a public address")

    # -------------------------------------------------------------- network ACLs

    def acl_of(self, subnet: Subnet) -> NetworkAcl | None:
        acl = self.subnet_acl.get(subnet.uid)
        if acl is None and isinstance(subnet.vpc, str):
            acl = self.default_acl.get(subnet.vpc)
        return acl

    def nacl_internet_ingress(self, workload: Workload) -> Traffic | None:
        """What the ACLs of the workload's subnets let in from an arbitrary internet host;
        None when no ACL narrows it (or the code does not say where the workload is)."""
        subnets = self.known_subnets(workload)
        if not subnets:
            return None
        allowed = Traffic()
        narrowed = False
        for subnet in subnets:
            acl = self.acl_of(subnet)
            found = self._acl_internet(acl) if acl is not None else None
            if found is None:
                return None  # this subnet lets everything in: no narrowing overall
            narrowed = True
            allowed = allowed.union(found)
        return allowed if narrowed else None

    def _acl_internet(self, acl: NetworkAcl) -> Traffic | None:
        if acl.uid not in self._acl_cache:
            self._acl_cache[acl.uid] = acl_internet_ingress(acl)
        return self._acl_cache[acl.uid]


def acl_internet_ingress(acl: NetworkAcl) -> Traffic | None:
    """The traffic an ACL's inbound entries allow from an arbitrary internet host, or None
    when an entry that could matter is unknown (then the ACL is not used to narrow)."""
    entries: list[tuple[int, str, Traffic]] = []
    for entry in acl.entries:
        if entry.egress:
            continue
        number, cidr, proto, lo, hi = entry.rule_number, entry.cidr, entry.protocol, entry.from_port, entry.to_port
        if not isinstance(number, int) or not isinstance(cidr, str) or not isinstance(proto, str) \
                or isinstance(lo, Unknown) or isinstance(hi, Unknown):
            return None
        if AddressSet.of([cidr]).is_internet:
            entries.append((number, entry.action, Traffic.of(proto, lo, hi)))
    remaining, allowed = _EVERYTHING, Traffic()
    for _, action, traffic in sorted(entries, key=lambda e: e[0]):
        matched = traffic.intersection(remaining)
        if action == "allow":
            allowed = allowed.union(matched)
        remaining = remaining.difference(traffic)
        if not remaining:
            break
    return allowed
