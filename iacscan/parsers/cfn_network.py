"""CloudFormation network and account resources → VPCs, subnets, routes, NACLs, prefix
lists, and the AWS40x material (volumes, flow logs, Config, CloudTrail)."""
from __future__ import annotations

from typing import Any

from iacscan.model import (
    ConfigRecorder, FlowLog, InternetGateway, NaclEntry, NetworkAcl, PrefixList, Route, RouteTable,
    Subnet, Trail, Unknown, Volume, Vpc,
)
from iacscan.net import normalize_cidr, normalize_protocol
from iacscan.parsers.cfn_alerting import log_group
from iacscan.parsers.cfn_common import (
    SUBNET, VPC, Builder, as_bool, as_dict, as_int, as_list, as_str, tags_of,
)

RT = "AWS::EC2::RouteTable"
IGW = "AWS::EC2::InternetGateway"
NACL = "AWS::EC2::NetworkAcl"

#: Route property → (target kind, CloudFormation type it may reference)
_ROUTE_TARGETS = (
    ("NatGatewayId", "nat", "AWS::EC2::NatGateway"),
    ("TransitGatewayId", "tgw", "AWS::EC2::TransitGateway"),
    ("VpcPeeringConnectionId", "pcx", "AWS::EC2::VPCPeeringConnection"),
    ("NetworkInterfaceId", "eni", "AWS::EC2::NetworkInterface"),
    ("InstanceId", "instance", "AWS::EC2::Instance"),
    ("VpcEndpointId", "vpce", "AWS::EC2::VPCEndpoint"),
    ("EgressOnlyInternetGatewayId", "unknown", "AWS::EC2::EgressOnlyInternetGateway"),
    ("CarrierGatewayId", "unknown", "AWS::EC2::CarrierGateway"),
    ("LocalGatewayId", "unknown", "AWS::EC2::LocalGateway"),
)


def _cidr(value: Any) -> str | Unknown | None:
    text = as_str(value)
    if isinstance(text, str):
        return normalize_cidr(text) or text
    return text


def build_vpc(b: Builder, logical_id: str, props: dict[str, Any], line: int) -> None:
    cidr = _cidr(props.get("CidrBlock"))
    if cidr is None and props.get("Ipv4IpamPoolId") is not None:
        cidr = Unknown("the VPC CIDR is allocated from an IPAM pool")
    uid = b.uid(logical_id)
    b.estate.vpcs[uid] = Vpc(uid=uid, address=logical_id, cidrs=[cidr] if cidr is not None else [],
                             tags=tags_of(props.get("Tags")), location=b.loc(line))


def build_vpc_cidr(b: Builder, logical_id: str, props: dict[str, Any], line: int) -> None:
    """``AWS::EC2::VPCCidrBlock``: a secondary CIDR of a VPC."""
    vpc = b.ref_id(props.get("VpcId"), (VPC,))
    cidr = _cidr(props.get("CidrBlock") or props.get("Ipv6CidrBlock"))
    if isinstance(vpc, str) and vpc in b.estate.vpcs and cidr is not None:
        b.estate.vpcs[vpc].cidrs.append(cidr)


def build_subnet(b: Builder, logical_id: str, props: dict[str, Any], line: int) -> None:
    flag = as_bool(props.get("MapPublicIpOnLaunch"))
    uid = b.uid(logical_id)
    b.estate.subnets[uid] = Subnet(
        uid=uid, address=logical_id, vpc=b.ref_id(props.get("VpcId"), (VPC,)), cidr=_cidr(props.get("CidrBlock")),
        ipv6_cidr=_cidr(props.get("Ipv6CidrBlock")), map_public_ip=flag if isinstance(flag, bool) else None,
        tags=tags_of(props.get("Tags")), location=b.loc(line))


def build_route_table(b: Builder, logical_id: str, props: dict[str, Any], line: int) -> None:
    uid = b.uid(logical_id)
    b.estate.route_tables[uid] = RouteTable(uid=uid, address=logical_id, vpc=b.ref_id(props.get("VpcId"), (VPC,)),
                                            location=b.loc(line))


def build_route(b: Builder, logical_id: str, props: dict[str, Any], line: int) -> None:
    table = b.estate.route_tables.get(str(b.ref_id(props.get("RouteTableId"), (RT,))))
    if table is None:
        return
    destination = _cidr(props.get("DestinationCidrBlock") or props.get("DestinationIpv6CidrBlock"))
    if destination is None:
        destination = Unknown("the route has no destination CIDR (prefix list destinations are not read)")
    kind, target = "unknown", props.get("GatewayId")
    if target is not None:
        ref = b.ref_id(target, (IGW,))
        is_igw = (isinstance(ref, str) and (ref in b.estate.internet_gateways or ref.startswith("igw-")))
        table.routes.append(Route(destination, "igw" if is_igw else "unknown", ref if ref is not None else ""))
        return
    for key, route_kind, rtype in _ROUTE_TARGETS:
        if props.get(key) is not None:
            ref = b.ref_id(props.get(key), (rtype,))
            table.routes.append(Route(destination, route_kind, ref if ref is not None else ""))
            return
    table.routes.append(Route(destination, kind, Unknown("the route names no target")))


def build_route_association(b: Builder, logical_id: str, props: dict[str, Any], line: int) -> None:
    table = b.estate.route_tables.get(str(b.ref_id(props.get("RouteTableId"), (RT,))))
    subnet = b.ref_id(props.get("SubnetId"), (SUBNET,))
    if table is not None and subnet is not None and subnet not in table.subnets:
        table.subnets.append(subnet)


def build_igw(b: Builder, logical_id: str, props: dict[str, Any], line: int) -> None:
    uid = b.uid(logical_id)
    b.estate.internet_gateways[uid] = InternetGateway(uid=uid, address=logical_id, vpc=None, location=b.loc(line))


def build_gateway_attachment(b: Builder, logical_id: str, props: dict[str, Any], line: int) -> None:
    gateway = b.estate.internet_gateways.get(str(b.ref_id(props.get("InternetGatewayId"), (IGW,))))
    if gateway is not None:
        gateway.vpc = b.ref_id(props.get("VpcId"), (VPC,))


def build_nacl(b: Builder, logical_id: str, props: dict[str, Any], line: int) -> None:
    uid = b.uid(logical_id)
    b.estate.nacls[uid] = NetworkAcl(uid=uid, address=logical_id, vpc=b.ref_id(props.get("VpcId"), (VPC,)),
                                     location=b.loc(line))


def build_nacl_entry(b: Builder, logical_id: str, props: dict[str, Any], line: int) -> None:
    nacl = b.estate.nacls.get(str(b.ref_id(props.get("NetworkAclId"), (NACL,))))
    if nacl is None:
        b.note(logical_id, "NetworkAclId of NetworkAclEntry", "the network ACL is not declared in this template", line)
        return
    protocol = props.get("Protocol")
    proto = protocol if isinstance(protocol, Unknown) else normalize_protocol(protocol)
    action = as_str(props.get("RuleAction"))
    ports = as_dict(props.get("PortRange"))
    icmp = as_dict(props.get("Icmp"))
    from_port, to_port = as_int(ports.get("From")), as_int(ports.get("To"))
    if proto in ("icmp", "icmpv6") and icmp:
        from_port, to_port = as_int(icmp.get("Type")), as_int(icmp.get("Code"))
    cidr = _cidr(props.get("CidrBlock") or props.get("Ipv6CidrBlock"))
    rule_number = as_int(props.get("RuleNumber"), "RuleNumber")
    nacl.entries.append(NaclEntry(
        rule_number=rule_number if rule_number is not None else Unknown("RuleNumber is not set"),
        egress=as_bool(props.get("Egress")) is True, protocol=proto,
        action=action.lower() if isinstance(action, str) else "deny",
        cidr=cidr if cidr is not None else Unknown("no CIDR"), from_port=from_port, to_port=to_port,
        location=b.loc(line)))


def build_nacl_association(b: Builder, logical_id: str, props: dict[str, Any], line: int) -> None:
    nacl = b.estate.nacls.get(str(b.ref_id(props.get("NetworkAclId"), (NACL,))))
    subnet = b.ref_id(props.get("SubnetId"), (SUBNET,))
    if nacl is not None and subnet is not None and subnet not in nacl.subnets:
        nacl.subnets.append(subnet)


def build_prefix_list(b: Builder, logical_id: str, props: dict[str, Any], line: int) -> None:
    uid = b.uid(logical_id)
    entries: list[str | Unknown] = []
    for entry in as_list(props.get("Entries")):
        cidr = _cidr(as_dict(entry).get("Cidr")) if not isinstance(entry, Unknown) else entry
        if cidr is not None:
            entries.append(cidr)
    b.estate.prefix_lists[uid] = PrefixList(uid=uid, address=logical_id, entries=entries, location=b.loc(line))


def build_volume(b: Builder, logical_id: str, props: dict[str, Any], line: int) -> None:
    uid = b.uid(logical_id)
    b.estate.volumes[uid] = Volume(uid=uid, address=logical_id, kind="ebs_volume",
                                   encrypted=as_bool(props.get("Encrypted"), "Encrypted"), location=b.loc(line))


_FLOW_LOG_TARGETS = {"VPC": VPC, "Subnet": SUBNET, "NetworkInterface": "AWS::EC2::NetworkInterface"}


def build_flow_log(b: Builder, logical_id: str, props: dict[str, Any], line: int) -> None:
    rtype = as_str(props.get("ResourceType"))
    kind = _FLOW_LOG_TARGETS.get(rtype) if isinstance(rtype, str) else None
    target = b.ref_id(props.get("ResourceId"), (kind,)) if kind else Unknown(f"flow log on a {rtype}")
    uid = b.uid(logical_id)
    b.estate.flow_logs[uid] = FlowLog(uid=uid, address=logical_id,
                                      target=target if target is not None else Unknown("no ResourceId"),
                                      location=b.loc(line))


def build_config(b: Builder, logical_id: str, props: dict[str, Any], line: int, kind: str) -> None:
    uid = b.uid(logical_id)
    b.estate.config_recorders[uid] = ConfigRecorder(uid=uid, address=logical_id, kind=kind, location=b.loc(line))


def build_trail(b: Builder, logical_id: str, props: dict[str, Any], line: int) -> None:
    def flag(key: str, default: bool) -> bool | Unknown:
        value = as_bool(props.get(key), key)
        return default if value is None else value

    uid = b.uid(logical_id)
    b.estate.trails[uid] = Trail(uid=uid, address=logical_id, multi_region=flag("IsMultiRegionTrail", False),
                                 log_validation=flag("EnableLogFileValidation", False),
                                 logging=flag("IsLogging", True), location=b.loc(line),
                                 cloudwatch_log_group=log_group(b, props.get("CloudWatchLogsLogGroupArn")))

