"""What ``iacscan snapshot`` reads: one ``Call`` per snapshot key, read-only APIs only.

Each entry names the boto3 client, the API operation (its AWS name, as IAM and
CloudTrail spell it), the key of the list in the response, how to sort the items
(their id), and whether results are flattened from a nested list (instances sit in
reservations). ``READ_PREFIXES`` is the contract: every operation iacscan calls starts
with one of them (``tests/live`` checks it on the wire).
"""
from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

READ_PREFIXES = ("Describe", "List", "Get")


@dataclass(frozen=True)
class Call:
    """One snapshot key: ``client.<operation>`` → ``response[result]`` sorted by ``sort_key``."""

    key: str  # the key in the snapshot's region object
    service: str  # boto3 client name
    operation: str  # API operation name (DescribeSecurityGroups)
    result: str  # list key in the response
    sort_key: str  # id field of each item
    params: dict[str, Any] = field(default_factory=dict)
    nested: str = ""  # items are response[result][*][nested] (DescribeInstances)
    keep: tuple[str, ...] = ()  # keep only these fields of each item (empty: all)
    drop: tuple[str, ...] = ()  # fields AWS changes by itself every few minutes (not configuration)

    @property
    def method(self) -> str:
        """The boto3 method name (``describe_security_groups``)."""
        return snake(self.operation)


def snake(operation: str) -> str:
    """``DescribeDBInstances`` → ``describe_db_instances`` (boto3's method names)."""
    out: list[str] = []
    for i, ch in enumerate(operation):
        if ch.isupper() and i > 0:
            prev, nxt = operation[i - 1], operation[i + 1] if i + 1 < len(operation) else ""
            if prev.islower() or prev.isdigit() or (nxt and nxt.islower()):
                out.append("_")
        out.append(ch.lower())
    return "".join(out)


#: Lambda's ListFunctions also returns environment variables, which often hold secrets:
#: a snapshot keeps only what the network model needs.
_LAMBDA_FIELDS = ("FunctionName", "FunctionArn", "Runtime", "PackageType", "VpcConfig", "LastModified")

#: Region-level calls, in the order they are made.
REGION_CALLS: tuple[Call, ...] = (
    Call("security_groups", "ec2", "DescribeSecurityGroups", "SecurityGroups", "GroupId"),
    Call("security_group_rules", "ec2", "DescribeSecurityGroupRules", "SecurityGroupRules", "SecurityGroupRuleId"),
    Call("instances", "ec2", "DescribeInstances", "Reservations", "InstanceId", nested="Instances"),
    Call("network_interfaces", "ec2", "DescribeNetworkInterfaces", "NetworkInterfaces", "NetworkInterfaceId"),
    Call("vpcs", "ec2", "DescribeVpcs", "Vpcs", "VpcId"),
    Call("subnets", "ec2", "DescribeSubnets", "Subnets", "SubnetId"),
    Call("route_tables", "ec2", "DescribeRouteTables", "RouteTables", "RouteTableId"),
    Call("internet_gateways", "ec2", "DescribeInternetGateways", "InternetGateways", "InternetGatewayId"),
    Call("network_acls", "ec2", "DescribeNetworkAcls", "NetworkAcls", "NetworkAclId"),
    Call("managed_prefix_lists", "ec2", "DescribeManagedPrefixLists", "PrefixLists", "PrefixListId"),
    Call("flow_logs", "ec2", "DescribeFlowLogs", "FlowLogs", "FlowLogId"),
    Call("volumes", "ec2", "DescribeVolumes", "Volumes", "VolumeId"),
    Call("db_instances", "rds", "DescribeDBInstances", "DBInstances", "DBInstanceIdentifier",
         drop=("LatestRestorableTime",)),
    Call("db_clusters", "rds", "DescribeDBClusters", "DBClusters", "DBClusterIdentifier",
         drop=("LatestRestorableTime", "EarliestRestorableTime")),
    Call("cache_clusters", "elasticache", "DescribeCacheClusters", "CacheClusters", "CacheClusterId",
         params={"ShowCacheNodeInfo": True}),
    Call("cache_subnet_groups", "elasticache", "DescribeCacheSubnetGroups", "CacheSubnetGroups",
         "CacheSubnetGroupName"),
    Call("load_balancers", "elbv2", "DescribeLoadBalancers", "LoadBalancers", "LoadBalancerArn"),
    Call("classic_load_balancers", "elb", "DescribeLoadBalancers", "LoadBalancerDescriptions", "LoadBalancerName"),
    Call("lambda_functions", "lambda", "ListFunctions", "Functions", "FunctionName", keep=_LAMBDA_FIELDS),
    Call("config_recorders", "config", "DescribeConfigurationRecorders", "ConfigurationRecorders", "name"),
    Call("config_recorder_status", "config", "DescribeConfigurationRecorderStatus",
         "ConfigurationRecordersStatus", "name"),
    Call("delivery_channels", "config", "DescribeDeliveryChannels", "DeliveryChannels", "name"),
    Call("trails", "cloudtrail", "DescribeTrails", "trailList", "TrailARN"),
)

#: Per-item follow-up calls: snapshot key → (parent key, parent id field, Call, request parameter).
#: Their results are stored as ``{parent id: [items]}`` (or ``{parent id: response}``).
PREFIX_LIST_ENTRIES = Call("prefix_list_entries", "ec2", "GetManagedPrefixListEntries", "Entries", "Cidr")
LISTENERS = Call("listeners", "elbv2", "DescribeListeners", "Listeners", "ListenerArn")
TRAIL_STATUS = Call("trail_status", "cloudtrail", "GetTrailStatus", "", "",
                    keep=("IsLogging", "LatestDeliveryError", "StartLoggingTime", "StopLoggingTime"))
#: The AMIs the region's instances run (AWS407), asked by id in chunks of ``IMAGE_CHUNK``;
#: deprecated AMIs are only listed when asked for.
IMAGES = Call("images", "ec2", "DescribeImages", "Images", "ImageId", params={"IncludeDeprecated": True},
              keep=("ImageId", "Name", "OwnerId", "ImageOwnerAlias", "CreationDate", "DeprecationTime", "State"))
IMAGE_CHUNK = 100
CALLER_IDENTITY = Call("account", "sts", "GetCallerIdentity", "", "")
DESCRIBE_REGIONS = Call("regions", "ec2", "DescribeRegions", "Regions", "RegionName")

ALL_CALLS: tuple[Call, ...] = REGION_CALLS + (PREFIX_LIST_ENTRIES, LISTENERS, TRAIL_STATUS, CALLER_IDENTITY,
                                              DESCRIBE_REGIONS, IMAGES)


def is_read_only(operation: str) -> bool:
    """True for an API operation that only reads (Describe*, List*, Get*)."""
    return operation.startswith(READ_PREFIXES)
