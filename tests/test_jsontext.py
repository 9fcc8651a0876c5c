"""``report.jsontext.dumps`` writes exactly what ``json.dumps(indent=2, ensure_ascii=False)`` writes."""
from __future__ import annotations

import json
from enum import Enum, IntEnum
from typing import Any

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from iacscan.findings import Severity
from iacscan.report.jsontext import dumps

SCALARS = st.one_of(st.none(), st.booleans(), st.integers(), st.floats(allow_nan=True, allow_infinity=True),
                    st.text())
KEYS = st.one_of(st.text(), st.integers(), st.floats(allow_nan=False), st.booleans(), st.none())
VALUES = st.recursive(SCALARS, lambda inner: st.one_of(
    st.lists(inner, max_size=4), st.lists(inner, max_size=3).map(tuple),
    st.dictionaries(KEYS, inner, max_size=4)), max_leaves=30)


def _reference(value: Any) -> str:
    return json.dumps(value, indent=2, ensure_ascii=False)


@settings(max_examples=300, deadline=None)
@given(VALUES)
def test_same_text_as_the_standard_library(value: Any) -> None:
    assert dumps(value) == _reference(value)


class Colour(str, Enum):
    RED = "red"


class Level(IntEnum):
    HIGH = 3


class Tagged(dict):  # type: ignore[type-arg]
    pass


def test_subclasses_and_special_text() -> None:
    value = {"sev": Severity.HIGH, "c": Colour.RED, "lvl": Level.HIGH, "t": Tagged(a=[1.5, float("nan")]),
             Colour.RED: "key", 2.5: float("-inf"), "ü": "Gruppe für Prüfung\n\t\"\\\u2028\x00",
             "empty": [{}, [], ()], "nested": {"a": {"b": [1, [2, {"c": None}]]}}}
    assert dumps(value) == _reference(value)


@pytest.mark.parametrize("bad", [{"a": object()}, [{1, 2}], {(1, 2): "tuple key"}])
def test_what_json_cannot_hold_raises_type_error(bad: Any) -> None:
    with pytest.raises(TypeError):
        _reference(bad)
    with pytest.raises(TypeError):
        dumps(bad)
