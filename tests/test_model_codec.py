"""model_codec: model objects survive JSON exactly; malformed data raises CodecError only."""
from __future__ import annotations

import dataclasses
import json
import typing
from pathlib import Path
from typing import Any

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from iacscan import model
from iacscan.model import (
    Direction, Estate, EventRule, Location, MetricAlarm, AlarmMetric, Peer, PeerKind, Rule, SecurityGroup,
    Tier, Unknown, Workload,
)
from iacscan.model_codec import CodecError, decode, encode
from iacscan.parsers.cloudformation import parse_documents
from tests.helpers import CORPUS, FIXTURES

MODEL_CLASSES = [c for c in vars(model).values()
                 if isinstance(c, type) and dataclasses.is_dataclass(c) and c.__module__ == model.__name__]


def through_json(value: Any, hint: Any = None) -> Any:
    return decode(json.loads(json.dumps(encode(value, hint), allow_nan=False)), hint or type(value))


# -- hypothesis: every model class, arbitrary values of its declared types ---------------------

_scalars = st.none() | st.booleans() | st.integers() | st.text(max_size=8) \
    | st.floats(allow_nan=False, allow_infinity=False) | st.builds(Unknown, st.text(max_size=8)) \
    | st.sampled_from(list(Direction) + list(PeerKind) + list(Tier))
#: what an ``Any`` field may hold: JSON values plus tuples and model objects inside
_any = st.recursive(_scalars, lambda inner: st.lists(inner, max_size=3) | st.tuples(inner, inner)
                    | st.dictionaries(st.text(max_size=6), inner, max_size=3), max_leaves=8)


def _model_value(cls: type) -> st.SearchStrategy[Any]:
    overrides: dict[str, Any] = {}
    if cls is EventRule:
        overrides["event_pattern"] = st.none() | st.text(max_size=5) | st.builds(Unknown, st.text()) \
            | st.dictionaries(st.text(max_size=6), _any, max_size=3)
    if cls is Estate:
        overrides["images"] = st.dictionaries(st.text(max_size=6), st.dictionaries(st.text(max_size=6), _any),
                                              max_size=2)
        for name in ("groups", "workloads", "vpcs", "subnets", "route_tables", "internet_gateways", "nacls",
                     "prefix_lists", "volumes", "flow_logs", "config_recorders", "trails", "ami_lookups",
                     "metric_filters", "metric_alarms", "event_rules"):
            item = typing.get_args(typing.get_type_hints(Estate)[name])[1]
            overrides[name] = st.dictionaries(st.text(max_size=6), _model_value(item), max_size=2)
        overrides["live_failures"] = st.lists(st.dictionaries(st.text(max_size=4), st.text(max_size=4)),
                                              max_size=2)
    return st.builds(cls, **overrides)


@pytest.mark.parametrize("cls", MODEL_CLASSES, ids=lambda c: c.__name__)
def test_every_model_class_round_trips(cls: type) -> None:
    @settings(max_examples=40, deadline=None, suppress_health_check=list(HealthCheck))
    @given(_model_value(cls))
    def check(value: Any) -> None:
        back = through_json(value)
        assert back == value and type(back) is cls
    check()


@settings(max_examples=60, deadline=None)
@given(_any)
def test_any_values_keep_tuples_enums_and_model_objects(value: Any) -> None:
    back = through_json(value, Any)
    assert back == value and _shape(back) == _shape(value)


def _shape(value: Any) -> Any:
    """Types all the way down (equality alone takes a tuple for a list? no, but Enum == str does)."""
    if isinstance(value, dict):
        return ("dict", [(k, _shape(v)) for k, v in value.items()])
    if isinstance(value, (list, tuple)):
        return (type(value).__name__, [_shape(v) for v in value])
    return type(value).__name__


# -- exactness ----------------------------------------------------------------------------------


def test_types_dict_order_and_frozen_objects_come_back_as_they_were() -> None:
    rule = Rule(Direction.EGRESS, "tcp", 1, Unknown("to"), Peer(PeerKind.GROUP, "t.yaml#B"), None,
                Location("t.yaml", 7), "t.yaml#R", "R")
    group = SecurityGroup("t.yaml#G", "G", None, Unknown("d"), "vpc-1", tags={"z": "1", "a": "2"}, rules=[rule],
                          source="cloudformation")
    alarm = MetricAlarm("u", "A", "CPU", None, {"b": Unknown("x"), "a": "i-1"}, queries=[AlarmMetric("m", None)])
    estate = Estate(groups={"t.yaml#G": group}, sources={"cloudformation", "terraform"}, metric_alarms={"u": alarm},
                    event_rules={"e": EventRule("e", "E", {"k": [("a", 1)], "u": Unknown("r")})})
    back = through_json(estate)
    assert back == estate
    got = back.groups["t.yaml#G"]
    assert list(got.tags) == ["z", "a"] and got.rules[0].direction is Direction.EGRESS
    assert got.rules[0].to_port == Unknown("to") and got.rules[0].from_port == 1
    assert list(back.metric_alarms["u"].dimensions) == ["b", "a"]
    assert back.event_rules["e"].event_pattern == {"k": [("a", 1)], "u": Unknown("r")}
    assert isinstance(back.event_rules["e"].event_pattern["k"][0], tuple)
    with pytest.raises(dataclasses.FrozenInstanceError):
        got.rules[0].origin = "x"  # type: ignore[misc]


def test_a_str_subclass_is_written_as_plain_str() -> None:
    class Node(str):
        pass

    back = through_json(Workload(Node("u"), "a", "AWS::EC2::Instance", groups=[Node("g")]))
    assert back.uid == "u" and type(back.uid) is str and type(back.groups[0]) is str


@pytest.mark.parametrize("value", [
    Workload("u", "a", "k", ports=[1.5]),  # type: ignore[list-item]  # a float where ints belong
    Workload("u", "a", "k", public=1),  # type: ignore[arg-type]  # an int is not a bool
    Rule(Direction.INGRESS, Direction.INGRESS, None, None, Peer(PeerKind.SELF)),  # an enum is not a str
    EventRule("e", "E", {"k": object()}),  # a foreign object in an Any value
    EventRule("e", "E", {"k": {1: "a"}}),  # a key JSON cannot keep
    SecurityGroup("u", "a", None, None, None, tags={1: "x"}),  # type: ignore[dict-item]
], ids=["float-for-int", "int-for-bool", "enum-for-str", "foreign-object", "int-key-in-any", "int-key"])
def test_values_outside_their_declared_types_are_refused(value: Any) -> None:
    with pytest.raises(CodecError):
        encode(value)


# -- untrusted data ------------------------------------------------------------------------------

GOOD_RULE = encode(Rule(Direction.INGRESS, "tcp", 22, 22, Peer(PeerKind.CIDR, "0.0.0.0/0")))


@pytest.mark.parametrize("data", [
    None, {}, "x", GOOD_RULE[:-1], GOOD_RULE + ["", "", ""],  # too few fields (less than those written), too many
    ["sideways", *GOOD_RULE[1:]],  # not a Direction
    [GOOD_RULE[0], [7, "tcp"], *GOOD_RULE[2:]],  # union alternative out of range
    [GOOD_RULE[0], [True, "tcp"], *GOOD_RULE[2:]],  # a bool is not an index
    [GOOD_RULE[0], [0, 6], *GOOD_RULE[2:]],  # an int where a str belongs
    [*GOOD_RULE[:2], [0, True], *GOOD_RULE[3:]],  # a bool where an int belongs
    [*GOOD_RULE[:4], ["cidr", "x", ["D", "os.system", ["ls"]]], *GOOD_RULE[5:]],
], ids=lambda d: json.dumps(d)[:40])
def test_malformed_rules_raise_codec_error(data: Any) -> None:
    with pytest.raises(CodecError):
        decode(data, Rule)


@pytest.mark.parametrize("data", [
    ["D", "subprocess.Popen", []], ["E", "iacscan.model.Unknown", "x"], ["D", "iacscan.model.Direction", "x"],
    ["X", 1], [], ["D", "iacscan.model.Unknown"],
])
def test_any_values_name_only_model_classes(data: Any) -> None:
    with pytest.raises(CodecError):
        decode({"k": data}, Any)


def test_deep_nesting_is_a_codec_error_not_a_crash() -> None:
    data: Any = 1
    for _ in range(100_000):
        data = ["L", data]
    with pytest.raises(CodecError):
        decode(data, Any)


@settings(max_examples=150, deadline=None)
@given(st.recursive(st.none() | st.booleans() | st.integers() | st.text(max_size=4),
                    lambda inner: st.lists(inner, max_size=4) | st.dictionaries(st.text(max_size=3), inner,
                                                                                 max_size=3), max_leaves=30))
def test_random_json_decodes_to_an_estate_or_raises_codec_error(data: Any) -> None:
    try:
        value = decode(data, Estate)
    except CodecError:
        return
    assert isinstance(value, Estate)


# -- real models ----------------------------------------------------------------------------------


def _templates(root: Path) -> list[Path]:
    return sorted(p for p in root.rglob("*") if p.suffix in (".yaml", ".yml", ".json", ".template"))


def test_every_fixture_template_model_round_trips() -> None:
    roots = [FIXTURES / "demo", FIXTURES / "parsers" / "cloudformation",
             *sorted(FIXTURES.glob("rules/*/cloudformation"))]
    for root in roots:
        estate = parse_documents(root, _templates(root), None)
        assert through_json(estate) == estate, root


@pytest.mark.skipif(not (CORPUS / "aws-cloudformation-templates").is_dir(), reason="corpus not present")
def test_every_corpus_template_model_round_trips() -> None:
    root = CORPUS / "aws-cloudformation-templates"
    estate = parse_documents(root, _templates(root), None)
    assert len(estate.groups) > 100 and len(estate.workloads) > 200
    assert through_json(estate) == estate
