"""Read live AWS state with boto3 into a snapshot: versioned JSON of raw API shapes.

Only read calls are made (``iacscan.live.services``: Describe*/List*/Get* and
``sts:GetCallerIdentity``), through paginators wherever the API paginates, with
botocore's ``standard`` retry mode (5 attempts in all, throttling included). Regions
are read in parallel (one worker thread and one set of clients per region, all from
one boto3 session, so credentials are resolved once). The standard boto3 environment
applies (``AWS_PROFILE``, ``AWS_REGION``/``AWS_DEFAULT_REGION``, ``AWS_ENDPOINT_URL``,
shared config and credentials files); credentials are never printed, logged or written.

A call that is denied or fails is recorded in ``failures`` and the rest goes on; the
snapshot key it would have filled is then absent from that region's object (absent
means "not read", an empty list means "read, nothing there").

Snapshot format (version 1)::

    {
      "version": 1,
      "tool": {"name": "iacscan", "version": "0.1.0"},
      "taken_at": "2026-11-27T17:45:00Z",          # UTC, ISO 8601
      "account": "123456789012",                   # null when STS could not say
      "regions": {
        "us-east-1": {
          "security_groups": [...],        # ec2 DescribeSecurityGroups  SecurityGroups[]
          "security_group_rules": [...],   # ec2 DescribeSecurityGroupRules  SecurityGroupRules[]
          "instances": [...],              # ec2 DescribeInstances  Reservations[].Instances[] (flattened)
          "network_interfaces": [...],     # ec2 DescribeNetworkInterfaces
          "vpcs": [...], "subnets": [...], "route_tables": [...],
          "internet_gateways": [...], "network_acls": [...],
          "managed_prefix_lists": [...],   # ec2 DescribeManagedPrefixLists  PrefixLists[]
          "prefix_list_entries": {"pl-…": [{"Cidr": ..., "Description": ...}]},
          "flow_logs": [...], "volumes": [...],
          "db_instances": [...], "db_clusters": [...],          # rds
          "cache_clusters": [...], "cache_subnet_groups": [...], # elasticache
          "load_balancers": [...],                                # elbv2 (ALB/NLB/GWLB)
          "listeners": {"arn:aws:elasticloadbalancing:…": [...]}, # elbv2 DescribeListeners per LB
          "classic_load_balancers": [...],                        # elb LoadBalancerDescriptions[]
          "lambda_functions": [...],       # lambda ListFunctions, only FunctionName, FunctionArn,
                                           # Runtime, PackageType, VpcConfig, LastModified
          "config_recorders": [...], "config_recorder_status": [...], "delivery_channels": [...],
          "trails": [...],                 # cloudtrail DescribeTrails trailList[] (shadow trails too)
          "trail_status": {"arn:aws:cloudtrail:…": {"IsLogging": true, ...}}  # GetTrailStatus:
                                           # IsLogging, LatestDeliveryError, Start/StopLoggingTime
          "images": [...],                 # ec2 DescribeImages of the instances' AMIs (IncludeDeprecated):
                                           # ImageId, Name, OwnerId, ImageOwnerAlias, CreationDate,
                                           # DeprecationTime, State
        }
      },
      "failures": [{"region": "us-east-1", "service": "ec2", "operation": "DescribeFlowLogs",
                    "error": "UnauthorizedOperation", "message": "..."}]
    }

Items keep the exact shapes of the AWS API (field names as boto3 returns them);
datetimes become ISO 8601 strings. Lists are sorted by their id field and object keys
are sorted, so two snapshots of the same estate are byte-identical apart from
``taken_at``; RDS ``LatestRestorableTime``/``EarliestRestorableTime`` (which AWS moves by
itself) are left out for that reason. Global failures (STS) use region ``"global"``.
``iacscan.parsers.live.parse_snapshot`` turns a snapshot into the model.
"""
from __future__ import annotations

import base64
import datetime as dt
import json
import os
import threading
from collections.abc import Callable, Iterable
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field
from typing import Any, Protocol

import boto3
from botocore.config import Config
from botocore.exceptions import (
    BotoCoreError, ClientError, ConnectTimeoutError, EndpointConnectionError, NoCredentialsError,
    PartialCredentialsError, ProfileNotFound,
)

from iacscan import __version__
from iacscan.live.progress import Progress
from iacscan.live.services import (
    CALLER_IDENTITY, DESCRIBE_REGIONS, IMAGE_CHUNK, IMAGES, LISTENERS, PREFIX_LIST_ENTRIES, REGION_CALLS,
    TRAIL_STATUS, Call, is_read_only,
)

SNAPSHOT_VERSION = 1
MAX_ATTEMPTS = 5
MAX_WORKERS = 8
GLOBAL = "global"

#: Errors after which the other calls to the same service in the region are not tried.
_UNREACHABLE = (EndpointConnectionError, ConnectTimeoutError)
#: Errors that make the whole snapshot pointless (no credentials at all).
_FATAL = (NoCredentialsError, PartialCredentialsError, ProfileNotFound)


class CollectError(Exception):
    """The snapshot cannot be taken at all (no credentials, no region, unknown profile)."""


class _Stopped(Exception):
    """A region worker stops because the snapshot was interrupted or failed elsewhere."""


def client_config() -> Config:
    """Standard retry mode with 5 attempts in all, set explicitly (botocore's default changed)."""
    return Config(retries={"mode": "standard", "total_max_attempts": MAX_ATTEMPTS},
                  user_agent_extra=f"iacscan/{__version__}")


class ClientSource(Protocol):
    """Gives a boto3 client for a service in a region (tests hand in stubbed clients)."""

    def client(self, service: str, region: str) -> Any: ...


class SessionClients:
    """boto3 clients from one session, created under a lock (creating clients is not
    thread-safe; using them is). One session means credentials are resolved once (one MFA
    prompt, one assume-role), and each region's worker gets its own clients."""

    def __init__(self, profile: str | None = None,
                 make_session: Callable[..., boto3.Session] = boto3.Session) -> None:
        self.profile = profile
        self.make_session = make_session
        self._lock = threading.Lock()
        self._session: boto3.Session | None = None
        self._clients: dict[tuple[str, str], Any] = {}

    def session(self) -> boto3.Session:
        """The session (created on first use)."""
        with self._lock:
            return self._get_session()

    def _get_session(self) -> boto3.Session:
        if self._session is None:
            try:
                self._session = self.make_session(profile_name=self.profile)
            except ProfileNotFound as exc:
                raise CollectError(str(exc)) from None
        return self._session

    def client(self, service: str, region: str) -> Any:
        with self._lock:
            key = (service, region)
            if key not in self._clients:
                self._clients[key] = self._get_session().client(service, region_name=region, config=client_config())
            return self._clients[key]

    def default_region(self) -> str | None:
        """The region the environment or profile names: ``AWS_REGION`` first (as the AWS CLI
        and the other SDKs read it; botocore itself does not), then ``AWS_DEFAULT_REGION``,
        then the profile's ``region``."""
        return os.environ.get("AWS_REGION") or self.session().region_name


@dataclass
class Failure:
    """One call that did not succeed: what is missing and why."""

    region: str
    service: str
    operation: str
    error: str
    message: str

    def as_dict(self) -> dict[str, str]:
        return {"region": self.region, "service": self.service, "operation": self.operation,
                "error": self.error, "message": self.message}


@dataclass
class RegionResult:
    data: dict[str, Any] = field(default_factory=dict)
    failures: list[Failure] = field(default_factory=list)


def _failure(region: str, call: Call, exc: Exception) -> Failure:
    if isinstance(exc, ClientError):
        error = exc.response.get("Error", {})
        code = str(error.get("Code") or "ClientError")
        message = str(error.get("Message") or exc)
    else:
        code, message = type(exc).__name__, str(exc)
    return Failure(region, call.service, call.operation, code, message[:500])


def fetch(client: Any, call: Call, **params: Any) -> Any:
    """Run one read call (every page): the list of items under ``call.result`` (sorted by
    ``call.sort_key``), or the response object for calls without a result list."""
    if not is_read_only(call.operation):  # the contract, checked where calls are made
        raise ValueError(f"refusing to call {call.operation}: not a read operation")
    params = {**call.params, **params}
    if not call.result:
        response = dict(getattr(client, call.method)(**params))
        response.pop("ResponseMetadata", None)
        return {k: v for k, v in response.items() if k in call.keep} if call.keep else response
    if client.can_paginate(call.method):
        pages: Iterable[dict[str, Any]] = client.get_paginator(call.method).paginate(**params)
    else:
        pages = [getattr(client, call.method)(**params)]
    items: list[Any] = []
    for page in pages:
        for item in page.get(call.result) or []:
            if call.nested:
                items.extend(item.get(call.nested) or [])
            elif call.keep:
                items.append({k: item[k] for k in call.keep if k in item})
            elif call.drop:
                items.append({k: v for k, v in item.items() if k not in call.drop})
            else:
                items.append(item)
    if call.sort_key:
        items.sort(key=lambda it: str(it.get(call.sort_key, "")) if isinstance(it, dict) else "")
    return items


class _RegionReader:
    """Reads one region; a call that fails becomes a ``Failure`` and the rest goes on."""

    def __init__(self, source: ClientSource, region: str, regions: set[str], progress: Progress,
                 stop: threading.Event) -> None:
        self.source, self.region, self.regions, self.progress = source, region, regions, progress
        self.stop = stop
        self.result = RegionResult()
        self.unreachable: dict[str, str] = {}  # service → why

    def read(self, call: Call, **params: Any) -> Any:
        """The call's result, or None when it failed (recorded)."""
        if self.stop.is_set():
            raise _Stopped(self.region)
        if call.service in self.unreachable:
            self.result.failures.append(Failure(self.region, call.service, call.operation, "Skipped",
                                                self.unreachable[call.service]))
            return None
        self.progress.step(self.region, call.operation)
        try:
            return fetch(self.source.client(call.service, self.region), call, **params)
        except _FATAL as exc:
            raise CollectError(f"AWS credentials: {exc}") from None
        except (ClientError, BotoCoreError) as exc:
            failure = _failure(self.region, call, exc)
            self.result.failures.append(failure)
            if isinstance(exc, _UNREACHABLE):
                self.unreachable[call.service] = f"{call.service} unreachable: {failure.error} on {call.operation}"
            return None

    def run(self) -> RegionResult:
        data = self.result.data
        for call in REGION_CALLS:
            items = self.read(call)
            if items is not None:
                data[call.key] = items
        self._per_item(PREFIX_LIST_ENTRIES, data.get("managed_prefix_lists"), "PrefixListId", "PrefixListId")
        self._per_item(LISTENERS, data.get("load_balancers"), "LoadBalancerArn", "LoadBalancerArn")
        trails = [t for t in data.get("trails") or []
                  if t.get("HomeRegion") == self.region or t.get("HomeRegion") not in self.regions]
        self._per_item(TRAIL_STATUS, trails, "TrailARN", "Name")
        self._images(data.get("instances"))
        return self.result

    def _images(self, instances: list[dict[str, Any]] | None) -> None:
        """``images``: DescribeImages of the instances' AMIs, in chunks; when a chunk names an
        AMI that no longer exists (``InvalidAMIID.*``), its ids are asked one by one so the
        others are still read (each missing one is a failure)."""
        if instances is None:
            return
        ids = sorted({str(i["ImageId"]) for i in instances if isinstance(i, dict) and i.get("ImageId")})
        found: list[Any] = []
        for start in range(0, len(ids), IMAGE_CHUNK):
            chunk = ids[start:start + IMAGE_CHUNK]
            before = len(self.result.failures)
            items = self.read(IMAGES, ImageIds=chunk)
            if items is None and len(chunk) > 1 and self.result.failures[before:] \
                    and self.result.failures[-1].error.startswith("InvalidAMIID"):
                del self.result.failures[before:]
                for image_id in chunk:
                    found.extend(self.read(IMAGES, ImageIds=[image_id]) or [])
                continue
            found.extend(items or [])
        found.sort(key=lambda it: str(it.get("ImageId", "")) if isinstance(it, dict) else "")
        self.result.data[IMAGES.key] = found

    def _per_item(self, call: Call, parents: list[dict[str, Any]] | None, id_field: str, param: str) -> None:
        if parents is None:
            return
        out: dict[str, Any] = {}
        for parent in parents:
            ident = parent.get(id_field)
            if not ident:
                continue
            found = self.read(call, **{param: ident})
            if found is not None:
                out[str(ident)] = found
        self.result.data[call.key] = out


def account_of(source: ClientSource, region: str) -> tuple[str | None, list[Failure]]:
    """The account id (``sts:GetCallerIdentity``), or None and the failure."""
    try:
        response = fetch(source.client("sts", region), CALLER_IDENTITY)
    except _FATAL as exc:
        raise CollectError(f"AWS credentials: {exc}") from None
    except _UNREACHABLE as exc:  # nothing else would answer either: stop instead of retrying every call
        raise CollectError(f"cannot reach AWS: {exc}") from None
    except (ClientError, BotoCoreError) as exc:
        return None, [_failure(GLOBAL, CALLER_IDENTITY, exc)]
    account = response.get("Account") if isinstance(response, dict) else None
    return (str(account) if account else None), []


def enabled_regions(source: ClientSource, region: str) -> list[str]:
    """Every region enabled for the account (``ec2:DescribeRegions``; opted-in ones only)."""
    try:
        regions = fetch(source.client("ec2", region), DESCRIBE_REGIONS)
    except _FATAL as exc:
        raise CollectError(f"AWS credentials: {exc}") from None
    except (ClientError, BotoCoreError) as exc:
        failure = _failure(region, DESCRIBE_REGIONS, exc)
        raise CollectError(f"cannot list the account's regions ({failure.error}: {failure.message}); "
                           "pass --region instead") from None
    return sorted(str(r["RegionName"]) for r in regions if isinstance(r, dict) and r.get("RegionName"))


def collect(regions: list[str] | None = None, *, all_regions: bool = False, profile: str | None = None,
            source: ClientSource | None = None, progress: Progress | None = None) -> dict[str, Any]:
    """Take a snapshot of ``regions`` (default: the environment's region) and return it.

    Raises ``CollectError`` when nothing can be read at all (no credentials, unknown
    profile, no region); every other failure is recorded in the snapshot.
    """
    clients = source or SessionClients(profile)
    home = _home_region(clients, regions, all_regions)
    account, failures = account_of(clients, home)
    wanted = enabled_regions(clients, home) if all_regions else sorted(set(regions or [home]))
    progress = progress or Progress(len(wanted), enabled=False)
    progress.total = len(wanted)
    results: dict[str, RegionResult] = {}
    stop = threading.Event()
    pool = ThreadPoolExecutor(max_workers=max(1, min(MAX_WORKERS, len(wanted))))
    try:
        futures = {r: pool.submit(_read_region, clients, r, set(wanted), progress, stop) for r in wanted}
        for region, future in futures.items():
            results[region] = future.result()
    except BaseException:  # Ctrl-C or a fatal error: the other regions stop at their next call
        stop.set()
        pool.shutdown(wait=False, cancel_futures=True)
        raise
    pool.shutdown()
    progress.done()
    for result in results.values():
        failures.extend(result.failures)
    failures.sort(key=lambda f: (f.region, f.service, f.operation, f.error))
    snapshot = {
        "version": SNAPSHOT_VERSION,
        "tool": {"name": "iacscan", "version": __version__},
        "taken_at": dt.datetime.now(dt.timezone.utc).replace(microsecond=0).isoformat().replace("+00:00", "Z"),
        "account": account,
        "regions": {r: results[r].data for r in sorted(results)},
        "failures": [f.as_dict() for f in failures],
    }
    return json_safe(snapshot)


def _read_region(source: ClientSource, region: str, regions: set[str], progress: Progress,
                 stop: threading.Event) -> RegionResult:
    result = _RegionReader(source, region, regions, progress, stop).run()
    progress.region_done(region)
    return result


def _home_region(source: ClientSource, regions: list[str] | None, all_regions: bool) -> str:
    """Where STS and DescribeRegions are asked: the first region asked for, else the
    environment's, else (for ``--all-regions`` only) us-east-1."""
    if regions:
        return sorted(regions)[0]
    default = source.default_region() if isinstance(source, SessionClients) else None
    if not default and all_regions:
        return "us-east-1"
    if not default:
        raise CollectError("no AWS region: pass --region REGION (or --all-regions), "
                           "or set AWS_REGION / AWS_DEFAULT_REGION")
    return default


def json_safe(value: Any) -> Any:
    """``value`` with datetimes as ISO 8601 text and bytes as base64 (JSON-serialisable)."""
    if isinstance(value, dict):
        return {str(k): json_safe(v) for k, v in value.items()}
    if isinstance(value, (list, tuple)):
        return [json_safe(v) for v in value]
    if isinstance(value, dt.datetime):
        return value.isoformat()
    if isinstance(value, dt.date):
        return value.isoformat()
    if isinstance(value, (bytes, bytearray)):
        return base64.b64encode(bytes(value)).decode("ascii")
    if isinstance(value, (str, int, float, bool)) or value is None:
        return value
    return str(value)


def dumps(snapshot: dict[str, Any]) -> str:
    """The snapshot as deterministic JSON text (sorted keys, one trailing newline)."""
    return json.dumps(snapshot, sort_keys=True, indent=1, ensure_ascii=False) + "\n"


__all__ = ["SNAPSHOT_VERSION", "CollectError", "ClientSource", "SessionClients", "Failure", "collect",
           "dumps", "json_safe", "client_config"]
