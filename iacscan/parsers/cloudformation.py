"""Read CloudFormation templates (YAML or JSON) into the model.

Which of the YAML/JSON files are templates is decided by content: an
``AWSTemplateFormatVersion``, a ``Transform`` naming ``AWS::Serverless``, or a
``Resources`` mapping whose entries have ``Type: AWS::…``. Other files (CI configs,
``package.json``, Terraform plans…) are skipped silently, most of them by a cheap text
check before any decoding. A file that looks like a template (its text mentions
``AWSTemplateFormatVersion`` or ``AWS::``, or it is a ``.template``) but cannot be
decoded becomes a ``ParseError`` with the decoder's line.

Decoding uses cfn-lint's decoder (short-form tags become long form; nodes carry line
marks). Values are resolved by ``cfn_intrinsics`` against parameter defaults, overridden
by ``--parameters FILE`` (the AWS CLI's ``[{"ParameterKey", "ParameterValue"}]`` list or
a ``{"Parameters": {...}}`` object). Resources whose ``Condition`` is false are left out.
``Fn::ForEach`` loops are expanded. Not read: nested stacks' contents (their outputs are
Unknown), macros and transforms other than the SAM ``Globals`` section and
``AWS::LanguageExtensions``, and files over 5 MB that do not name ``AWSTemplateFormatVersion``
in their first 64 KB (CloudFormation itself accepts at most 1 MB). Files over the limits of
``iacscan.limits`` (size, nesting depth, YAML alias expansion, time) that look like
templates become a ``ParseError`` naming the limit.

With a cache directory, what each file contributed is reused while it is unchanged
(``cfn_cache``), so a scan of unchanged templates neither decodes them nor imports cfn-lint.
"""
from __future__ import annotations

import json
import logging
from functools import partial
from collections.abc import Callable
from pathlib import Path
from typing import TYPE_CHECKING, Any

from iacscan.discover import relative
from iacscan.limits import LimitExceeded, check_nesting, check_tree, current, deadline
from iacscan.model import Direction, Estate, ParseError
from iacscan.parsers import cfn_alerting as alerting
from iacscan.parsers import cfn_groups as groups
from iacscan.parsers import cfn_links as links
from iacscan.parsers import cfn_network as net
from iacscan.parsers import cfn_workloads as wl
from iacscan.parsers.cfn_common import Builder
from iacscan.parsers.cfn_intrinsics import NO_VALUE, TemplateContext, line_of

if TYPE_CHECKING:
    from iacscan.parsers.cfn_cache import TemplateCache

SOURCE = "cloudformation"
#: Larger files are only read when their first 64 KB name AWSTemplateFormatVersion.
_BIG = 5_000_000
_ENV_PARAMETERS = {"environment", "env", "stage", "environmentname", "envtype"}

Handler = Callable[[Builder, str, dict[str, Any], int], None]


def _handlers() -> list[dict[str, Handler]]:
    """Resource handlers in phases: a later phase may look at what an earlier one built."""
    first: dict[str, Handler] = {
        "AWS::EC2::VPC": net.build_vpc, "AWS::EC2::Subnet": net.build_subnet,
        "AWS::EC2::RouteTable": net.build_route_table, "AWS::EC2::InternetGateway": net.build_igw,
        "AWS::EC2::NetworkAcl": net.build_nacl, "AWS::EC2::PrefixList": net.build_prefix_list,
        "AWS::EC2::Volume": net.build_volume, "AWS::CloudTrail::Trail": net.build_trail,
        "AWS::Config::ConfigurationRecorder": lambda b, i, p, ln: net.build_config(b, i, p, ln, "recorder"),
        "AWS::Config::DeliveryChannel": lambda b, i, p, ln: net.build_config(b, i, p, ln, "delivery_channel"),
        "AWS::EC2::SecurityGroup": groups.build_group,
        "AWS::EC2::LaunchTemplate": wl.build_launch_template,
        "AWS::AutoScaling::LaunchConfiguration": wl.build_launch_configuration,
    }
    for kind, spec in wl.SPECS.items():
        first[kind] = partial(wl.build_spec, kind=kind, spec=spec)
    for kind in (wl.ELBV2, "AWS::ElasticLoadBalancing::LoadBalancer"):
        first[kind] = partial(wl.build_load_balancer, kind=kind)
    first["AWS::Serverless::Function"] = wl.build_serverless_function
    first["AWS::ECS::Service"] = wl.build_ecs_service
    second: dict[str, Handler] = {
        "AWS::EC2::Instance": wl.build_instance,
        "AWS::RDS::DBInstance": wl.build_db_instance,
        "AWS::AutoScaling::AutoScalingGroup": wl.build_autoscaling_group,
        "AWS::ElasticLoadBalancingV2::Listener": links.build_listener,
        "AWS::EC2::SecurityGroupIngress": lambda b, i, p, ln: groups.build_standalone(b, i, p, ln, Direction.INGRESS),
        "AWS::EC2::SecurityGroupEgress": lambda b, i, p, ln: groups.build_standalone(b, i, p, ln, Direction.EGRESS),
        "AWS::EC2::Route": net.build_route, "AWS::EC2::SubnetRouteTableAssociation": net.build_route_association,
        "AWS::EC2::VPCGatewayAttachment": net.build_gateway_attachment, "AWS::EC2::VPCCidrBlock": net.build_vpc_cidr,
        "AWS::EC2::NetworkAclEntry": net.build_nacl_entry,
        "AWS::EC2::SubnetNetworkAclAssociation": net.build_nacl_association,
        "AWS::EC2::FlowLog": net.build_flow_log,
        "AWS::Logs::MetricFilter": alerting.build_metric_filter, "AWS::CloudWatch::Alarm": alerting.build_alarm,
        "AWS::Events::Rule": alerting.build_event_rule,
    }
    third: dict[str, Handler] = {"AWS::EC2::EIP": links.build_eip, "AWS::EC2::EIPAssociation": links.build_eip}
    return [first, second, third]


HANDLERS = _handlers()
HANDLED = frozenset(kind for phase in HANDLERS for kind in phase)


def is_template(data: object) -> bool:
    """True when decoded ``data`` is a CloudFormation template."""
    if not isinstance(data, dict):
        return False
    if "AWSTemplateFormatVersion" in data:
        return True
    transform = data.get("Transform")
    transforms = transform if isinstance(transform, list) else [transform]
    if any(isinstance(t, str) and t.startswith("AWS::Serverless") for t in transforms):
        return True
    resources = data.get("Resources")
    if not isinstance(resources, dict):
        return False
    return any(isinstance(r, dict) and isinstance(r.get("Type"), str) and r["Type"].startswith("AWS::")
               for r in resources.values())


def parse_documents(root: Path, files: list[Path], parameter_file: Path | None,
                    cache_dir: Path | None = None) -> Estate:
    """Parse the CloudFormation templates among YAML/JSON files; skip other files silently.

    With ``cache_dir``, what each file that reached the decoder contributed is kept there
    (``cfn_cache``) and reused while the file, its path, the parameter overrides and the
    limits are unchanged: a scan whose templates are all unchanged does not import cfn-lint.
    """
    estate = Estate(root=str(root))
    overrides = _load_parameter_file(root, parameter_file, estate) if parameter_file else {}
    logging.getLogger("cfnlint").setLevel(logging.CRITICAL)
    cache = None
    if cache_dir is not None:
        from iacscan.parsers.cfn_cache import TemplateCache

        cache = TemplateCache(cache_dir, overrides)
    for path in files:
        rel = relative(root, path)
        try:
            _parse_file(path, rel, overrides, estate, cache)
        except LimitExceeded as exc:  # iacscan.limits: too big, too deep, too slow
            estate.errors.append(ParseError(rel, exc.line, str(exc)))
            if rel not in estate.files:
                estate.files.append(rel)
        except Exception as exc:  # noqa: BLE001 - one bad file must not stop the scan
            estate.errors.append(ParseError(rel, 0, f"internal error reading this template: {exc!r}"))
            if rel not in estate.files:
                estate.files.append(rel)
    return estate


def _parse_file(path: Path, rel: str, overrides: dict[str, str], estate: Estate,
                cache: TemplateCache | None = None) -> None:
    is_template_name = path.name.lower().endswith(".template")
    try:
        size = path.stat().st_size
        if size > current().file_size:  # iacscan.limits; reported only for what looks like a template
            if is_template_name or _declares_version(path, loosely=True):
                raise LimitExceeded("file-size", f"the file is {size} bytes, larger than iacscan reads")
            return
        if size > _BIG and not _declares_version(path):
            return  # far beyond CloudFormation's 1 MB limit and not announced as a template
        raw = path.read_bytes()
    except OSError as exc:
        if is_template_name:
            estate.errors.append(ParseError(rel, 0, f"cannot read file: {exc.strerror or exc}"))
        return
    text = raw.decode("utf-8", errors="replace")
    looks_cfn = is_template_name or "AWSTemplateFormatVersion" in text or "AWS::" in text
    if not looks_cfn or ("Resources" not in text and "AWSTemplateFormatVersion" not in text):
        return
    if "\ufffd" in text and b"\xef\xbf\xbd" not in raw:
        line = text.count("\n", 0, text.index("\ufffd")) + 1
        estate.errors.append(ParseError(rel, line, "the file is not valid UTF-8"))
        estate.files.append(rel)
        return
    key = cache.key(raw, rel) if cache is not None else ""
    cached = cache.get(key) if cache is not None else None
    if cached is not None:
        estate.merge(cached)
        return
    contribution = Estate()  # what this file adds; kept only when it was read to the end
    try:
        check_nesting(text)
        with deadline("reading the template"):
            _decode_and_build(text, rel, overrides, contribution)
    finally:
        estate.merge(contribution)  # on a failure too: what it added before (file, source), as uncached
    if cache is not None:
        cache.put(key, contribution)


def _decode_and_build(text: str, rel: str, overrides: dict[str, str], estate: Estate) -> None:
    from cfnlint.decode import decode_str  # ~1.5 s to import: only once a file looks like a template

    data, matches = decode_str(text)
    if matches and "recursion" in str(getattr(matches[0], "message", "")):
        raise LimitExceeded("depth", "the document nests more deeply than the decoder can follow")
    if data is None or matches:
        first = matches[0] if matches else None
        line = int(getattr(first, "linenumber", 0) or 0)
        message = getattr(first, "message", "") or "the template could not be decoded"
        estate.errors.append(ParseError(rel, line, f"cannot decode template: {message}"))
        estate.files.append(rel)
        return
    if not is_template(data):
        return
    check_tree(data)  # aliases are shared by the decoder; the resolver would copy them
    estate.files.append(rel)
    estate.sources.add(SOURCE)
    estate.merge(build_template(data, rel, overrides))


def _declares_version(path: Path, loosely: bool = False) -> bool:
    """Whether the first 64 KB of a (large) file name ``AWSTemplateFormatVersion``
    (``loosely``: or ``AWS::``, enough to report a file over the size limit)."""
    with path.open("rb") as handle:
        head = handle.read(65536)
    return b"AWSTemplateFormatVersion" in head or (loosely and b"AWS::" in head)


def build_template(data: dict[str, Any], rel: str, overrides: dict[str, str]) -> Estate:
    """The model of one decoded template (``rel``: its path relative to the scan root)."""
    estate = Estate()
    ctx = TemplateContext(data, overrides)
    builder = Builder(ctx=ctx, file=rel, estate=estate, env_hint=_env_hint(ctx))
    resources = ctx.resources
    for logical_id, resource in resources.items():
        if not isinstance(resource, dict) or not isinstance(resource.get("Type"), str):
            continue  # Fn::ForEach and other non-resource entries
        if resource["Type"] not in HANDLED or ctx.exists(str(logical_id)) is False:
            continue
        props = resource.get("Properties")
        line = line_of(logical_id, line_of(resource))
        resolved = ctx.resolve(props, line) if isinstance(props, dict) else {}
        if resolved is NO_VALUE or not isinstance(resolved, dict):
            resolved = {}
        builder.resources[str(logical_id)] = (str(resource["Type"]), resolved, line)
    for phase in HANDLERS:
        for logical_id, (rtype, props, line) in builder.resources.items():
            handler = phase.get(rtype)
            if handler is not None:
                handler(builder, logical_id, props, line)
    groups.finish_groups(builder)
    links.finish_workloads(builder)
    return estate


def _env_hint(ctx: TemplateContext) -> str | None:
    for name, value in ctx.parameters.items():
        if name.lower() in _ENV_PARAMETERS and isinstance(value, str) and value:
            return value
    return None


def _load_parameter_file(root: Path, path: Path, estate: Estate) -> dict[str, str]:
    """Parameter values from an AWS CLI / CodePipeline parameter file."""
    rel = relative(root, path)
    try:
        data = json.loads(path.read_text(encoding="utf-8"))
    except (OSError, UnicodeDecodeError, ValueError) as exc:
        line = getattr(exc, "lineno", 0) or 0
        estate.errors.append(ParseError(rel, int(line), f"cannot read parameter file: {exc}"))
        return {}
    if isinstance(data, dict) and isinstance(data.get("Parameters"), dict):
        return {str(k): _param_text(v) for k, v in data["Parameters"].items()}
    if isinstance(data, list):
        out: dict[str, str] = {}
        for item in data:
            if isinstance(item, dict) and "ParameterKey" in item and "ParameterValue" in item:
                out[str(item["ParameterKey"])] = _param_text(item["ParameterValue"])
        return out
    estate.errors.append(ParseError(rel, 1, "parameter file is neither a list of ParameterKey/ParameterValue "
                                            "nor an object with Parameters"))
    return {}


def _param_text(value: Any) -> str:
    if isinstance(value, list):
        return ",".join(str(v) for v in value)
    if isinstance(value, bool):
        return "true" if value else "false"
    return str(value)


