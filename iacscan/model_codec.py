"""Model objects (``iacscan.model``) as plain JSON data and back, exactly.

``encode(value, hint)`` turns a value of type ``hint`` (an ``Estate``, any model dataclass,
or a container of them) into lists, dicts, strings, numbers, booleans and None that
``json.dumps`` writes as they are; ``decode(data, hint)`` rebuilds an equal value: the same
dataclasses (frozen ones included), enum members, lists, tuples, sets and dict key order.

The codec is driven by the type hints of each dataclass (``dataclasses.fields`` and
``typing.get_type_hints``, resolved once per class): a dataclass becomes the list of its
field values in field order; a union with more than one non-None alternative becomes
``[index, value]`` naming the alternative; an enum member its value; a set a sorted list.
``Any`` (an event pattern, a live image record) holds JSON values, where lists, tuples and
the model's own dataclasses and enums are tagged (``["L", ...]``, ``["T", ...]``,
``["D", name, fields]``, ``["E", name, value]``).

Encoding refuses what the hints do not describe (a float where an int belongs, a tuple in
an ``Any`` value's dict key, an object of a foreign class) with ``CodecError``: the caller
then simply does not keep the value. Decoding reads untrusted data (a cache file anyone may
have damaged): every type is checked, only the model's classes are ever built, and anything
unexpected raises ``CodecError`` and nothing else.
"""
from __future__ import annotations

import dataclasses
import json
import types
import typing
from collections.abc import Callable
from dataclasses import dataclass
from enum import Enum
from typing import Any

from iacscan import model


class CodecError(ValueError):
    """A value the codec cannot encode, or data that is not a valid encoding."""


@dataclass(frozen=True)
class _Codec:
    accepts: Callable[[Any], bool]  # whether a runtime value is of this type (for unions)
    encode: Callable[[Any], Any]
    decode: Callable[[Any], Any]


_CODECS: dict[Any, _Codec] = {}
#: classes an ``Any`` value may hold, by "module.qualname" (only these are ever built)
_CLASSES: dict[str, type] = {}
_NONE = type(None)


def encode(value: Any, hint: Any = None) -> Any:
    """``value`` (of type ``hint``, default its own class) as plain JSON data; CodecError if it cannot be."""
    try:
        return codec_for(type(value) if hint is None else hint).encode(value)
    except RecursionError as exc:
        raise CodecError("value nested too deeply") from exc


def decode(data: Any, hint: Any) -> Any:
    """The value of type ``hint`` that ``data`` encodes; CodecError on anything malformed."""
    try:
        return codec_for(hint).decode(data)
    except RecursionError as exc:
        raise CodecError("data nested too deeply") from exc


def codec_for(hint: Any) -> _Codec:
    """The (cached) codec of a type hint."""
    try:
        found = _CODECS.get(hint)
    except TypeError:  # an unhashable hint
        raise CodecError(f"unsupported type {hint!r}") from None
    if found is None:
        found = _build(hint)
        _CODECS[hint] = found
    return found


def _fail(what: str) -> typing.NoReturn:
    raise CodecError(what)


def _build(hint: Any) -> _Codec:
    if hint is Any:
        return _Codec(lambda v: True, _encode_any, _decode_any)
    if hint is _NONE or hint is None:
        return _Codec(lambda v: v is None, _identity_none, _identity_none)
    if hint in _PRIMITIVES:
        return _PRIMITIVES[hint]
    origin, args = typing.get_origin(hint), typing.get_args(hint)
    if origin is typing.Union or origin is types.UnionType:
        return _union(args)
    if origin in (list, tuple, set, frozenset, dict):
        return _container(origin, args)
    if isinstance(hint, type) and issubclass(hint, Enum):
        return _enum(hint)
    if isinstance(hint, type) and dataclasses.is_dataclass(hint):
        return _dataclass(hint)
    raise CodecError(f"unsupported type {hint!r}")


def _identity_none(value: Any) -> None:
    if value is not None:
        _fail("expected null")
    return None


def _plain_str(v: Any) -> bool:
    return isinstance(v, str) and not isinstance(v, Enum)


def _plain_int(v: Any) -> bool:
    return isinstance(v, int) and not isinstance(v, (bool, Enum))


def _str_encode(value: Any) -> str:
    if not _plain_str(value):
        _fail(f"expected str, got {type(value).__name__}")
    return str.__str__(value)  # a str subclass (a decoder's line-carrying node) as plain str


def _exactly(kind: type) -> Callable[[Any], Any]:
    """A decoder (or encoder) that lets through values of exactly ``kind``."""
    def check(value: Any) -> Any:
        if type(value) is not kind:
            _fail(f"expected {kind.__name__}, got {type(value).__name__}")
        return value
    return check


def _int_encode(value: Any) -> int:
    if not _plain_int(value):
        _fail(f"expected int, got {type(value).__name__}")
    return int(value)


_PRIMITIVES: dict[Any, _Codec] = {
    str: _Codec(_plain_str, _str_encode, _exactly(str)),
    int: _Codec(_plain_int, _int_encode, _exactly(int)),
    bool: _Codec(lambda v: type(v) is bool, _exactly(bool), _exactly(bool)),
    float: _Codec(lambda v: type(v) is float, _exactly(float), _exactly(float)),
}


def _union(args: tuple[Any, ...]) -> _Codec:
    nullable = _NONE in args
    alternatives = [codec_for(a) for a in args if a is not _NONE]

    def accepts(value: Any) -> bool:
        return (value is None and nullable) or any(c.accepts(value) for c in alternatives)

    if len(alternatives) == 1:
        only = alternatives[0]

        def encode_one(value: Any) -> Any:
            return None if value is None and nullable else only.encode(value)

        def decode_one(data: Any) -> Any:
            return None if data is None and nullable else only.decode(data)
        return _Codec(accepts, encode_one, decode_one)

    def encode_tagged(value: Any) -> Any:
        if value is None and nullable:
            return None
        for index, alternative in enumerate(alternatives):
            if alternative.accepts(value):
                return [index, alternative.encode(value)]
        _fail(f"{type(value).__name__} is none of the union's types")

    def decode_tagged(data: Any) -> Any:
        if data is None and nullable:
            return None
        if type(data) is not list or len(data) != 2 or type(data[0]) is not int \
                or not 0 <= data[0] < len(alternatives):
            _fail("malformed union value")
        return alternatives[data[0]].decode(data[1])
    return _Codec(accepts, encode_tagged, decode_tagged)


def _container(origin: Any, args: tuple[Any, ...]) -> _Codec:
    if origin is dict:
        return _dict(args)
    if origin is tuple and not (len(args) == 2 and args[1] is Ellipsis):
        return _fixed_tuple(args)
    item = codec_for(args[0] if args else Any)

    def encode_items(value: Any) -> list[Any]:
        if not isinstance(value, origin):
            _fail(f"expected {origin.__name__}, got {type(value).__name__}")
        encoded = [item.encode(v) for v in value]
        if origin in (set, frozenset):  # no order of its own: a stable one
            encoded.sort(key=lambda e: json.dumps(e, sort_keys=True))
        return encoded

    def decode_items(data: Any) -> Any:
        if type(data) is not list:
            _fail(f"expected a list for {origin.__name__}")
        items = [item.decode(d) for d in data]
        return items if origin is list else origin(items)
    return _Codec(lambda v: isinstance(v, origin), encode_items, decode_items)


def _fixed_tuple(args: tuple[Any, ...]) -> _Codec:
    codecs = [codec_for(a) for a in args]

    def encode_tuple(value: Any) -> list[Any]:
        if not isinstance(value, tuple) or len(value) != len(codecs):
            _fail("expected a tuple of the declared length")
        return [c.encode(v) for c, v in zip(codecs, value)]

    def decode_tuple(data: Any) -> tuple[Any, ...]:
        if type(data) is not list or len(data) != len(codecs):
            _fail("malformed tuple")
        return tuple(c.decode(d) for c, d in zip(codecs, data))
    return _Codec(lambda v: isinstance(v, tuple) and len(v) == len(codecs), encode_tuple, decode_tuple)


def _dict(args: tuple[Any, ...]) -> _Codec:
    if args and args[0] is not str:
        raise CodecError(f"dict keys must be str, not {args[0]!r}")
    value_codec = codec_for(args[1] if len(args) == 2 else Any)

    def encode_dict(value: Any) -> dict[str, Any]:
        if not isinstance(value, dict):
            _fail(f"expected dict, got {type(value).__name__}")
        return {_str_encode(k): value_codec.encode(v) for k, v in value.items()}

    def decode_dict(data: Any) -> dict[str, Any]:
        if type(data) is not dict:
            _fail("expected an object")
        return {k: value_codec.decode(v) for k, v in data.items()}
    return _Codec(lambda v: isinstance(v, dict), encode_dict, decode_dict)


def _enum(cls: type[Enum]) -> _Codec:
    _CLASSES[_name(cls)] = cls

    def encode_member(value: Any) -> Any:
        if type(value) is not cls or not (_plain_str(value.value) or _plain_int(value.value)):
            _fail(f"expected a {cls.__name__} with a str or int value")
        return value.value

    def decode_member(data: Any) -> Enum:
        if type(data) not in (str, int):
            _fail(f"malformed {cls.__name__}")
        try:
            return cls(data)
        except ValueError:
            _fail(f"{data!r} is not a {cls.__name__}")
    return _Codec(lambda v: type(v) is cls, encode_member, decode_member)


@dataclass
class _Plan:
    """How one dataclass is (de)coded, worked out on first use (its hints may name later classes)."""

    names: list[str]
    encoders: list[Callable[[Any], Any]]
    decoders: list[Callable[[Any], Any]]
    init: list[bool]
    #: build by filling ``__dict__`` (no ``__post_init__``, no slots, every field in ``__init__``)
    direct: bool


def _plan(cls: type) -> _Plan:
    hints = typing.get_type_hints(cls)
    fields = dataclasses.fields(cls)
    codecs = [codec_for(hints[f.name]) for f in fields]
    direct = not hasattr(cls, "__post_init__") and not hasattr(cls, "__slots__") and all(f.init for f in fields)
    return _Plan([f.name for f in fields], [c.encode for c in codecs], [c.decode for c in codecs],
                 [f.init for f in fields], direct)


def _dataclass(cls: type) -> _Codec:
    _CLASSES[_name(cls)] = cls
    plans: list[_Plan] = []

    def plan() -> _Plan:
        if not plans:
            plans.append(_plan(cls))
        return plans[0]

    def encode_object(value: Any) -> list[Any]:
        if type(value) is not cls:
            _fail(f"expected {cls.__name__}, got {type(value).__name__}")
        p = plan()
        return [enc(getattr(value, name)) for name, enc in zip(p.names, p.encoders)]

    def decode_object(data: Any) -> Any:
        p = plan()
        if type(data) is not list or len(data) != len(p.names):
            _fail(f"malformed {cls.__name__}")
        values = [dec(d) for dec, d in zip(p.decoders, data)]
        if p.direct:  # what the generated __init__ would do, without its per-field calls
            obj: Any = object.__new__(cls)
            obj.__dict__.update(zip(p.names, values))
            return obj
        try:
            obj = cls(**{name: v for name, init, v in zip(p.names, p.init, values) if init})
            for name, init, v in zip(p.names, p.init, values):
                if not init:
                    object.__setattr__(obj, name, v)
        except Exception as exc:  # noqa: BLE001 - a model class refusing the values: malformed data
            raise CodecError(f"cannot build {cls.__name__}: {exc}") from exc
        return obj
    return _Codec(lambda v: type(v) is cls, encode_object, decode_object)


def _name(cls: type) -> str:
    return f"{cls.__module__}.{cls.__qualname__}"


# --- Any: JSON values, with lists, tuples and model objects tagged --------------------------


def _encode_any(value: Any) -> Any:
    if value is None or type(value) in (bool, float):
        return value
    if _plain_str(value):
        return str.__str__(value)
    if _plain_int(value):
        return int(value)
    if isinstance(value, dict):
        return {_str_encode(k): _encode_any(v) for k, v in value.items()}
    if isinstance(value, list):
        return ["L", *(_encode_any(v) for v in value)]
    if isinstance(value, tuple):
        return ["T", *(_encode_any(v) for v in value)]
    cls = type(value)
    if _CLASSES.get(_name(cls)) is cls:
        tag = "E" if isinstance(value, Enum) else "D"
        return [tag, _name(cls), codec_for(cls).encode(value)]
    _fail(f"cannot encode a {cls.__name__} in an Any value")


def _decode_any(data: Any) -> Any:
    kind = type(data)
    if data is None or kind in (bool, int, float, str):
        return data
    if kind is dict:
        return {k: _decode_any(v) for k, v in data.items()}
    if kind is not list or not data:
        _fail("malformed Any value")
    tag = data[0]
    if tag == "L":
        return [_decode_any(v) for v in data[1:]]
    if tag == "T":
        return tuple(_decode_any(v) for v in data[1:])
    if tag in ("D", "E") and len(data) == 3 and type(data[1]) is str and data[1] in _CLASSES:
        cls = _CLASSES[data[1]]
        if (tag == "E") == issubclass(cls, Enum):
            return codec_for(cls).decode(data[2])
    _fail("malformed Any value")


def _register_model() -> None:
    """The model's classes may appear inside ``Any`` values (an Unknown in an event pattern)."""
    for value in vars(model).values():
        if isinstance(value, type) and value.__module__ == model.__name__ \
                and (issubclass(value, Enum) or dataclasses.is_dataclass(value)):
            codec_for(value)


_register_model()
