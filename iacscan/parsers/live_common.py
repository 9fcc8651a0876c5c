"""Shared pieces of the live-snapshot parser: the per-region builder and small converters."""
from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from iacscan.model import Estate, Location, make_uid


def tags_of(items: Any) -> dict[str, str]:
    """AWS ``[{"Key": k, "Value": v}]`` tag lists (EC2 ``Tags``, RDS ``TagList``) → dict."""
    out: dict[str, str] = {}
    if isinstance(items, list):
        for item in items:
            if isinstance(item, dict) and isinstance(item.get("Key"), str):
                out[item["Key"]] = str(item.get("Value", ""))
    return out


def items(region: dict[str, Any], key: str) -> list[dict[str, Any]]:
    """The list under ``key`` (only dict items); empty when absent."""
    found = region.get(key)
    return [i for i in found if isinstance(i, dict)] if isinstance(found, list) else []


def as_int(value: Any) -> int | None:
    if isinstance(value, bool):
        return None
    if isinstance(value, int):
        return value
    if isinstance(value, str) and value.lstrip("-").isdigit():
        return int(value)
    return None


@dataclass
class RegionBuilder:
    """Builds the model objects of one region of a snapshot into ``estate``."""

    estate: Estate
    account: str
    region: str
    data: dict[str, Any]
    failed: dict[str, str] = field(default_factory=dict)  # snapshot key → "Error: message"

    @property
    def scope(self) -> str:
        return f"live:{self.account}:{self.region}"

    def uid(self, ident: str) -> str:
        return make_uid(self.scope, ident)

    def loc(self, resource_id: str) -> Location:
        return Location(file="", line=0, resource_id=resource_id)

    def ref(self, ident: Any, collection: str) -> str | None:
        """The uid of ``ident`` when ``estate.<collection>`` holds it, else the raw id (None if empty)."""
        if not isinstance(ident, str) or not ident:
            return None
        uid = self.uid(ident)
        return uid if uid in getattr(self.estate, collection) else ident

    def read(self, key: str) -> bool:
        """Whether the snapshot holds ``key`` for this region (the call succeeded)."""
        return key in self.data
