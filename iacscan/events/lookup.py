"""Read security-group events from CloudTrail's event history (``cloudtrail:LookupEvents``).

Only ``LookupEvents`` is called: a read-only API, through boto3's paginator (50 events a
page), with botocore's ``standard`` retry mode (``iacscan.live.collect.client_config``:
5 attempts, throttling included; ``LookupEvents`` allows 2 calls a second per account and
region). The API takes one lookup attribute per call, so ``iacscan events --live`` asks
once per event name of ``iacscan.events.SG_EVENTS`` and region, and drift attribution once
per changed resource id (``ResourceName``) and region. Event history keeps 90 days.

Permissions: ``cloudtrail:LookupEvents`` (in the AWS-managed ``ReadOnlyAccess`` policy).
A call that is denied or fails is reported (``LookupFailure``) and the others go on;
when every call failed, ``LookupError`` says why.
"""
from __future__ import annotations

import datetime as dt
import re
from collections.abc import Iterator
from dataclasses import dataclass, field
from typing import Any

from botocore.exceptions import (
    BotoCoreError, ClientError, ConnectTimeoutError, EndpointConnectionError, NoCredentialsError,
    PartialCredentialsError, ProfileNotFound,
)

from iacscan.events import SG_EVENTS
from iacscan.events.records import ReadResult, read_records, unwrap
from iacscan.live.collect import ClientSource

#: The only CloudTrail operation iacscan calls (read-only).
OPERATION = "LookupEvents"
HISTORY_DAYS = 90
_FATAL = (NoCredentialsError, PartialCredentialsError, ProfileNotFound)
_RELATIVE = re.compile(r"(\d+)\s*([dhm])")
_UNITS = {"d": "days", "h": "hours", "m": "minutes"}


class LookupError(Exception):  # noqa: A001 - the module's own error, never the builtin's use
    """CloudTrail could not be read at all (no credentials, every call denied)."""


@dataclass(frozen=True)
class LookupFailure:
    region: str
    attribute: str  # e.g. EventName=AuthorizeSecurityGroupIngress
    error: str
    message: str

    def __str__(self) -> str:
        return f"{self.region} {self.attribute}: {self.error}: {self.message}"


@dataclass
class LiveRead:
    """What ``read_live`` got: the records (classified like a file's) and the failed calls."""

    result: ReadResult
    failures: list[LookupFailure] = field(default_factory=list)
    calls: int = 0


def parse_since(text: str, now: dt.datetime) -> dt.datetime:
    """``7d``, ``24h``, ``30m`` (before ``now``), or an ISO date/time (UTC unless it says);
    ValueError for anything else."""
    relative = _RELATIVE.fullmatch(text.strip().lower())
    if relative:
        return now - dt.timedelta(**{_UNITS[relative.group(2)]: int(relative.group(1))})
    try:
        value = dt.datetime.fromisoformat(text.strip())
    except ValueError:
        raise ValueError(f"--since {text!r}: expected a duration (7d, 24h, 30m) or a date "
                         "(2026-11-01, 2026-11-01T10:00:00Z)") from None
    if value.tzinfo is None:
        value = value.replace(tzinfo=dt.timezone.utc)
    return value.astimezone(dt.timezone.utc)


def lookup_items(client: Any, key: str, value: str, start: dt.datetime, end: dt.datetime) -> Iterator[dict[str, Any]]:
    """Every ``Events`` item of ``LookupEvents`` for one attribute, page after page."""
    paginator = client.get_paginator("lookup_events")
    pages = paginator.paginate(LookupAttributes=[{"AttributeKey": key, "AttributeValue": value}],
                               StartTime=start, EndTime=end)
    for page in pages:
        for item in page.get("Events") or []:
            if isinstance(item, dict):
                yield item


def read_live(source: ClientSource, regions: list[str], start: dt.datetime, end: dt.datetime,
              lookups: list[tuple[str, str]] | None = None) -> LiveRead:
    """The security-group records of ``regions`` between ``start`` and ``end``.

    ``lookups`` are the (attribute key, value) pairs asked for in each region; the
    default is one ``EventName`` lookup per security-group event. ``LookupError`` when
    no call succeeded (credentials missing, every call denied)."""
    wanted = lookups if lookups is not None else [("EventName", name) for name in SG_EVENTS]
    read = LiveRead(ReadResult())
    succeeded = 0
    for region in regions:
        for key, value in wanted:
            read.calls += 1
            try:
                client = source.client("cloudtrail", region)
                found = [unwrap(item) for item in lookup_items(client, key, value, start, end)]
            except _FATAL as exc:
                raise LookupError(f"AWS credentials: {exc}") from None
            except (ClientError, BotoCoreError) as exc:
                read.failures.append(_failure(region, f"{key}={value}", exc))
                if isinstance(exc, (EndpointConnectionError, ConnectTimeoutError)):
                    break  # the region's endpoint does not answer: the other lookups would not either
                continue
            succeeded += 1
            read_records(found, read.result, "", label=f"LookupEvents {key}={value} in {region}")
    if wanted and regions and not succeeded:
        shown = "; ".join(str(f) for f in read.failures[:3])
        raise LookupError(f"every {OPERATION} call failed ({shown})")
    return read


def _failure(region: str, attribute: str, exc: Exception) -> LookupFailure:
    if isinstance(exc, ClientError):
        error = exc.response.get("Error", {})
        return LookupFailure(region, attribute, str(error.get("Code") or "ClientError"),
                             str(error.get("Message") or exc)[:300])
    return LookupFailure(region, attribute, type(exc).__name__, str(exc)[:300])
