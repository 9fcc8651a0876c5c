"""Live network and audit objects: VPCs, subnets, route tables, internet gateways, network
ACLs, flow logs, EBS volumes, AWS Config recorders and delivery channels, CloudTrail trails.

Routes: ``0.0.0.0/0``-style CIDR routes keep their target kind (igw, nat, tgw, pcx, eni,
instance, vpce, local); blackhole routes are left out (they carry nothing); a route to
a prefix-list destination is kept (destination unknown) only when it points at an
internet gateway, so a gateway-endpoint route does not hide a subnet's internet route.
Flow logs count when active. When ``DescribeFlowLogs`` was not read, the region gets a
flow log with an unknown target so AWS402 does not claim its VPCs are unlogged.
"""
from __future__ import annotations

from typing import Any

from iacscan.model import (
    ConfigRecorder, FlowLog, InternetGateway, NaclEntry, NetworkAcl, Route, RouteTable, Subnet, Trail, Unknown,
    Volume, Vpc, is_unknown, make_uid,
)
from iacscan.net import normalize_cidr, normalize_protocol
from iacscan.parsers.live_common import RegionBuilder, as_int, items, tags_of

_ROUTE_TARGETS = (
    ("NatGatewayId", "nat"), ("TransitGatewayId", "tgw"), ("VpcPeeringConnectionId", "pcx"),
    ("NetworkInterfaceId", "eni"), ("InstanceId", "instance"), ("EgressOnlyInternetGatewayId", "unknown"),
    ("CarrierGatewayId", "unknown"), ("LocalGatewayId", "unknown"), ("CoreNetworkArn", "unknown"),
)


def _cidr(text: Any) -> str | None:
    return (normalize_cidr(text) or text) if isinstance(text, str) and text else None


def build_vpcs(b: RegionBuilder) -> None:
    for vpc in items(b.data, "vpcs"):
        ident = vpc.get("VpcId")
        if not isinstance(ident, str):
            continue
        cidrs: list[str | Unknown] = []
        for assoc in vpc.get("CidrBlockAssociationSet") or [{"CidrBlock": vpc.get("CidrBlock")}]:
            state = (assoc.get("CidrBlockState") or {}).get("State", "associated")
            cidr = _cidr(assoc.get("CidrBlock"))
            if cidr and state == "associated" and cidr not in cidrs:
                cidrs.append(cidr)
        for assoc in vpc.get("Ipv6CidrBlockAssociationSet") or []:
            state = (assoc.get("Ipv6CidrBlockState") or {}).get("State", "associated")
            cidr = _cidr(assoc.get("Ipv6CidrBlock"))
            if cidr and state == "associated":
                cidrs.append(cidr)
        uid = b.uid(ident)
        b.estate.vpcs[uid] = Vpc(uid=uid, address=ident, cidrs=cidrs, tags=tags_of(vpc.get("Tags")),
                                 location=b.loc(ident), live_id=ident)


def build_subnets(b: RegionBuilder) -> None:
    for subnet in items(b.data, "subnets"):
        ident = subnet.get("SubnetId")
        if not isinstance(ident, str):
            continue
        ipv6 = next((_cidr(a.get("Ipv6CidrBlock")) for a in subnet.get("Ipv6CidrBlockAssociationSet") or []
                     if (a.get("Ipv6CidrBlockState") or {}).get("State", "associated") == "associated"), None)
        flag = subnet.get("MapPublicIpOnLaunch")
        uid = b.uid(ident)
        b.estate.subnets[uid] = Subnet(uid=uid, address=ident, vpc=b.ref(subnet.get("VpcId"), "vpcs"),
                                       cidr=_cidr(subnet.get("CidrBlock")), ipv6_cidr=ipv6,
                                       map_public_ip=flag if isinstance(flag, bool) else None,
                                       tags=tags_of(subnet.get("Tags")), location=b.loc(ident), live_id=ident)


def build_gateways(b: RegionBuilder) -> None:
    for gateway in items(b.data, "internet_gateways"):
        ident = gateway.get("InternetGatewayId")
        if not isinstance(ident, str):
            continue
        vpc = next((a.get("VpcId") for a in gateway.get("Attachments") or []
                    if a.get("State") in ("available", "attached")), None)
        uid = b.uid(ident)
        b.estate.internet_gateways[uid] = InternetGateway(uid=uid, address=ident, vpc=b.ref(vpc, "vpcs"),
                                                          location=b.loc(ident))


def build_route_tables(b: RegionBuilder) -> None:
    for table in items(b.data, "route_tables"):
        ident = table.get("RouteTableId")
        if not isinstance(ident, str):
            continue
        assocs = [a for a in table.get("Associations") or [] if isinstance(a, dict)]
        subnets: list[str | Unknown] = [r for a in assocs if (r := b.ref(a.get("SubnetId"), "subnets"))]
        routes = [r for r in (_route(b, raw) for raw in table.get("Routes") or []) if r is not None]
        uid = b.uid(ident)
        b.estate.route_tables[uid] = RouteTable(uid=uid, address=ident, vpc=b.ref(table.get("VpcId"), "vpcs"),
                                                routes=routes, subnets=subnets,
                                                is_main=any(a.get("Main") is True for a in assocs),
                                                location=b.loc(ident))


def _route(b: RegionBuilder, raw: dict[str, Any]) -> Route | None:
    if raw.get("State") == "blackhole":
        return None
    gateway = raw.get("GatewayId")
    destination: str | Unknown | None = _cidr(raw.get("DestinationCidrBlock") or raw.get("DestinationIpv6CidrBlock"))
    is_igw = isinstance(gateway, str) and gateway.startswith("igw-")
    if destination is None:
        plist = raw.get("DestinationPrefixListId")
        if not is_igw or not plist:
            return None
        destination = Unknown(f"route to prefix list {plist}")
    if isinstance(gateway, str):
        if gateway == "local":
            return Route(destination, "local", "local")
        if is_igw:
            return Route(destination, "igw", b.ref(gateway, "internet_gateways") or gateway)
        kind = "vpce" if gateway.startswith("vpce-") else "unknown"
        return Route(destination, kind, gateway)
    for key, kind in _ROUTE_TARGETS:
        if raw.get(key):
            return Route(destination, kind, str(raw[key]))
    return Route(destination, "unknown", Unknown("the route names no target"))


def build_nacls(b: RegionBuilder) -> None:
    for acl in items(b.data, "network_acls"):
        ident = acl.get("NetworkAclId")
        if not isinstance(ident, str):
            continue
        subnets: list[str | Unknown] = [r for a in acl.get("Associations") or []
                                        if (r := b.ref(a.get("SubnetId"), "subnets"))]
        uid = b.uid(ident)
        b.estate.nacls[uid] = NetworkAcl(uid=uid, address=ident, vpc=b.ref(acl.get("VpcId"), "vpcs"),
                                         subnets=subnets, entries=[_entry(b, e) for e in acl.get("Entries") or []],
                                         is_default=acl.get("IsDefault") is True, location=b.loc(ident))


def _entry(b: RegionBuilder, raw: dict[str, Any]) -> NaclEntry:
    protocol = normalize_protocol(raw.get("Protocol", "-1"))
    ports = raw.get("PortRange") or {}
    icmp = raw.get("IcmpTypeCode") or {}
    from_port, to_port = as_int(ports.get("From")), as_int(ports.get("To"))
    if protocol in ("icmp", "icmpv6"):
        from_port, to_port = as_int(icmp.get("Type")), as_int(icmp.get("Code"))
    if protocol == "all":
        from_port = to_port = None
    cidr = _cidr(raw.get("CidrBlock") or raw.get("Ipv6CidrBlock"))
    number = as_int(raw.get("RuleNumber"))
    return NaclEntry(rule_number=number if number is not None else Unknown("no rule number"),
                     egress=raw.get("Egress") is True, protocol=protocol,
                     action=str(raw.get("RuleAction", "deny")).lower(),
                     cidr=cidr if cidr is not None else Unknown("entry has no CIDR"),
                     from_port=from_port, to_port=to_port, location=b.loc(str(raw.get("RuleNumber", ""))))


def build_flow_logs(b: RegionBuilder) -> None:
    if not b.read("flow_logs"):
        why = b.failed.get("flow_logs", "not in the snapshot")
        uid = b.uid("flow-logs-not-read")
        b.estate.flow_logs[uid] = FlowLog(uid=uid, address=uid, target=Unknown(f"flow logs not read ({why})"),
                                          location=b.loc(b.region))
        return
    for log in items(b.data, "flow_logs"):
        ident, target = log.get("FlowLogId"), log.get("ResourceId")
        if not isinstance(ident, str) or log.get("FlowLogStatus", "ACTIVE") != "ACTIVE":
            continue
        ref = None
        if isinstance(target, str):
            collection = "vpcs" if target.startswith("vpc-") else "subnets" if target.startswith("subnet-") else ""
            ref = b.ref(target, collection) if collection else target
        uid = b.uid(ident)
        b.estate.flow_logs[uid] = FlowLog(uid=uid, address=ident, target=ref or Unknown("no resource id"),
                                          location=b.loc(ident))


def build_volumes(b: RegionBuilder) -> None:
    for volume in items(b.data, "volumes"):
        ident = volume.get("VolumeId")
        if not isinstance(ident, str):
            continue
        encrypted = volume.get("Encrypted")
        uid = b.uid(ident)
        b.estate.volumes[uid] = Volume(uid=uid, address=ident, kind="ebs_volume",
                                       encrypted=encrypted if isinstance(encrypted, bool) else None,
                                       location=b.loc(ident))


def build_config(b: RegionBuilder) -> None:
    for key, kind in (("config_recorders", "recorder"), ("delivery_channels", "delivery_channel")):
        for item in items(b.data, key):
            name = item.get("name")
            if isinstance(name, str):
                address = f"{kind}/{name}"
                uid = b.uid(address)
                b.estate.config_recorders[uid] = ConfigRecorder(uid=uid, address=address, kind=kind,
                                                                location=b.loc(str(item.get("arn") or name)))


def build_trails(b: RegionBuilder) -> None:
    """Trails (shadow copies of a multi-region trail collapse onto its home region's uid)."""
    status = b.data.get("trail_status")
    status = status if isinstance(status, dict) else {}
    for trail in items(b.data, "trails"):
        arn = trail.get("TrailARN")
        if not isinstance(arn, str):
            continue
        home = trail.get("HomeRegion") or b.region
        uid = make_uid(f"live:{b.account}:{home}", arn)
        existing = b.estate.trails.get(uid)
        if existing is not None and not is_unknown(existing.logging):
            continue
        found = status.get(arn)
        logging: bool | Unknown = Unknown(f"status of {arn} was not read "
                                          f"({b.failed.get('trail_status', 'not in the snapshot')})")
        if isinstance(found, dict) and isinstance(found.get("IsLogging"), bool):
            logging = found["IsLogging"]
        b.estate.trails[uid] = Trail(uid=uid, address=arn, multi_region=bool(trail.get("IsMultiRegionTrail")),
                                     log_validation=bool(trail.get("LogFileValidationEnabled")),
                                     logging=logging, location=b.loc(arn))
