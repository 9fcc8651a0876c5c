"""Read CloudTrail records: log files, ``lookup-events`` output, and ``LookupEvents`` items.

Accepted documents (a file may be gzipped, told by its first bytes, not its name):

- a CloudTrail log file: ``{"Records": [record, ...]}`` (what a trail delivers to S3);
- the output of ``aws cloudtrail lookup-events``: ``{"Events": [{"EventId": ..., "CloudTrailEvent":
  "<the record as a JSON string>", ...}], "NextToken"?: ...}``;
- a plain JSON list of records;
- an EventBridge "AWS API Call via CloudTrail" event, or a list of them (the record is
  the event's ``detail``).

A directory stands for every ``*.json`` and ``*.json.gz`` file under it (the S3 layout
``AWSLogs/<account>/CloudTrail/<region>/<yyyy>/<mm>/<dd>/``).

Each record is classified: a security-group event (``iacscan.events.SG_EVENTS`` from
``ec2.amazonaws.com``) that succeeded becomes an ``EventRecord``; a call that failed
(``errorCode`` set: it changed nothing) is counted as ``failed``; an event of another
service or another EC2 action (or a ``Modify*Attribute`` that does not change groups) is
``foreign``; a record that is not an object or lacks ``eventName``, ``eventSource``, a
readable ``eventTime`` or the request fields its action needs is ``malformed``. None of
them stops the reading. A file that is not JSON (or not gzip that holds JSON), or none
of the shapes above, is a ``ParseError`` (IAC001).
"""
from __future__ import annotations

import datetime as dt
import gzip
import json
import zlib
from collections import Counter
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from iacscan.events import EVENT_SOURCE, SG_EVENTS
from iacscan.model import ParseError

#: Reasons a record is skipped, in the order messages list them.
REASONS = ("foreign", "failed", "malformed", "duplicate", "older")
_GZIP_MAGIC = b"\x1f\x8b"
#: Events that need a group id in the request (the others find it elsewhere).
_NEEDS_GROUP = ("AuthorizeSecurityGroupIngress", "AuthorizeSecurityGroupEgress",
                "RevokeSecurityGroupIngress", "RevokeSecurityGroupEgress")


@dataclass(frozen=True)
class EventRecord:
    """One successful security-group event, with what the model and reports need."""

    event_id: str
    event_name: str
    time: dt.datetime  # timezone-aware, UTC
    event_time: str  # as recorded (ISO 8601)
    actor: str
    source_ip: str
    region: str
    account: str
    request: dict[str, Any]
    response: dict[str, Any]
    file: str = ""  # the file it was read from, relative to the scan root ("" for lookup_events)
    index: int = 0  # its position in the input (ties in time keep the input's order)


@dataclass
class ReadResult:
    """The records read, and what was skipped (counted by reason, with a few examples)."""

    records: list[EventRecord] = field(default_factory=list)
    skipped: Counter[str] = field(default_factory=Counter)
    examples: dict[str, str] = field(default_factory=dict)  # reason → first example
    errors: list[ParseError] = field(default_factory=list)
    files: list[str] = field(default_factory=list)
    total: int = 0  # records seen, skipped or not
    since: dt.datetime | None = None  # records before this time are skipped as "older"
    _seen: set[str] = field(default_factory=set, repr=False)

    def skip(self, reason: str, example: str) -> None:
        self.skipped[reason] += 1
        self.examples.setdefault(reason, example)

    def add(self, record: EventRecord) -> None:
        if self.since is not None and record.time < self.since:
            self.skip("older", f"event {record.event_id} at {record.event_time} is before --since")
            return
        if record.event_id in self._seen:  # the same event in two files (or two lookups)
            self.skip("duplicate", f"event {record.event_id} read twice")
            return
        self._seen.add(record.event_id)
        self.records.append(record)

    def sorted_records(self) -> list[EventRecord]:
        """The records in time order (the input's order among equal times)."""
        return sorted(self.records, key=lambda r: (r.time, r.index))

    def summary(self) -> dict[str, Any]:
        """``{"records": N, "judged": J, "skipped": {reason: n}}`` for the JSON summary."""
        return {"records": self.total, "security_group_events": len(self.records),
                "skipped": {r: self.skipped[r] for r in REASONS if self.skipped[r]}}

    def message(self) -> str:
        """``skipped N records: 3 foreign (…), 1 malformed (…)``, or "" when none was."""
        total = sum(self.skipped.values())
        if not total:
            return ""
        parts = [f"{self.skipped[r]} {r} ({self.examples[r]})" for r in REASONS if self.skipped[r]]
        return f"skipped {total} record{'s' if total != 1 else ''}: " + ", ".join(parts)


def expand(paths: list[Path]) -> list[Path]:
    """Files named, and the ``*.json``/``*.json.gz`` files under directories named (sorted)."""
    out: list[Path] = []
    for path in paths:
        if path.is_dir():
            out.extend(sorted(p for p in path.rglob("*") if p.is_file() and p.name.endswith((".json", ".json.gz"))))
        else:
            out.append(path)
    return out


def read_paths(paths: list[Path], root: Path, since: dt.datetime | None = None) -> ReadResult:
    """Read every CloudTrail document in ``paths`` (files or directories), from ``since`` on."""
    result = ReadResult(since=since)
    for path in expand(paths):
        name = _relative(path, root)
        result.files.append(name)
        document = load_document(path, name)
        if isinstance(document, ParseError):
            result.errors.append(document)
            continue
        records = records_of(document)
        if records is None:
            result.errors.append(ParseError(name, 0, "not CloudTrail records (no \"Records\" or \"Events\" "
                                                     "list, and not a list of records)"))
            continue
        read_records(records, result, name)
    return result


def _relative(path: Path, root: Path) -> str:
    try:
        return path.resolve().relative_to(root.resolve()).as_posix()
    except ValueError:
        return path.as_posix()


def load_document(path: Path, name: str) -> Any:
    """The JSON in ``path`` (gunzipped when it is gzip), or a ``ParseError``."""
    try:
        data = path.read_bytes()
    except OSError as exc:
        return ParseError(name, 0, f"cannot read the file: {exc.strerror or exc}")
    if data[:2] == _GZIP_MAGIC:
        try:
            data = gzip.decompress(data)
        except (OSError, EOFError, zlib.error) as exc:
            return ParseError(name, 0, f"not a readable gzip file: {exc}")
    try:
        return json.loads(data.decode("utf-8-sig"))
    except UnicodeDecodeError:
        return ParseError(name, 0, "not UTF-8 text")
    except json.JSONDecodeError as exc:
        return ParseError(name, exc.lineno, f"not valid JSON: {exc.msg}")
    except RecursionError:
        return ParseError(name, 0, "JSON nested too deeply")


def records_of(document: Any) -> list[Any] | None:
    """The raw records of a document of an accepted shape (see the module docstring)."""
    if isinstance(document, list):
        return [_detail(item) for item in document]
    if not isinstance(document, dict):
        return None
    if _is_eventbridge(document):
        return [document["detail"]]
    if isinstance(document.get("Records"), list):
        return list(document["Records"])
    if isinstance(document.get("Events"), list):
        return [unwrap(item) for item in document["Events"]]
    return None


def _is_eventbridge(item: Any) -> bool:
    """An EventBridge "AWS API Call via CloudTrail" event (the record is its ``detail``)."""
    return isinstance(item, dict) and isinstance(item.get("detail"), dict) and "detail-type" in item


def _detail(item: Any) -> Any:
    return item["detail"] if _is_eventbridge(item) else item


def unwrap(item: Any) -> Any:
    """A ``lookup-events`` item → its record (the ``CloudTrailEvent`` string parsed)."""
    if not isinstance(item, dict) or not isinstance(item.get("CloudTrailEvent"), str):
        return _Malformed("an Events item without a CloudTrailEvent string")
    try:
        return json.loads(item["CloudTrailEvent"])
    except (json.JSONDecodeError, RecursionError):
        return _Malformed(f"event {item.get('EventId', '?')}: CloudTrailEvent is not valid JSON")


@dataclass(frozen=True)
class _Malformed:
    why: str


def read_records(records: list[Any], result: ReadResult, name: str, label: str = "") -> None:
    """Classify ``records`` (from file ``name``, or described by ``label``) into ``result``."""
    for number, raw in enumerate(records, 1):
        result.total += 1
        where = f"record {number} of {label or name}" if label or name else f"record {number}"
        record = classify(raw, result, where, name, result.total)
        if record is not None:
            result.add(record)


def classify(raw: Any, result: ReadResult, where: str, name: str, index: int) -> EventRecord | None:
    """The ``EventRecord`` of ``raw``, or None after counting why it was skipped."""
    if isinstance(raw, _Malformed):
        result.skip("malformed", f"{where}: {raw.why}")
        return None
    if not isinstance(raw, dict):
        result.skip("malformed", f"{where}: not an object")
        return None
    source, event = raw.get("eventSource"), raw.get("eventName")
    if not isinstance(source, str) or not isinstance(event, str):
        result.skip("malformed", f"{where}: no eventSource or eventName")
        return None
    if source != EVENT_SOURCE or event not in SG_EVENTS:
        result.skip("foreign", f"{where}: {source} {event} is not a security-group event")
        return None
    if raw.get("errorCode"):
        result.skip("failed", f"{where}: {event} failed with {raw.get('errorCode')}")
        return None
    why = _invalid(raw)
    if why:
        result.skip("malformed", f"{where}: {why}")
        return None
    request = raw.get("requestParameters") or {}
    if event in ("ModifyInstanceAttribute", "ModifyNetworkInterfaceAttribute") and "groupSet" not in request:
        result.skip("foreign", f"{where}: {event} does not change security groups")
        return None
    identity = _object(raw.get("userIdentity"))
    time = parse_time(raw["eventTime"])
    assert time is not None  # _invalid checked it
    return EventRecord(
        event_id=str(raw["eventID"]), event_name=event, time=time,
        event_time=str(raw["eventTime"]), actor=actor_of(identity), source_ip=str(raw.get("sourceIPAddress") or ""),
        region=str(raw.get("awsRegion") or ""), account=account_of(raw, identity), request=request,
        response=_object(raw.get("responseElements")), file=name, index=index,
    )


def _object(value: Any) -> dict[str, Any]:
    return value if isinstance(value, dict) else {}


def _invalid(raw: dict[str, Any]) -> str:
    """Why a security-group record cannot be used ("" when it can)."""
    if not isinstance(raw.get("eventID"), str) or not raw["eventID"]:
        return "no eventID"
    if not isinstance(raw.get("eventTime"), str) or parse_time(raw["eventTime"]) is None:
        return f"eventTime {raw.get('eventTime')!r} is not an ISO 8601 time"
    if not isinstance(raw.get("awsRegion"), str) or not raw["awsRegion"]:
        return "no awsRegion"
    request = raw.get("requestParameters")
    if not isinstance(request, dict):
        return f"{raw['eventName']} without requestParameters"
    event = raw["eventName"]
    if event in _NEEDS_GROUP and not isinstance(request.get("groupId"), str):
        return f"{event} without requestParameters.groupId"
    if event == "CreateSecurityGroup":
        response = raw.get("responseElements")
        if not isinstance(response, dict) or not isinstance(response.get("groupId"), str):
            return "CreateSecurityGroup without responseElements.groupId"
    if event == "ModifySecurityGroupRules":
        inner = request.get("ModifySecurityGroupRulesRequest")
        if not isinstance(inner, dict) or not isinstance(inner.get("GroupId"), str):
            return "ModifySecurityGroupRules without ModifySecurityGroupRulesRequest.GroupId"
    return ""


def parse_time(text: str) -> dt.datetime | None:
    """``2026-11-20T10:02:03Z`` (or with an offset) → an aware UTC datetime; None if unreadable."""
    try:
        value = dt.datetime.fromisoformat(text.strip())
    except (ValueError, AttributeError):
        return None
    if value.tzinfo is None:
        value = value.replace(tzinfo=dt.timezone.utc)
    return value.astimezone(dt.timezone.utc)


def actor_of(identity: dict[str, Any]) -> str:
    """Who made the call: the ARN, else the AWS service that did, else principal id or type."""
    for key in ("arn", "invokedBy", "principalId", "type"):
        value = identity.get(key)
        if isinstance(value, str) and value:
            return value
    return "unknown"


def account_of(raw: dict[str, Any], identity: dict[str, Any]) -> str:
    """The account the event happened in (``recipientAccountId``), else the caller's."""
    for value in (raw.get("recipientAccountId"), identity.get("accountId")):
        if isinstance(value, str) and value:
            return value
    return "unknown"
