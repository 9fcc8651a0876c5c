"""Small evaluators for CloudWatch Logs filter patterns and EventBridge event patterns (AWS408).

Both answer one question: does this pattern select the CloudTrail record of an API call?
``cloudtrail_record(name)`` is the record tested: a management ``AwsApiCall`` from
``ec2.amazonaws.com`` with that ``eventName`` (no ``errorCode``); ``eventbridge_event(name)``
wraps it as EventBridge delivers it (``source: aws.ec2``, ``detail-type: AWS API Call via
CloudTrail``, the record under ``detail``).

Filter patterns (``parse_filter_pattern``):

- JSON patterns ``{ <expr> }``: comparisons ``$.field op value`` with ``=``/``!=`` (text, with
  ``*`` wildcards, quoted or bare; ``%regex%``), ``<``/``<=``/``>``/``>=`` (numbers),
  ``IS TRUE``/``IS FALSE``/``IS NULL``, ``NOT EXISTS``; combined with ``&&``, ``||`` (``&&``
  binds tighter) and parentheses. A field the record lacks matches nothing but ``NOT EXISTS``.
- term patterns: ``Term``, ``"quoted term"``, ``?Term`` (any of the ``?`` terms), ``-Term``
  (excluded), matched case-sensitively against the record's JSON text; the empty pattern
  matches every event.
- space-delimited patterns (``[a, b, ...]``) are not evaluated: ``PatternError``.

Event patterns (``event_pattern_matches``): a mapping of fields to arrays of matchers (any one
matches) or to nested mappings; matchers are literals, ``prefix``, ``suffix``,
``equals-ignore-case``, ``wildcard``, ``anything-but`` (a value, a list, or a ``prefix``/``suffix``),
``exists`` and ``numeric``; ``$or`` lists alternatives. Other matchers (``cidr``…) never match
text. A pattern that is not a JSON object raises ``PatternError``.
"""
from __future__ import annotations

import fnmatch
import json
import re
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

#: The security-group change events AWS408 requires alerting on. The CIS AWS Foundations
#: benchmark's metric filter lists the first six; ``ModifySecurityGroupRules`` (2021) changes
#: rules in place and is required too.
SG_CHANGE_EVENTS = (
    "CreateSecurityGroup", "AuthorizeSecurityGroupIngress", "AuthorizeSecurityGroupEgress",
    "RevokeSecurityGroupIngress", "RevokeSecurityGroupEgress", "DeleteSecurityGroup",
    "ModifySecurityGroupRules",
)


class PatternError(ValueError):
    """A pattern this module cannot read (the reason is the message)."""


def cloudtrail_record(event_name: str) -> dict[str, Any]:
    """The CloudTrail record of a successful EC2 management API call named ``event_name``."""
    return {"eventVersion": "1.08", "eventSource": "ec2.amazonaws.com", "eventName": event_name,
            "eventType": "AwsApiCall", "eventCategory": "Management", "managementEvent": True,
            "readOnly": False, "awsRegion": "us-east-1"}


def eventbridge_event(event_name: str) -> dict[str, Any]:
    """The EventBridge event of that call."""
    return {"version": "0", "source": "aws.ec2", "detail-type": "AWS API Call via CloudTrail",
            "region": "us-east-1", "detail": cloudtrail_record(event_name)}


# ------------------------------------------------------------------ filter patterns

Predicate = Callable[[dict[str, Any], str], bool]  # (record, its JSON text) → matches

_TOKEN = re.compile(r"""\s*(?:(?P<op>&&|\|\||!=|<=|>=|=|<|>|\(|\)|\{|\})|(?P<str>"(?:[^"\\]|\\.)*")"""
                    r"""|(?P<regex>%(?:[^%\\]|\\.)*%)|(?P<word>[^\s()&|=!<>"{}]+))""")


@dataclass(frozen=True)
class FilterPattern:
    """A parsed filter pattern."""

    text: str
    test: Predicate

    def matches(self, record: dict[str, Any]) -> bool:
        """Whether the pattern selects ``record``."""
        return self.test(record, json.dumps(record, separators=(",", ":")))


def parse_filter_pattern(text: str) -> FilterPattern:
    """Parse a CloudWatch Logs filter pattern (see the module docs); ``PatternError`` when
    it cannot be read."""
    stripped = text.strip()
    if stripped.startswith("{"):
        return FilterPattern(text, _JsonParser(_tokens(stripped)).pattern())
    if stripped.startswith("["):
        raise PatternError("space-delimited filter patterns are not evaluated")
    return FilterPattern(text, _term_pattern(stripped))


def _tokens(text: str) -> list[tuple[str, str]]:
    out: list[tuple[str, str]] = []
    pos = 0
    while pos < len(text):
        if text[pos:].strip() == "":
            break
        match = _TOKEN.match(text, pos)
        if match is None or match.end() == pos:
            raise PatternError(f"unexpected text at {text[pos:pos + 20]!r}")
        kind = match.lastgroup or ""
        out.append((kind, match.group(kind).strip()))
        pos = match.end()
    return out


class _JsonParser:
    """Recursive descent over the tokens of ``{ expr }``."""

    def __init__(self, tokens: list[tuple[str, str]]) -> None:
        self.tokens, self.pos = tokens, 0

    def peek(self) -> tuple[str, str]:
        return self.tokens[self.pos] if self.pos < len(self.tokens) else ("end", "")

    def take(self, value: str | None = None) -> tuple[str, str]:
        token = self.peek()
        if token[0] == "end" or (value is not None and token[1] != value):
            raise PatternError(f"expected {value or 'more'} but found {token[1] or 'the end'}")
        self.pos += 1
        return token

    def pattern(self) -> Predicate:
        self.take("{")
        expr = self.expr()
        self.take("}")
        if self.peek()[0] != "end":
            raise PatternError(f"unexpected {self.peek()[1]!r} after the closing brace")
        return expr

    def expr(self) -> Predicate:
        parts = [self.conjunction()]
        while self.peek() == ("op", "||"):
            self.take()
            parts.append(self.conjunction())
        return parts[0] if len(parts) == 1 else (lambda r, t: any(p(r, t) for p in parts))

    def conjunction(self) -> Predicate:
        parts = [self.unary()]
        while self.peek() == ("op", "&&"):
            self.take()
            parts.append(self.unary())
        return parts[0] if len(parts) == 1 else (lambda r, t: all(p(r, t) for p in parts))

    def unary(self) -> Predicate:
        if self.peek() == ("op", "("):
            self.take()
            inner = self.expr()
            self.take(")")
            return inner
        return self.comparison()

    def comparison(self) -> Predicate:
        kind, selector = self.take()
        if kind != "word" or not selector.startswith("$"):
            raise PatternError(f"expected a $.selector, found {selector!r}")
        path = _selector(selector)
        kind, op = self.peek()
        if kind == "word" and op.upper() in ("IS", "NOT"):
            return self._keyword(path)
        if kind != "op" or op not in ("=", "!=", "<", "<=", ">", ">="):
            raise PatternError(f"expected a comparison after {selector}, found {op or 'the end'}")
        self.take()
        vkind, value = self.take()
        if vkind == "op":
            raise PatternError(f"expected a value after {selector} {op}")
        return _compare(path, op, vkind, value)

    def _keyword(self, path: list[str | int]) -> Predicate:
        first = self.take()[1].upper()
        second = self.take()[1].upper()
        if first == "NOT" and second == "EXISTS":
            return lambda r, t: _lookup(r, path) is _MISSING
        if first == "IS" and second in ("TRUE", "FALSE", "NULL"):
            wanted = {"TRUE": True, "FALSE": False, "NULL": None}[second]
            return lambda r, t: _lookup(r, path) is wanted
        raise PatternError(f"unknown keyword {first} {second}")


_MISSING = object()


def _selector(text: str) -> list[str | int]:
    steps: list[str | int] = []
    for part in re.finditer(r"\.([^.\[\]]+)|\[(\d+|\*)\]", text[1:]):
        steps.append(part.group(1) if part.group(1) is not None else
                     (int(part.group(2)) if part.group(2).isdigit() else "*"))
    if not steps:
        raise PatternError(f"selector {text!r} names no field")
    return steps


def _lookup(record: Any, path: list[str | int]) -> Any:
    current = record
    for step in path:
        if isinstance(step, int) and isinstance(current, list) and step < len(current):
            current = current[step]
        elif isinstance(step, str) and isinstance(current, dict) and step in current:
            current = current[step]
        else:
            return _MISSING
    return current


def _compare(path: list[str | int], op: str, kind: str, raw: str) -> Predicate:
    if op in ("<", "<=", ">", ">="):
        try:
            bound = float(raw)
        except ValueError:
            raise PatternError(f"{op} needs a number, found {raw!r}") from None
        check: Callable[[float], bool] = {"<": bound.__gt__, "<=": bound.__ge__, ">": bound.__lt__,
                                          ">=": bound.__le__}[op]

        def numeric(record: dict[str, Any], _text: str) -> bool:
            number = _number(_lookup(record, path))
            return number is not None and check(number)
        return numeric
    if kind == "regex":
        try:
            regex = re.compile(raw[1:-1])
        except re.error as exc:
            raise PatternError(f"bad regular expression {raw}: {exc}") from None
        same: Callable[[str], bool] = lambda v: regex.search(v) is not None
    else:
        wanted = json.loads(raw) if kind == "str" else raw
        same = (lambda v: fnmatch.fnmatchcase(v, wanted)) if "*" in wanted else (lambda v: v == wanted)

    def test(record: dict[str, Any], _text: str) -> bool:
        value = _lookup(record, path)
        if value is _MISSING or isinstance(value, (dict, list)):
            return False
        text = json.dumps(value) if not isinstance(value, str) else value
        return same(text) if op == "=" else not same(text)
    return test


def _number(value: Any) -> float | None:
    if isinstance(value, bool) or not isinstance(value, (int, float, str)):
        return None
    try:
        return float(value)
    except ValueError:
        return None


def _term_pattern(text: str) -> Predicate:
    """``Term "two words" ?Any ?Of -Not``: all plain terms, no excluded one, one ``?`` term."""
    required: list[str] = []
    optional: list[str] = []
    excluded: list[str] = []
    for match in re.finditer(r'([?-]?)("(?:[^"\\]|\\.)*"|\S+)', text):
        sign, term = match.group(1), match.group(2)
        if term.startswith('"'):
            try:
                term = json.loads(term)
            except ValueError:
                raise PatternError(f"bad quoted term {term}") from None
        {"": required, "?": optional, "-": excluded}[sign].append(term)
    return lambda r, t: (all(x in t for x in required) and not any(x in t for x in excluded)
                         and (not optional or any(x in t for x in optional)))


# ------------------------------------------------------------------ event patterns

def event_pattern_matches(pattern: Any, event: dict[str, Any]) -> bool:
    """Whether an EventBridge ``pattern`` (a dict, or its JSON text) selects ``event``."""
    if isinstance(pattern, str):
        try:
            pattern = json.loads(pattern)
        except ValueError as exc:
            raise PatternError(f"the event pattern is not JSON: {exc}") from None
    if not isinstance(pattern, dict):
        raise PatternError("the event pattern is not a JSON object")
    return _match_object(pattern, event)


def _match_object(pattern: dict[str, Any], event: Any) -> bool:
    for key, wanted in pattern.items():
        if key == "$or":
            if not isinstance(wanted, list) or not all(isinstance(p, dict) for p in wanted):
                raise PatternError("$or must list patterns")
            if not any(_match_object(p, event) for p in wanted):
                return False
            continue
        present = isinstance(event, dict) and key in event
        value = event.get(key) if present else None
        if isinstance(wanted, dict):
            if not present or not _match_object(wanted, value):
                return False
        elif isinstance(wanted, list):
            if not _match_list(wanted, value, present):
                return False
        else:
            raise PatternError(f"the value of {key!r} must be an array or an object")
    return True


def _match_list(matchers: list[Any], value: Any, present: bool) -> bool:
    values = value if isinstance(value, list) else [value]
    for matcher in matchers:
        if isinstance(matcher, dict) and "exists" in matcher:
            if bool(matcher["exists"]) == present:
                return True
            continue
        if present and any(_match_one(matcher, v) for v in values):
            return True
    return False


def _match_one(matcher: Any, value: Any) -> bool:
    if not isinstance(matcher, dict):
        return matcher == value and type(matcher) is type(value)
    if len(matcher) != 1:
        raise PatternError(f"a matcher has one key: {matcher}")
    (kind, arg), = matcher.items()
    text = value if isinstance(value, str) else None
    if kind == "prefix":
        return text is not None and _affix(arg, text, str.startswith)
    if kind == "suffix":
        return text is not None and _affix(arg, text, str.endswith)
    if kind == "equals-ignore-case":
        return text is not None and isinstance(arg, str) and text.lower() == arg.lower()
    if kind == "wildcard":
        return text is not None and isinstance(arg, str) and fnmatch.fnmatchcase(text, arg)
    if kind == "anything-but":
        return _anything_but(arg, value)
    if kind == "numeric":
        return _numeric(arg, value)
    return False  # cidr and matchers added later: not text matchers


def _affix(arg: Any, text: str, test: Callable[[str, str], bool]) -> bool:
    if isinstance(arg, dict) and "equals-ignore-case" in arg:
        return test(text.lower(), str(arg["equals-ignore-case"]).lower())
    return isinstance(arg, str) and test(text, arg)


def _anything_but(arg: Any, value: Any) -> bool:
    if isinstance(arg, list):
        return value not in arg
    if isinstance(arg, dict):
        return not _match_one(arg, value)
    return value != arg


def _numeric(arg: Any, value: Any) -> bool:
    if not isinstance(arg, list) or isinstance(value, bool) or not isinstance(value, (int, float)):
        return False
    number = float(value)
    checks: dict[str, Callable[[float], bool]] = {
        "<": lambda b: number < b, "<=": lambda b: number <= b, ">": lambda b: number > b,
        ">=": lambda b: number >= b, "=": lambda b: number == b}
    for op, bound in zip(arg[::2], arg[1::2]):
        if op not in checks or isinstance(bound, bool) or not isinstance(bound, (int, float)) \
                or not checks[op](float(bound)):
            return False
    return True
