"""The source-neutral model every parser produces and every rule reads.

Parsers (Terraform HCL, plan JSON, CloudFormation, live AWS) turn their input into
these records and nothing else. Rules never see raw parser output.

Identity: every object has an ``address`` (what users see: a Terraform address such
as ``module.net.aws_security_group.web``, a CloudFormation logical id, or a live
``sg-…`` id) and a ``uid`` that is unique across the whole scan (two Terraform roots
may both declare ``aws_security_group.web``). References between objects (a rule's
peer group, a workload's groups, a subnet's VPC) always use ``uid``.
``make_uid(scope, address)`` builds one; ``scope`` is the module directory (Terraform),
the template file (CloudFormation) or ``live:<account>:<region>``.

A value the parser could not resolve is an ``Unknown`` carrying the reason, never a
guess and never silently dropped.
"""
from __future__ import annotations

from dataclasses import dataclass, field
from enum import Enum
from typing import Any, TypeGuard


@dataclass(frozen=True)
class Unknown:
    """A value the parser could not resolve, with the reason (e.g. ``var.cidr has no value``)."""

    reason: str

    def __str__(self) -> str:
        return f"<unknown: {self.reason}>"


def is_unknown(value: object) -> TypeGuard[Unknown]:
    """True when ``value`` is an ``Unknown``."""
    return isinstance(value, Unknown)


def make_uid(scope: str, address: str) -> str:
    """The scan-wide unique id of an object declared at ``address`` within ``scope``."""
    return f"{scope}#{address}"


@dataclass(frozen=True)
class Location:
    """Where an object is declared: a file relative to the scan root and a 1-based line.

    Live objects have ``file == ""`` and carry their AWS id or ARN in ``resource_id``.
    ``line`` is 0 when the source gives no line. What a CloudTrail event declared
    (``iacscan events``) is located at the event: ``file`` is the CloudTrail file ("" for
    events read with ``lookup_events``), ``resource_id`` and ``event_id`` its event id, and
    the ``event_*``/``actor``/``source_ip``/``region`` fields say when, who, from where.
    """

    file: str
    line: int = 0
    end_line: int = 0
    resource_id: str = ""
    event_id: str = ""
    event_name: str = ""
    event_time: str = ""  # ISO 8601, UTC, as CloudTrail records it
    actor: str = ""  # the caller's ARN (userIdentity.arn), else what identifies it
    source_ip: str = ""  # sourceIPAddress (an IP, or an AWS service name)
    region: str = ""  # awsRegion

    def event_facts(self) -> dict[str, str]:
        """The event facts of a location at a CloudTrail event (empty for any other)."""
        if not self.event_id:
            return {}
        return {"event_id": self.event_id, "event_name": self.event_name, "event_time": self.event_time,
                "actor": self.actor, "source_ip": self.source_ip, "region": self.region}


class Direction(str, Enum):
    INGRESS = "ingress"
    EGRESS = "egress"


class PeerKind(str, Enum):
    CIDR = "cidr"  # value: a normalised IPv4 or IPv6 network ("0.0.0.0/0", "::/0")
    GROUP = "group"  # value: the uid of a security group in the model, or a raw sg-… id
    PREFIX_LIST = "prefix_list"  # value: the uid of a PrefixList in the model, or a raw pl-… id
    SELF = "self"  # value: "" (the group the rule belongs to)
    UNKNOWN = "unknown"  # value: "" ; see Peer.unknown for the reason


#: Normalised protocol names. Other IP protocol numbers stay as their decimal string
#: ("50"); a value AWS would reject stays as given and SG107 reports it.
PROTOCOLS = ("tcp", "udp", "icmp", "icmpv6", "all")


@dataclass(frozen=True)
class Peer:
    """The other side of one rule: exactly one CIDR, group, prefix list, self, or unknown."""

    kind: PeerKind
    value: str = ""
    unknown: Unknown | None = None

    @property
    def is_ipv6(self) -> bool:
        return self.kind is PeerKind.CIDR and ":" in self.value


@dataclass(frozen=True)
class Rule:
    """One atomic security-group rule: one direction, protocol, port range and peer.

    A Terraform block or CloudFormation entry with several CIDRs/groups becomes several
    ``Rule`` objects sharing a location.

    ``protocol`` is normalised (``-1``/``all`` → ``all``; ``6``/``TCP`` → ``tcp``; ``17`` →
    ``udp``; ``1`` → ``icmp``; ``58`` → ``icmpv6``; other numbers as strings; anything
    else is kept as written for SG107). ``from_port``/``to_port`` are the declared
    values (ICMP: type/code; ``None`` when absent, e.g. protocol all). ``origin`` is the
    uid of the standalone rule resource that declared it (``aws_security_group_rule``,
    ``aws_vpc_security_group_ingress_rule``, CloudFormation ``SecurityGroupIngress``…),
    or ``""`` when the rule is inline in the group. ``origin_address`` is its address.
    """

    direction: Direction
    protocol: str | Unknown
    from_port: int | None | Unknown
    to_port: int | None | Unknown
    peer: Peer
    description: str | None | Unknown = None
    location: Location = field(default_factory=lambda: Location(""))
    origin: str = ""
    origin_address: str = ""


@dataclass
class SecurityGroup:
    """A security group with all its rules (inline and standalone merged).

    ``implicit_egress`` is True when AWS's default allow-all egress stays in force
    because nothing removed it: CloudFormation/API-created groups with no egress rule.
    Terraform's ``aws_security_group`` removes it, so it is False there.
    """

    uid: str
    address: str
    name: str | Unknown | None
    description: str | Unknown | None
    vpc: str | Unknown | None  # uid of a Vpc in the model, a raw vpc-… id, Unknown, or None
    tags: dict[str, str] = field(default_factory=dict)
    rules: list[Rule] = field(default_factory=list)
    location: Location = field(default_factory=lambda: Location(""))
    is_default: bool = False
    implicit_egress: bool = False
    source: str = "terraform"  # terraform | cloudformation | plan | live
    live_id: str = ""  # sg-… when known (plan prior_state, live)
    environment: str | None = None  # filled by iacscan.environments after parsing
    env_hint: str | None = None  # a parser's extra clue (e.g. CloudFormation Environment parameter)


class Tier(str, Enum):
    WEB = "web"  # internet-facing load balancers and edges
    APP = "app"
    DATA = "data"  # databases and caches


@dataclass
class Workload:
    """Anything that has network interfaces and security groups.

    ``kind`` is the source's resource type (``aws_instance``, ``AWS::RDS::DBInstance``…).
    ``groups`` holds group uids (or raw sg-… ids, or Unknown for unresolved values).
    ``public`` is True/False when the code says, None when it does not.
    ``ports`` are the ports the workload listens on when the code says (a DB port,
    a listener port); empty when unknown.
    """

    uid: str
    address: str
    kind: str
    tier: Tier = Tier.APP
    groups: list[str | Unknown] = field(default_factory=list)
    vpc: str | Unknown | None = None
    subnets: list[str | Unknown] = field(default_factory=list)
    public: bool | None = None
    ports: list[int] = field(default_factory=list)
    tags: dict[str, str] = field(default_factory=dict)
    name: str | Unknown | None = None
    location: Location = field(default_factory=lambda: Location(""))
    source: str = "terraform"
    live_id: str = ""
    metadata_tokens: str | Unknown | None = None  # IMDS http_tokens: required/optional, or disabled (no IMDS); None = not set
    image: str | Unknown | None = None  # AMI id where the workload names one
    #: how the code gave ``image`` (AWS407): ``literal`` (an ``ami-…`` id written in the code,
    #: a variable or parameter default included), ``lookup`` (a data source, an SSM parameter),
    #: ``""`` (inherited from a launch template, unresolved, live, plan, or not set)
    image_origin: str = ""
    environment: str | None = None
    env_hint: str | None = None


@dataclass
class Vpc:
    uid: str
    address: str
    cidrs: list[str | Unknown] = field(default_factory=list)
    tags: dict[str, str] = field(default_factory=dict)
    location: Location = field(default_factory=lambda: Location(""))
    live_id: str = ""
    environment: str | None = None


@dataclass
class Subnet:
    uid: str
    address: str
    vpc: str | Unknown | None
    cidr: str | Unknown | None = None
    ipv6_cidr: str | Unknown | None = None
    map_public_ip: bool | None = None
    tags: dict[str, str] = field(default_factory=dict)
    location: Location = field(default_factory=lambda: Location(""))
    live_id: str = ""


@dataclass
class Route:
    destination: str | Unknown  # CIDR
    target_kind: str  # igw | nat | tgw | pcx | eni | instance | vpce | local | unknown
    target: str | Unknown = ""


@dataclass
class RouteTable:
    uid: str
    address: str
    vpc: str | Unknown | None
    routes: list[Route] = field(default_factory=list)
    subnets: list[str | Unknown] = field(default_factory=list)  # associated subnet uids
    is_main: bool = False
    location: Location = field(default_factory=lambda: Location(""))


@dataclass
class InternetGateway:
    uid: str
    address: str
    vpc: str | Unknown | None
    location: Location = field(default_factory=lambda: Location(""))


@dataclass(frozen=True)
class NaclEntry:
    rule_number: int | Unknown
    egress: bool
    protocol: str | Unknown  # normalised like Rule.protocol
    action: str  # allow | deny
    cidr: str | Unknown
    from_port: int | None | Unknown = None
    to_port: int | None | Unknown = None
    location: Location = field(default_factory=lambda: Location(""))


@dataclass
class NetworkAcl:
    uid: str
    address: str
    vpc: str | Unknown | None
    subnets: list[str | Unknown] = field(default_factory=list)
    entries: list[NaclEntry] = field(default_factory=list)
    is_default: bool = False
    location: Location = field(default_factory=lambda: Location(""))


@dataclass
class PrefixList:
    uid: str
    address: str
    entries: list[str | Unknown] = field(default_factory=list)  # CIDRs
    location: Location = field(default_factory=lambda: Location(""))
    live_id: str = ""


@dataclass
class Volume:
    """An EBS volume or a block device of an instance or launch template (AWS401)."""

    uid: str
    address: str
    kind: str  # ebs_volume | root_block_device | ebs_block_device
    encrypted: bool | Unknown | None  # None = not set (AWS default: unencrypted unless account default)
    owner: str = ""  # uid of the workload for block devices
    location: Location = field(default_factory=lambda: Location(""))


@dataclass
class FlowLog:
    uid: str
    address: str
    target: str | Unknown  # uid (or raw id) of the VPC, subnet or ENI it logs
    location: Location = field(default_factory=lambda: Location(""))


@dataclass
class ConfigRecorder:
    uid: str
    address: str
    kind: str  # recorder | delivery_channel
    location: Location = field(default_factory=lambda: Location(""))


@dataclass
class Trail:
    uid: str
    address: str
    multi_region: bool | Unknown | None
    log_validation: bool | Unknown | None
    logging: bool | Unknown | None = True
    location: Location = field(default_factory=lambda: Location(""))
    #: the CloudWatch Logs group the trail delivers to (AWS408): its name (from a literal
    #: ARN), the uid of a log group declared in the same template, Unknown, or None (not set)
    cloudwatch_log_group: str | Unknown | None = None


@dataclass
class AmiLookup:
    """A Terraform ``data "aws_ami"`` lookup (AWS407). ``owners``: the ``owners`` list plus
    the values of ``owner-id``/``owner-alias`` filters; None (or empty) when nothing
    restricts who may own the image."""

    uid: str
    address: str
    owners: list[str | Unknown] | Unknown | None
    name_filter: str | Unknown | None = None  # the first ``name`` filter value, or ``name_regex``
    most_recent: bool | Unknown | None = None
    location: Location = field(default_factory=lambda: Location(""))


@dataclass
class LogMetricFilter:
    """A CloudWatch Logs metric filter (``aws_cloudwatch_log_metric_filter``,
    ``AWS::Logs::MetricFilter``). ``log_group``: the log group's name, the uid of a log group
    declared in the same template, Unknown, or None. ``pattern`` is the filter pattern text."""

    uid: str
    address: str
    log_group: str | Unknown | None
    pattern: str | Unknown
    metric_name: str | Unknown | None
    metric_namespace: str | Unknown | None
    location: Location = field(default_factory=lambda: Location(""))


@dataclass(frozen=True)
class AlarmMetric:
    """One metric an alarm watches. Dimension values that name a workload of the model are
    its uid (``aws_instance.web.id``, CloudFormation ``!Ref Web``); others are as written
    (``i-…``, an autoscaling group's name) or Unknown."""

    metric_name: str | Unknown | None
    namespace: str | Unknown | None
    dimensions: dict[str, str | Unknown] = field(default_factory=dict)


@dataclass
class MetricAlarm:
    """A CloudWatch metric alarm (``aws_cloudwatch_metric_alarm``, ``AWS::CloudWatch::Alarm``).

    ``metric_name``/``namespace``/``dimensions`` describe its single metric (None when it
    uses metric math); ``queries`` the metrics of its ``metric_query`` blocks / ``Metrics``
    entries. ``has_actions``: whether it notifies anything (``alarm_actions``/``AlarmActions``
    non-empty and actions enabled); Unknown when unresolved."""

    uid: str
    address: str
    metric_name: str | Unknown | None
    namespace: str | Unknown | None
    dimensions: dict[str, str | Unknown] = field(default_factory=dict)
    location: Location = field(default_factory=lambda: Location(""))
    has_actions: bool | Unknown | None = None
    queries: list[AlarmMetric] = field(default_factory=list)

    def metrics(self) -> list[AlarmMetric]:
        """Every metric the alarm watches (its own, then its queries')."""
        own = [AlarmMetric(self.metric_name, self.namespace, dict(self.dimensions))] \
            if self.metric_name is not None else []
        return own + list(self.queries)


@dataclass
class EventRule:
    """An EventBridge rule (``aws_cloudwatch_event_rule``, ``AWS::Events::Rule``) with an event
    pattern: the decoded JSON object, the text when it is not valid JSON, Unknown, or None
    (a scheduled rule)."""

    uid: str
    address: str
    event_pattern: dict[str, Any] | str | Unknown | None
    enabled: bool | Unknown | None = True
    location: Location = field(default_factory=lambda: Location(""))


@dataclass(frozen=True)
class ParseError:
    """A file that could not be read or parsed (IAC001)."""

    file: str
    line: int
    message: str


@dataclass(frozen=True)
class Unresolved:
    """A value that decides a finding but could not be resolved (IAC002)."""

    resource: str  # address
    uid: str
    what: str  # e.g. "cidr_blocks of ingress rule"
    reason: str
    location: Location


@dataclass
class Estate:
    """Everything one scan knows: the merged output of all parsers."""

    root: str = "."
    files: list[str] = field(default_factory=list)
    groups: dict[str, SecurityGroup] = field(default_factory=dict)
    workloads: dict[str, Workload] = field(default_factory=dict)
    vpcs: dict[str, Vpc] = field(default_factory=dict)
    subnets: dict[str, Subnet] = field(default_factory=dict)
    route_tables: dict[str, RouteTable] = field(default_factory=dict)
    internet_gateways: dict[str, InternetGateway] = field(default_factory=dict)
    nacls: dict[str, NetworkAcl] = field(default_factory=dict)
    prefix_lists: dict[str, PrefixList] = field(default_factory=dict)
    volumes: dict[str, Volume] = field(default_factory=dict)
    flow_logs: dict[str, FlowLog] = field(default_factory=dict)
    config_recorders: dict[str, ConfigRecorder] = field(default_factory=dict)
    trails: dict[str, Trail] = field(default_factory=dict)
    ami_lookups: dict[str, AmiLookup] = field(default_factory=dict)
    metric_filters: dict[str, LogMetricFilter] = field(default_factory=dict)
    metric_alarms: dict[str, MetricAlarm] = field(default_factory=dict)
    event_rules: dict[str, EventRule] = field(default_factory=dict)
    #: live AMIs by image id (AWS407): ``{"creation_date", "deprecation_time", "owner",
    #: "name", "state"}`` as ``DescribeImages`` gave them (ISO 8601 text, None when absent)
    images: dict[str, dict[str, Any]] = field(default_factory=dict)
    #: when the (latest) live snapshot was taken, ISO 8601 UTC; None without one (AWS407
    #: judges AMI age at this time, so a snapshot gives the same findings on every scan)
    snapshot_time: str | None = None
    errors: list[ParseError] = field(default_factory=list)
    unresolved: list[Unresolved] = field(default_factory=list)
    #: which sources contributed (terraform, cloudformation, plan, live); AWS403/404 only
    #: judge a configuration when it is a whole account's, see those rules.
    sources: set[str] = field(default_factory=set)
    #: account-level EBS encryption by default (``aws_ebs_encryption_by_default``): True/False
    #: when the configuration says, None when it does not (AWS401).
    ebs_default_encryption: bool | None = None
    #: calls that failed when a live snapshot was taken (the snapshot's ``failures``
    #: entries: region, service, operation, error, message); see ``iacscan.parsers.live``.
    live_failures: list[dict[str, str]] = field(default_factory=list)

    _COLLECTIONS = (
        "groups", "workloads", "vpcs", "subnets", "route_tables", "internet_gateways",
        "nacls", "prefix_lists", "volumes", "flow_logs", "config_recorders", "trails",
        "ami_lookups", "metric_filters", "metric_alarms", "event_rules", "images",
    )

    def merge(self, other: Estate) -> None:
        """Add everything ``other`` holds to this estate (uids are scan-wide unique)."""
        for name in self._COLLECTIONS:
            getattr(self, name).update(getattr(other, name))
        self.files.extend(other.files)
        self.errors.extend(other.errors)
        self.unresolved.extend(other.unresolved)
        self.sources |= other.sources
        self.live_failures.extend(other.live_failures)
        if other.ebs_default_encryption is not None:
            self.ebs_default_encryption = other.ebs_default_encryption
        if other.snapshot_time and (self.snapshot_time is None or other.snapshot_time > self.snapshot_time):
            self.snapshot_time = other.snapshot_time

    def find_group(self, ref: str) -> SecurityGroup | None:
        """The group a rule or workload names: by uid first, then by live id."""
        group = self.groups.get(ref)
        if group is not None:
            return group
        for candidate in self.groups.values():
            if candidate.live_id and candidate.live_id == ref:
                return candidate
        return None


def json_ready(value: Any) -> Any:
    """A JSON-serialisable form of a model value (Unknown → its text)."""
    if isinstance(value, Unknown):
        return str(value)
    if isinstance(value, Enum):
        return value.value
    return value
