"""Model objects (``iacscan.model``) as plain JSON data and back, exactly.

``encode(value, hint)`` turns a value of type ``hint`` (an ``Estate``, any model dataclass,
or a container of them) into lists, dicts, strings, numbers, booleans and None that
``json.dumps`` writes as they are; ``decode(data, hint)`` rebuilds an equal value: the same
dataclasses (frozen ones included), enum members, lists, tuples, sets and dict key order.

The codec is driven by the type hints of each dataclass (``dataclasses.fields`` and
``typing.get_type_hints``, resolved on first use of the class): a dataclass becomes the list
of its field values in field order, less the trailing fields that hold their (plain
``None``/bool/int/str) default; an enum member its value; a set a sorted list. A union whose
alternatives encode to distinct JSON types (``str | Unknown | None``: a string, a list, null)
is written as the alternative's own encoding; any other union with more than one non-None
alternative becomes ``[index, value]`` naming the alternative. ``Any`` (an event pattern, a
live image record) holds JSON values, where lists, tuples and the model's own dataclasses
and enums are tagged (``["L", ...]``, ``["T", ...]``, ``["D", name, fields]``,
``["E", name, value]``). ``FORMAT`` names the encoding (caches put it in their keys). Each
dataclass gets an encoder and a decoder generated for it (``model_codegen``), checks inlined.

Encoding refuses what the hints do not describe (a float where an int belongs, a tuple in
an ``Any`` value's dict key, an object of a foreign class) with ``CodecError``: the caller
then simply does not keep the value. Decoding reads untrusted data (a cache file anyone may
have damaged): every type is checked, only the model's classes are ever built, and anything
unexpected raises ``CodecError`` and nothing else.
"""
from __future__ import annotations

import dataclasses
import hashlib
import json
import types
import typing
from collections.abc import Callable
from dataclasses import dataclass
from enum import Enum
from pathlib import Path
from typing import Any

from iacscan import model


class CodecError(ValueError):
    """A value the codec cannot encode, or data that is not a valid encoding."""


@dataclass(slots=True)
class Codec:
    """How values of one type hint are encoded and decoded.

    ``kinds``: the Python types of the JSON data its encodings take (None: any). A
    dataclass's ``encode``/``decode`` start as stubs that generate the real ones on first use.
    """

    hint: Any
    accepts: Callable[[Any], bool]  # whether a runtime value is of this type (for unions)
    kinds: frozenset[type] | None
    encode: Callable[[Any], Any]
    decode: Callable[[Any], Any]
    untagged: bool = False  # a union written as its alternative's own encoding


_CODECS: dict[Any, Codec] = {}
#: classes an ``Any`` value may hold, by "module.qualname" (only these are ever built)
_CLASSES: dict[str, type] = {}
_NONE = type(None)
#: what the encoding's shape owes to this module; bump when it changes
_VERSION = "2"


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
    except CodecError:
        raise
    except RecursionError as exc:
        raise CodecError("data nested too deeply") from exc
    except (TypeError, ValueError, LookupError, AttributeError) as exc:  # a check this module missed
        raise CodecError(f"malformed data: {exc!r}") from exc


def codec_for(hint: Any) -> Codec:
    """The (cached) codec of a type hint."""
    try:
        found = _CODECS.get(hint)
    except TypeError:  # an unhashable hint
        raise CodecError(f"unsupported type {hint!r}") from None
    if found is None:
        found = _build(hint)
        _CODECS[hint] = found
    return found


def fail(what: str) -> typing.NoReturn:
    """Raise ``CodecError(what)`` (generated code calls it too)."""
    raise CodecError(what)


def _build(hint: Any) -> Codec:
    if hint is Any:
        return Codec(hint, lambda v: True, None, _encode_any, _decode_any)
    if hint is _NONE or hint is None:
        return Codec(_NONE, lambda v: v is None, frozenset({_NONE}), _exactly(_NONE), _exactly(_NONE))
    if hint in _PRIMITIVES:
        return _PRIMITIVES[hint]
    origin, args = typing.get_origin(hint), typing.get_args(hint)
    if origin is typing.Union or origin is types.UnionType:
        return _union(hint, args)
    if origin in (list, tuple, set, frozenset, dict):
        return _container(hint, origin, args)
    if isinstance(hint, type) and issubclass(hint, Enum):
        return _enum(hint)
    if isinstance(hint, type) and dataclasses.is_dataclass(hint):
        return _dataclass(hint)
    raise CodecError(f"unsupported type {hint!r}")


def _plain_str(v: Any) -> bool:
    return isinstance(v, str) and not isinstance(v, Enum)


def _plain_int(v: Any) -> bool:
    return isinstance(v, int) and not isinstance(v, (bool, Enum))


def str_encode(value: Any) -> str:
    """A str (a subclass, e.g. a decoder's line-carrying node, as plain str); CodecError if not one."""
    if not _plain_str(value):
        fail(f"expected str, got {type(value).__name__}")
    return str.__str__(value)


def int_encode(value: Any) -> int:
    """An int (a subclass as plain int, never a bool or an enum); CodecError if not one."""
    if not _plain_int(value):
        fail(f"expected int, got {type(value).__name__}")
    return int(value)


def _exactly(kind: type) -> Callable[[Any], Any]:
    """A decoder (or encoder) that lets through values of exactly ``kind``."""
    def check(value: Any) -> Any:
        if type(value) is not kind:
            fail(f"expected {kind.__name__}, got {type(value).__name__}")
        return value
    return check


_PRIMITIVES: dict[Any, Codec] = {
    str: Codec(str, _plain_str, frozenset({str}), str_encode, _exactly(str)),
    int: Codec(int, _plain_int, frozenset({int}), int_encode, _exactly(int)),
    bool: Codec(bool, lambda v: type(v) is bool, frozenset({bool}), _exactly(bool), _exactly(bool)),
    float: Codec(float, lambda v: type(v) is float, frozenset({float}), _exactly(float), _exactly(float)),
}


def alternatives(hint: Any) -> tuple[bool, list[Codec]]:
    """Whether a union hint admits None, and the codecs of its other alternatives."""
    args = typing.get_args(hint)
    return _NONE in args, [codec_for(a) for a in args if a is not _NONE]


def _untagged(nullable: bool, alts: list[Codec]) -> bool:
    """Whether a union's alternatives can be told apart by the JSON type of their encodings."""
    if len(alts) == 1:
        return True
    seen: set[type] = {_NONE} if nullable else set()
    for alt in alts:
        if alt.kinds is None or alt.kinds & seen:
            return False
        seen |= alt.kinds
    return True


def _union(hint: Any, args: tuple[Any, ...]) -> Codec:
    nullable, alts = alternatives(hint)
    untagged = _untagged(nullable, alts)
    by_kind = {kind: alt for alt in alts for kind in alt.kinds or ()} if untagged and len(alts) > 1 else None

    def accepts(value: Any) -> bool:
        return (value is None and nullable) or any(c.accepts(value) for c in alts)

    def encode_union(value: Any) -> Any:
        if value is None and nullable:
            return None
        for index, alternative in enumerate(alts):
            if alternative.accepts(value):
                return alternative.encode(value) if untagged else [index, alternative.encode(value)]
        fail(f"{type(value).__name__} is none of the union's types")

    def decode_union(data: Any) -> Any:
        if data is None and nullable:
            return None
        if untagged:
            found = alts[0] if by_kind is None else by_kind.get(type(data))
            if found is None:
                fail(f"a {type(data).__name__} is none of the union's encodings")
            return found.decode(data)
        if type(data) is not list or len(data) != 2 or type(data[0]) is not int \
                or not 0 <= data[0] < len(alts):
            fail("malformed union value")
        return alts[data[0]].decode(data[1])
    if not untagged:
        kinds: frozenset[type] | None = frozenset({list})
    elif any(a.kinds is None for a in alts):
        kinds = None
    else:
        kinds = frozenset().union(*(a.kinds or () for a in alts))
    if kinds is not None and nullable:
        kinds |= {_NONE}
    return Codec(hint, accepts, kinds, encode_union, decode_union, untagged)


def _container(hint: Any, origin: Any, args: tuple[Any, ...]) -> Codec:
    if origin is dict:
        return _dict(hint, args)
    if origin is tuple and not (len(args) == 2 and args[1] is Ellipsis):
        return _fixed_tuple(hint, args)
    item = codec_for(args[0] if args else Any)

    def encode_items(value: Any) -> list[Any]:
        if not isinstance(value, origin):
            fail(f"expected {origin.__name__}, got {type(value).__name__}")
        encoded = [item.encode(v) for v in value]
        if origin in (set, frozenset):  # no order of its own: a stable one
            encoded.sort(key=lambda e: json.dumps(e, sort_keys=True))
        return encoded

    def decode_items(data: Any) -> Any:
        if type(data) is not list:
            fail(f"expected a list for {origin.__name__}")
        items = [item.decode(d) for d in data]
        return items if origin is list else origin(items)
    return Codec(hint, lambda v: isinstance(v, origin), frozenset({list}), encode_items, decode_items)


def _fixed_tuple(hint: Any, args: tuple[Any, ...]) -> Codec:
    codecs = [codec_for(a) for a in args]

    def encode_tuple(value: Any) -> list[Any]:
        if not isinstance(value, tuple) or len(value) != len(codecs):
            fail("expected a tuple of the declared length")
        return [c.encode(v) for c, v in zip(codecs, value)]

    def decode_tuple(data: Any) -> tuple[Any, ...]:
        if type(data) is not list or len(data) != len(codecs):
            fail("malformed tuple")
        return tuple(c.decode(d) for c, d in zip(codecs, data))
    return Codec(hint, lambda v: isinstance(v, tuple) and len(v) == len(codecs), frozenset({list}),
                 encode_tuple, decode_tuple)


def _dict(hint: Any, args: tuple[Any, ...]) -> Codec:
    if args and args[0] is not str:
        raise CodecError(f"dict keys must be str, not {args[0]!r}")
    value_codec = codec_for(args[1] if len(args) == 2 else Any)

    def encode_dict(value: Any) -> dict[str, Any]:
        if not isinstance(value, dict):
            fail(f"expected dict, got {type(value).__name__}")
        return {str_encode(k): value_codec.encode(v) for k, v in value.items()}

    def decode_dict(data: Any) -> dict[str, Any]:
        if type(data) is not dict:
            fail("expected an object")
        return {k if type(k) is str else fail("a key is not a string"): value_codec.decode(v)
                for k, v in data.items()}
    return Codec(hint, lambda v: isinstance(v, dict), frozenset({dict}), encode_dict, decode_dict)


def enum_kind(cls: type[Enum]) -> type | None:
    """``str`` or ``int`` when every member's value is a plain one of that type, else None."""
    kinds = {type(m.value) for m in cls.__members__.values()}
    return kinds.pop() if len(kinds) == 1 and kinds <= {str, int} else None


def _enum(cls: type[Enum]) -> Codec:
    _CLASSES[_name(cls)] = cls
    members = {m.value: m for m in cls.__members__.values() if type(m.value) in (str, int)}

    def encode_member(value: Any) -> Any:
        if type(value) is not cls or not (_plain_str(value.value) or _plain_int(value.value)):
            fail(f"expected a {cls.__name__} with a str or int value")
        return value.value

    def decode_member(data: Any) -> Enum:
        if type(data) not in (str, int) or (found := members.get(data)) is None:
            fail(f"{data!r} is not a {cls.__name__}")
        return found
    kind = enum_kind(cls)
    return Codec(cls, lambda v: type(v) is cls, frozenset({kind}) if kind else frozenset({str, int}),
                 encode_member, decode_member)


def _dataclass(cls: type) -> Codec:
    _CLASSES[_name(cls)] = cls

    def encode_stub(value: Any) -> Any:
        return _realize(codec, "encode").encode(value)

    def decode_stub(data: Any) -> Any:
        return _realize(codec, "decode").decode(data)
    codec = Codec(cls, lambda v: type(v) is cls, frozenset({list}), encode_stub, decode_stub)
    return codec


def _realize(codec: Codec, direction: str) -> Codec:
    """Replace a dataclass codec's encode or decode stub by its generated function."""
    from iacscan import model_codegen

    model_codegen.realize(codec, direction)
    return codec


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
        return {str_encode(k): _encode_any(v) for k, v in value.items()}
    if isinstance(value, list):
        return ["L", *(_encode_any(v) for v in value)]
    if isinstance(value, tuple):
        return ["T", *(_encode_any(v) for v in value)]
    cls = type(value)
    if _CLASSES.get(_name(cls)) is cls:
        tag = "E" if isinstance(value, Enum) else "D"
        return [tag, _name(cls), codec_for(cls).encode(value)]
    fail(f"cannot encode a {cls.__name__} in an Any value")


def _decode_any(data: Any) -> Any:
    kind = type(data)
    if data is None or kind in (bool, int, float, str):
        return data
    if kind is dict:
        return {k if type(k) is str else fail("a key is not a string"): _decode_any(v) for k, v in data.items()}
    if kind is not list or not data:
        fail("malformed Any value")
    tag = data[0]
    if tag == "L":
        return [_decode_any(v) for v in data[1:]]
    if tag == "T":
        return tuple(_decode_any(v) for v in data[1:])
    if tag in ("D", "E") and len(data) == 3 and type(data[1]) is str and data[1] in _CLASSES:
        cls = _CLASSES[data[1]]
        if (tag == "E") == issubclass(cls, Enum):
            return codec_for(cls).decode(data[2])
    fail("malformed Any value")


def _model_classes() -> list[type]:
    return [value for value in vars(model).values()
            if isinstance(value, type) and value.__module__ == model.__name__
            and (issubclass(value, Enum) or dataclasses.is_dataclass(value))]


def _register_model() -> str:
    """Register the model's classes (they may appear inside ``Any`` values: an Unknown in an
    event pattern) and return the fingerprint of their layout (names, field types, defaults)
    and of the codec's source (this module and ``model_codegen``)."""
    digest = hashlib.sha256(_VERSION.encode())
    for source in (Path(__file__), Path(__file__).with_name("model_codegen.py")):
        try:
            digest.update(source.read_bytes())
        except OSError:
            digest.update(b"unreadable")
    for cls in _model_classes():
        codec_for(cls)
        if issubclass(cls, Enum):
            layout: Any = [(m, repr(v.value)) for m, v in cls.__members__.items()]
        else:
            layout = [(f.name, str(f.type), "-" if f.default is dataclasses.MISSING else repr(f.default), f.init)
                      for f in dataclasses.fields(typing.cast(Any, cls))]
        digest.update(json.dumps([_name(cls), layout]).encode())
    return digest.hexdigest()[:16]


#: The encoding's name: its version, the model's layout and the codec's source. Caches of
#: encoded values put it in their keys.
FORMAT = f"codec{_VERSION}-{_register_model()}"
