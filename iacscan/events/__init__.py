"""CloudTrail security-group events as a source: ``iacscan events`` and drift attribution.

- ``records``: reads CloudTrail log files (``{"Records": [...]}``, gzipped or not) and the
  output of ``aws cloudtrail lookup-events`` (``{"Events": [{"CloudTrailEvent": "..."}]}``)
  into ``EventRecord`` objects; malformed and foreign records are counted, never fatal.
- ``to_model``: turns the security-group events into the model (groups located at the
  events that changed them), so the SG rules judge them.
- ``lookup``: reads the same records from CloudTrail's event history (``LookupEvents``,
  read-only, paginated, standard retries).
- ``attribute``: adds who made a drifted change, and when, to DRIFT findings.

Which events count (all from ``ec2.amazonaws.com``) is ``SG_EVENTS``; which rules judge
them is ``EVENT_RULES``.
"""
from __future__ import annotations

import dataclasses
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from iacscan.ruleset import Ruleset

EVENT_SOURCE = "ec2.amazonaws.com"

#: The security-group events iacscan reads (CIS AWS Foundations' security-group-change list).
SG_EVENTS = (
    "CreateSecurityGroup", "AuthorizeSecurityGroupIngress", "AuthorizeSecurityGroupEgress",
    "RevokeSecurityGroupIngress", "RevokeSecurityGroupEgress", "ModifySecurityGroupRules",
    "DeleteSecurityGroup", "ModifyInstanceAttribute", "ModifyNetworkInterfaceAttribute",
)

#: The rules that judge events. Each judges rules one group at a time from what the events
#: added; rules that need the whole estate (unused groups SG109, default groups SG108,
#: shadowing SG111, environments ENV2xx, reachability NET3xx, AWS4xx) would judge a
#: fragment as if it were everything, so they do not run.
EVENT_RULES = ("IAC001", "IAC002", "SG101", "SG102", "SG103", "SG104", "SG105", "SG106", "SG107")


def events_ruleset(ruleset: Ruleset) -> Ruleset:
    """``ruleset`` with every rule off but ``EVENT_RULES`` (their settings kept)."""
    from iacscan.rules.base import iter_rules
    from iacscan.ruleset import RuleSettings

    rules = dict(ruleset.rules)
    for registered in iter_rules():
        if registered.meta.id not in EVENT_RULES:
            rules[registered.meta.id] = RuleSettings(enabled=False)
    return dataclasses.replace(ruleset, rules=rules)
