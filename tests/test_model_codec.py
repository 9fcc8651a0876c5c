"""model_codec: model objects survive JSON exactly; malformed data raises CodecError only."""
from __future__ import annotations

import dataclasses
import json
import subprocess
import sys
import typing
from dataclasses import dataclass
from enum import Enum
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
from iacscan.model_codec import FORMAT, CodecError, decode, encode
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


# -- generated code: every kind of field, exactly and against malformed data ---------------------


class Colour(Enum):
    RED = 1
    BLUE = 2


class Mixed(Enum):
    A = "a"
    B = 2


@dataclass(frozen=True)
class Leaf:
    name: str
    n: int = 0


@dataclass
class Kinds:
    """One field of each kind the generated encoder and decoder treat in their own way."""

    s: str
    i: int
    b: bool
    f: float
    opt_s: str | None
    e: Direction
    ie: Colour
    me: Mixed
    leaf: Leaf
    un: str | Unknown | None
    num: int | Unknown | None
    tagged: list[str | Unknown] | Unknown | None  # two alternatives written as lists: [index, value]
    strs: list[str]
    leaves: list[Leaf]
    mixed_list: list[str | Unknown]
    sset: set[str]
    fset: frozenset[int]
    ints: tuple[int, ...]
    pair: tuple[str, int]
    tags: dict[str, str]
    by_name: dict[str, Leaf]
    uvals: dict[str, int | Unknown]
    anything: Any
    maybe_any: Any | None
    d_str: str = "x"
    d_int: int = 7
    d_bool: bool = True
    d_none: str | None = None
    d_union: str | Unknown = "u"


@dataclass
class Node:
    """A class that holds itself."""

    name: str
    children: list[Node] = dataclasses.field(default_factory=list)


@dataclass
class Checked:
    """A class with ``__post_init__``: built through its ``__init__``."""

    n: int

    def __post_init__(self) -> None:
        if self.n < 0:
            raise ValueError("negative")


_unknown = st.builds(Unknown, st.text(max_size=4))
_leaf = st.builds(Leaf, st.text(max_size=4), st.integers())
_KINDS = st.builds(
    Kinds, s=st.text(max_size=4), i=st.integers(), b=st.booleans(), f=st.floats(allow_nan=False, allow_infinity=False),
    opt_s=st.none() | st.text(max_size=3), e=st.sampled_from(Direction), ie=st.sampled_from(Colour),
    me=st.sampled_from(Mixed), leaf=_leaf, un=st.none() | st.text(max_size=3) | _unknown,
    num=st.none() | st.integers() | _unknown,
    tagged=st.none() | _unknown | st.lists(st.text(max_size=3) | _unknown, max_size=3),
    strs=st.lists(st.text(max_size=3), max_size=3), leaves=st.lists(_leaf, max_size=3),
    mixed_list=st.lists(st.text(max_size=3) | _unknown, max_size=3), sset=st.sets(st.text(max_size=3), max_size=3),
    fset=st.frozensets(st.integers(), max_size=3), ints=st.lists(st.integers(), max_size=3).map(tuple),
    pair=st.tuples(st.text(max_size=3), st.integers()),
    tags=st.dictionaries(st.text(max_size=3), st.text(max_size=3), max_size=3),
    by_name=st.dictionaries(st.text(max_size=3), _leaf, max_size=3),
    uvals=st.dictionaries(st.text(max_size=3), st.integers() | _unknown, max_size=3),
    anything=_any, maybe_any=st.none() | _any,
    d_str=st.just("x") | st.text(max_size=2), d_int=st.just(7) | st.integers(), d_bool=st.booleans(),
    d_none=st.none() | st.text(max_size=2), d_union=st.just("u") | st.text(max_size=2) | _unknown)


@settings(max_examples=150, deadline=None, suppress_health_check=list(HealthCheck))
@given(_KINDS)
def test_every_kind_of_field_round_trips(value: Kinds) -> None:
    back = through_json(value)
    assert back == value and type(back) is Kinds
    assert _shape(dataclasses.astuple(back)) == _shape(dataclasses.astuple(value))
    assert type(back.sset) is set and type(back.fset) is frozenset and type(back.ints) is tuple
    assert back.e is value.e and back.ie is value.ie and back.me is value.me
    assert list(vars(back).items()) == list(vars(value).items())  # the same attributes, in field order
    assert list(vars(back.leaf).items()) == list(vars(value.leaf).items())


SAMPLE = Kinds("s", 1, True, 1.5, None, Direction.EGRESS, Colour.BLUE, Mixed.B, Leaf("l"), Unknown("u"), 3,
               ["a", Unknown("b")], ["x"], [Leaf("m", 2)], ["y", Unknown("z")], {"p", "q"}, frozenset({4}), (5, 6),
               ("t", 7), {"k": "v"}, {"n": Leaf("o")}, {"w": Unknown("x"), "i": 8}, {"a": [("b", 1)]}, Tier.WEB,
               d_str="y")
FIELDS = [f.name for f in dataclasses.fields(Kinds)]


def test_the_encoding_leaves_out_tags_it_does_not_need_and_trailing_defaults() -> None:
    data = encode(SAMPLE)
    assert len(data) == FIELDS.index("d_str") + 1  # d_int, d_bool, d_none, d_union at their defaults
    by_name = dict(zip(FIELDS, data))
    assert by_name["un"] == ["u"] and by_name["num"] == 3 and by_name["opt_s"] is None
    assert by_name["tagged"] == [0, ["a", ["b"]]] and by_name["mixed_list"] == ["y", ["z"]]
    assert by_name["leaf"] == ["l"] and by_name["leaves"] == [["m", 2]] and by_name["e"] == "egress"
    assert encode(Location("a.tf", 3)) == ["a.tf", 3] and encode(Location("a.tf", 0, 0, "i-1")) == ["a.tf", 0, 0, "i-1"]
    assert encode(Rule(Direction.INGRESS, "tcp", 22, None, Peer(PeerKind.CIDR, "0.0.0.0/0"), None,
                       Location("m.tf", 4))) == ["ingress", "tcp", 22, None, ["cidr", "0.0.0.0/0"], None, ["m.tf", 4]]
    assert decode(["a.tf"], Location) == Location("a.tf")
    assert decode(data[:-1], Kinds) == dataclasses.replace(SAMPLE, d_str="x")
    assert decode([*data, 7, True, None, "u"], Kinds) == SAMPLE  # written out in full: the same value


#: wrong data for each field (each must raise CodecError when it replaces that field)
BAD: dict[str, list[Any]] = {
    "s": [1, None, ["s"], True], "i": [True, 1.0, "1", None], "b": [0, 1, "true", None], "f": [1, "1.5", None],
    "opt_s": [1, ["x"], False], "e": ["sideways", 1, None, ["egress"], "EGRESS"], "ie": [3, "1", True, 1.0],
    "me": ["c", True, 3, None], "leaf": [[], ["x", 1, 2], ["x", "1"], "x", None, [1]],
    "un": [5, True, {}, [], ["u", "v"], [1]], "num": ["s", True, 1.5, {}, ["u", 1]],
    "tagged": [[5, "x"], [True, ["a"]], [0, "a"], [1, "u"], [2, ["u"]], [0], "x", [0, ["a", 1]]],
    "strs": [["a", 1], "a", [None], {}], "leaves": [[["x", "1"]], [None], [[]], "x"],
    "mixed_list": [["a", 5], [["u", "v"]], [None], {}], "sset": [["a", 1], "a", [[]]], "fset": [["a"], [True]],
    "ints": [[True], ["1"], 1], "pair": [["a", "b"], ["a"], ["a", 1, 2], "a"],
    "tags": [{"k": 1}, {"k": None}, ["k", "v"], "x"], "by_name": [{"k": ["x", 1.5]}, {"k": None}, []],
    "uvals": [{"k": "s"}, {"k": True}, {"k": [1]}, []], "anything": [["X"], [], ["D", "os.system", []], ["L", ["Q"]]],
    "maybe_any": [["E", "iacscan.model.Unknown", "x"], ["D", "subprocess.Popen", []]],
    "d_str": [None, 1], "d_int": [None, "7", False], "d_bool": [None, 1], "d_none": [1, []], "d_union": [None, 1, []],
}


def test_every_field_is_listed_with_wrong_data() -> None:
    assert set(BAD) == set(FIELDS)


@pytest.mark.parametrize("name", FIELDS)
def test_wrong_data_in_any_field_raises_codec_error(name: str) -> None:
    data = encode(SAMPLE)
    data += [7, True, None, "u"][len(data) - len(FIELDS):]
    assert decode(data, Kinds) == SAMPLE
    for bad in BAD[name]:
        broken = list(data)
        broken[FIELDS.index(name)] = bad
        with pytest.raises(CodecError):
            decode(broken, Kinds)


@settings(max_examples=200, deadline=None)
@given(st.sampled_from(FIELDS), st.recursive(st.none() | st.booleans() | st.integers() | st.text(max_size=3)
                                             | st.floats(allow_nan=False, allow_infinity=False),
                                             lambda inner: st.lists(inner, max_size=3)
                                             | st.dictionaries(st.text(max_size=2), inner, max_size=2),
                                             max_leaves=10))
def test_random_data_in_any_field_decodes_to_a_value_of_its_type_or_raises(name: str, bad: Any) -> None:
    data = encode(SAMPLE)
    data += [7, True, None, "u"][len(data) - len(FIELDS):]
    data[FIELDS.index(name)] = bad
    try:
        value = decode(data, Kinds)
    except CodecError:
        return
    assert through_json(value) == value  # every field holds a value of its declared type


@pytest.mark.parametrize("data", [
    {1: ["x"]}, {"k": ["x", 1.5]}, {"k": None},
], ids=["int-key", "bad-value", "null-value"])
def test_dicts_of_objects_check_keys_and_values(data: Any) -> None:
    with pytest.raises(CodecError):
        decode(data, dict[str, Leaf])
    with pytest.raises(CodecError):
        decode([*encode(SAMPLE)[:FIELDS.index("by_name")], data, *encode(SAMPLE)[FIELDS.index("by_name") + 1:]],
               Kinds)


def test_str_and_int_subclasses_are_written_plain_in_every_position() -> None:
    class Text(str):
        pass

    class Count(int):
        pass

    value = dataclasses.replace(SAMPLE, s=Text("s"), i=Count(4), opt_s=Text("o"), un=Text("u"),
                                num=Count(3), strs=[Text("a")], mixed_list=[Text("m")], tags={Text("k"): Text("v")},
                                uvals={Text("k"): Count(1)}, d_union=Text("d"))
    data = encode(value)
    assert json.loads(json.dumps(data)) == data
    back = decode(data, Kinds)
    assert back == value and type(back.s) is str and type(back.i) is int and type(back.un) is str
    assert type(back.strs[0]) is str and type(next(iter(back.tags))) is str and type(back.uvals["k"]) is int


@pytest.mark.parametrize("field,value", [
    ("s", 1), ("i", True), ("i", 1.0), ("b", 1), ("f", 1), ("opt_s", Direction.INGRESS), ("e", "egress"),
    ("ie", 1), ("leaf", Unknown("x")), ("un", 1), ("num", True), ("num", 1.5), ("tagged", ["a", 1]),
    ("strs", ("a",)), ("strs", [1]), ("leaves", [Unknown("x")]), ("mixed_list", [Direction.INGRESS]),
    ("sset", {1}), ("ints", (True,)), ("pair", ("a",)), ("tags", {"k": 1}), ("tags", {1: "v"}),
    ("by_name", {"k": "v"}), ("uvals", {"k": "v"}), ("anything", object()), ("d_union", None), ("d_bool", None),
])
def test_wrong_values_in_any_field_are_refused(field: str, value: Any) -> None:
    with pytest.raises(CodecError):
        encode(dataclasses.replace(SAMPLE, **{field: value}))


def test_a_class_that_holds_itself_round_trips_and_deep_nesting_is_a_codec_error() -> None:
    tree = Node("a", [Node("b"), Node("c", [Node("d")])])
    assert through_json(tree) == tree
    data: Any = ["leaf"]
    for _ in range(100_000):
        data = ["n", [data]]
    with pytest.raises(CodecError):
        decode(data, Node)
    deep = Node("x")
    for _ in range(100_000):
        deep = Node("n", [deep])
    with pytest.raises(CodecError):
        encode(deep)


def test_a_class_with_post_init_is_built_through_it() -> None:
    assert through_json(Checked(3)) == Checked(3)
    with pytest.raises(CodecError):
        decode([-1], Checked)
    with pytest.raises(CodecError):
        decode(["1"], Checked)


def test_format_is_the_same_in_every_process() -> None:
    runs = {subprocess.run([sys.executable, "-c", "from iacscan.model_codec import FORMAT; print(FORMAT)"],
                           capture_output=True, text=True, check=True).stdout for _ in range(2)}
    assert len(runs) == 1 and runs.pop().strip() == FORMAT


def test_the_cloudformation_cache_is_keyed_by_the_format() -> None:
    from iacscan.parsers import cfn_cache

    assert f"/{FORMAT}/" in cfn_cache.tag()
