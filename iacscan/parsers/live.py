"""A live snapshot (``iacscan snapshot``; format in ``iacscan.live.collect``) → the model.

Every object of region R of account A has scope ``live:A:R`` (``live:unknown:R`` when
the snapshot has no account), ``uid = make_uid(scope, <live id>)``, its live id as
``address`` and ``live_id``, ``source = "live"`` where the model has the field, and
``Location(file="", line=0, resource_id=<id or ARN>)``. What is read, and how, is
documented in ``live_groups`` (security groups, prefix lists), ``live_network`` (VPCs,
subnets, routes, gateways, ACLs, flow logs, volumes, Config, CloudTrail) and
``live_workloads`` (instances, databases, caches, load balancers, functions, ENIs).

Calls that failed when the snapshot was taken are kept in ``Estate.live_failures``
(the snapshot's ``failures`` entries) and noted in ``Estate.unresolved`` (IAC002), so a
report says what could not be checked. A file that is not a snapshot iacscan can read
(bad JSON, another version) becomes a ``ParseError`` (IAC001).
"""
from __future__ import annotations

import json
from pathlib import Path
from typing import Any

from iacscan.live.services import REGION_CALLS
from iacscan.model import Estate, Location, ParseError, Unresolved, make_uid
from iacscan.parsers import live_groups, live_network, live_workloads
from iacscan.parsers.live_common import RegionBuilder

SUPPORTED_VERSIONS = (1,)

#: Build order: what others refer to first (VPCs before subnets before workloads…).
_STEPS = (
    live_network.build_vpcs, live_network.build_subnets, live_network.build_gateways,
    live_network.build_route_tables, live_network.build_nacls, live_groups.build_prefix_lists,
    live_groups.build_groups, live_workloads.build_instances, live_workloads.build_databases,
    live_workloads.build_caches, live_workloads.build_load_balancers, live_workloads.build_functions,
    live_workloads.build_interfaces, live_network.build_flow_logs, live_network.build_volumes,
    live_network.build_config, live_network.build_trails,
)

#: API operation → the snapshot keys it fills (for the failure notes).
_KEYS_OF = {(c.service, c.operation): c.key for c in REGION_CALLS}
_KEYS_OF.update({("ec2", "GetManagedPrefixListEntries"): "prefix_list_entries",
                 ("elbv2", "DescribeListeners"): "listeners", ("cloudtrail", "GetTrailStatus"): "trail_status",
                 ("ec2", "DescribeImages"): "images"})


def load_snapshot(path: Path) -> dict[str, Any] | ParseError:
    """The snapshot in ``path``, or a ``ParseError`` saying why it cannot be used."""
    name = str(path)
    try:
        data = json.loads(path.read_text(encoding="utf-8"))
    except OSError as exc:
        return ParseError(name, 0, f"cannot read the snapshot: {exc.strerror or exc}")
    except UnicodeDecodeError:
        return ParseError(name, 0, "the snapshot is not UTF-8 text")
    except json.JSONDecodeError as exc:
        return ParseError(name, exc.lineno, f"the snapshot is not valid JSON: {exc.msg}")
    return check_snapshot(data, name)


def check_snapshot(data: Any, name: str = "<snapshot>") -> dict[str, Any] | ParseError:
    """``data`` when it is a snapshot of a supported version, else a ``ParseError``."""
    if not isinstance(data, dict) or not isinstance(data.get("regions"), dict):
        return ParseError(name, 0, "not an iacscan snapshot (no \"regions\" object)")
    if data.get("version") not in SUPPORTED_VERSIONS:
        return ParseError(name, 0, f"snapshot version {data.get('version')!r} is not supported "
                                   f"(this iacscan reads version {', '.join(map(str, SUPPORTED_VERSIONS))})")
    return data


def parse_snapshot(source: str | Path | dict[str, Any], root: str = ".") -> Estate:
    """The estate a snapshot describes (a path to its JSON file, or the loaded object)."""
    estate = Estate(root=root)
    name = str(source) if not isinstance(source, dict) else "<snapshot>"
    data = load_snapshot(Path(source)) if not isinstance(source, dict) else check_snapshot(source)
    if isinstance(data, ParseError):
        estate.errors.append(data)
        return estate
    estate.sources.add("live")
    taken = data.get("taken_at")
    estate.snapshot_time = taken if isinstance(taken, str) and taken else None
    account = str(data.get("account") or "unknown")
    failures = [f for f in data.get("failures") or [] if isinstance(f, dict)]
    estate.live_failures.extend(failures)
    for region in sorted(data["regions"]):
        region_data = data["regions"][region]
        if not isinstance(region_data, dict):
            estate.errors.append(ParseError(name, 0, f"region {region!r} of the snapshot is not an object"))
            continue
        builder = RegionBuilder(estate, account, str(region), region_data, _failed_keys(failures, region))
        for step in _STEPS:
            step(builder)
        _images(estate, region_data)
    for failure in failures:
        estate.unresolved.append(_note(account, failure))
    return estate


def _images(estate: Estate, region: dict[str, Any]) -> None:
    """``images`` (DescribeImages) → ``estate.images`` by image id (AWS407)."""
    for image in region.get("images") or []:
        if isinstance(image, dict) and isinstance(image.get("ImageId"), str):
            estate.images[image["ImageId"]] = {
                "creation_date": image.get("CreationDate"), "deprecation_time": image.get("DeprecationTime"),
                "owner": image.get("ImageOwnerAlias") or image.get("OwnerId"), "name": image.get("Name"),
                "state": image.get("State"),
            }


def _failed_keys(failures: list[dict[str, Any]], region: str) -> dict[str, str]:
    out: dict[str, str] = {}
    for failure in failures:
        if failure.get("region") != region:
            continue
        key = _KEYS_OF.get((str(failure.get("service")), str(failure.get("operation"))))
        if key:
            out.setdefault(key, f"{failure.get('error')}: {failure.get('message')}")
    return out


def _note(account: str, failure: dict[str, Any]) -> Unresolved:
    region = str(failure.get("region") or "global")
    service, operation = str(failure.get("service") or "?"), str(failure.get("operation") or "?")
    key = _KEYS_OF.get((service, operation), operation)
    resource = f"live:{account}:{region}"
    return Unresolved(resource=resource, uid=make_uid(resource, f"{service}:{operation}"),
                      what=f"{key.replace('_', ' ')} ({service} {operation})",
                      reason=f"the call failed when the snapshot was taken: {failure.get('error')}: "
                             f"{failure.get('message')}",
                      location=Location(file="", line=0, resource_id=region))
