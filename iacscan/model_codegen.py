"""The encoder and decoder ``model_codec`` generates for each dataclass, each on its first use.

From the class's fields and type hints, the source of a function is written and compiled
once (a class nested in another gets its own when the data first holds one). The decoder
checks the list's length (filling the trailing fields the encoder left out with their
defaults), unpacks it and checks every field inline: ``type(x) is str`` for a str, a table
lookup for an enum, one branch per JSON type for a union (``str | Unknown | None``: a str
stays, null stays, a list is an Unknown), one comprehension for a list or a dict; then it
builds the object as the dataclass's ``__init__`` would, without the call (``object.__new__``
and the fields set one by one; frozen classes through their ``__dict__``). The encoder does
the reverse and leaves out trailing fields equal to their defaults.

Nothing of the data ever becomes source: the source names fields (identifiers), literals of
this module's own messages, and objects bound in the function's namespace (``_g1``...).
Anything the inline checks do not cover (an ``Any`` value, a tagged union, a set) calls
``model_codec``'s function for that type, which checks it the same way.
"""
from __future__ import annotations

import dataclasses
import types
import typing
from collections.abc import Callable
from enum import Enum
from typing import Any

from iacscan import model_codec as mc
from iacscan.model_codec import Codec, CodecError, fail

_PRIMS = (str, int, bool, float)
_NONE = type(None)
#: each dataclass's generated functions by direction, those being generated now, its layout
_DONE: dict[tuple[type, str], Callable[[Any], Any]] = {}
_BUSY: set[tuple[type, str]] = set()
_LAYOUTS: dict[type, _Layout] = {}


def realize(codec: Codec, direction: str) -> None:
    """Give a dataclass codec its generated encoder or decoder (generating it once)."""
    key = (codec.hint, direction)
    if key in _BUSY:  # used while its own function is being written (a default of its own type)
        raise CodecError(f"{codec.hint.__name__} is not ready")
    if key not in _DONE:
        _BUSY.add(key)
        try:
            _DONE[key] = _generate(codec.hint, direction)
        finally:
            _BUSY.discard(key)
    setattr(codec, direction, _DONE[key])


class _Source:
    """The lines of one generated function and the objects its source names."""

    def __init__(self) -> None:
        self.lines: list[str] = []
        self.ns: dict[str, Any] = {"fail": fail, "new": object.__new__, "str_encode": mc.str_encode,
                                   "int_encode": mc.int_encode, "NoneType": _NONE}
        self._names: dict[int, str] = {}
        self._lazy: dict[tuple[Any, str], str] = {}
        self._count = 0

    def name(self, obj: Any) -> str:
        """The global name ``obj`` has in the generated function."""
        key = id(obj)
        if key not in self._names:
            self._count += 1
            self._names[key] = f"_g{self._count}"
            self.ns[self._names[key]] = obj
        return self._names[key]

    def function(self, hint: Any, direction: str) -> str:
        """The name of the encoder or decoder (``direction``) of a ``hint``. A dataclass's is
        generated on its first call (only the classes the data holds are ever generated),
        which then rebinds the name to it."""
        codec = mc.codec_for(hint)
        done = _DONE.get((hint, direction))
        if not _is_dataclass(hint) or done is not None:
            return self.name(done or getattr(codec, direction))
        key = (hint, direction)
        if key not in self._lazy:
            self._count += 1
            name = self._lazy[key] = f"_g{self._count}"
            ns = self.ns

            def first_call(data: Any) -> Any:
                realize(codec, direction)
                ns[name] = getattr(codec, direction)
                return ns[name](data)
            ns[name] = first_call
        return self._lazy[key]

    def tmp(self) -> str:
        self._count += 1
        return f"_t{self._count}"

    def add(self, indent: int, text: str) -> None:
        self.lines.append("    " * indent + text)

    def fail(self, indent: int, message: str) -> None:
        self.add(indent, f"fail({message!r})")

    def compile(self, function: str, cls: type) -> Callable[[Any], Any]:
        """The function the lines define (``function`` of ``cls``, as profiles and tracebacks name it)."""
        exec(compile("\n".join(self.lines) + "\n", f"<model_codec {cls.__name__}.{function}>", "exec"),  # noqa: S102
             self.ns)
        return typing.cast(Callable[[Any], Any], self.ns[function])


def _is_dataclass(hint: Any) -> bool:
    return isinstance(hint, type) and dataclasses.is_dataclass(hint)


def _plain_enum(hint: Any) -> type | None:
    """The JSON type of an enum's values when all are plain str or all plain int."""
    if isinstance(hint, type) and issubclass(hint, Enum):
        return mc.enum_kind(hint)
    return None


def _is_union(hint: Any) -> bool:
    return typing.get_origin(hint) in (typing.Union, types.UnionType)


@dataclasses.dataclass
class _Layout:
    fields: tuple[dataclasses.Field[Any], ...]
    hints: dict[str, Any]
    pads: list[list[Any] | None]  # see _pad
    keep: int  # fields before ``keep`` are always written, the others when not at their defaults


def _generate(cls: type, direction: str) -> Callable[[Any], Any]:
    layout = _LAYOUTS.get(cls) or _layout(cls)
    if hasattr(cls, "__post_init__") or hasattr(cls, "__slots__") or not all(f.init for f in layout.fields):
        return _generic(cls, layout, direction)
    return (_encode_source if direction == "encode" else _decode_source)(cls, layout)


def _layout(cls: type) -> _Layout:
    try:
        hints = typing.get_type_hints(cls)
    except Exception as exc:  # noqa: BLE001 - a hint that names nothing: the class cannot be coded
        raise CodecError(f"cannot read the type hints of {cls.__name__}: {exc}") from exc
    fields = dataclasses.fields(cls)
    pads = [_pad(f, hints[f.name]) for f in fields]
    keep = len(fields)
    while keep and pads[keep - 1] is not None:
        keep -= 1
    _LAYOUTS[cls] = _Layout(fields, hints, pads, keep)
    return _LAYOUTS[cls]


def _pad(f: dataclasses.Field[Any], hint: Any) -> list[Any] | None:
    """``[encoded default]`` of a field whose default is a plain None/bool/int/str, else None."""
    if f.default is dataclasses.MISSING or type(f.default) not in (_NONE, bool, int, str):
        return None
    try:
        encoded = mc.codec_for(hint).encode(f.default)
    except CodecError:
        return None
    return [encoded] if type(encoded) in (_NONE, bool, int, str) else None


# --- decoding -------------------------------------------------------------------------------


def _decode_source(cls: type, layout: _Layout) -> Callable[[Any], Any]:
    fields, hints, pads, keep = layout.fields, layout.hints, layout.pads, layout.keep
    src, n, what = _Source(), len(fields), cls.__name__
    fill = [[p[0] for p in pads[k:] if p is not None] for k in range(keep, n + 1)]
    src.add(0, "def decode(data):")
    src.add(1, "if type(data) is not list:")
    src.fail(2, f"malformed {what}: not a list")
    if keep < n:
        src.add(1, f"if (size := len(data)) != {n}:")
        src.add(2, f"if not {keep} <= size < {n}:")
        src.fail(3, f"malformed {what}: not {n} fields")
        src.add(2, f"data = data + {src.name(fill)}[size - {keep}]")
    else:
        src.add(1, f"if len(data) != {n}:")
        src.fail(2, f"malformed {what}: not {n} fields")
    names = [f"f{i}" for i in range(n)]
    if n:
        src.add(1, f"{', '.join(names)}, = data")
    for var, f in zip(names, fields):
        _decode_value(src, hints[f.name], var, 1, f"{what}.{f.name}")
    src.add(1, f"obj = new({src.name(cls)})")
    if getattr(cls, "__setattr__") is object.__setattr__:
        for var, f in zip(names, fields):
            src.add(1, f"obj.{f.name} = {var}")
    else:  # frozen: what its __init__ does through object.__setattr__ (key by key: the class's shared keys)
        src.add(1, "fields = obj.__dict__")
        for var, f in zip(names, fields):
            src.add(1, f"fields[{f.name!r}] = {var}")
    src.add(1, "return obj")
    return src.compile("decode", cls)


def _decode_value(src: _Source, hint: Any, var: str, ind: int, where: str) -> None:
    """Lines that check ``var`` (the encoding of a ``hint``) and leave the value in it."""
    origin, args = typing.get_origin(hint), typing.get_args(hint)
    kind = _plain_enum(hint)
    if hint in _PRIMS:
        src.add(ind, f"if type({var}) is not {hint.__name__}:")
        src.fail(ind + 1, f"{where}: expected {hint.__name__}")
    elif kind is not None:
        table = {m.value: m for m in hint.__members__.values()}
        src.add(ind, f"if type({var}) is not {kind.__name__} or ({var} := {src.name(table)}.get({var})) is None:")
        src.fail(ind + 1, f"{where}: not a {hint.__name__}")
    elif _is_dataclass(hint):
        src.add(ind, f"{var} = {src.function(hint, 'decode')}({var})")
    elif _is_union(hint) and mc.codec_for(hint).untagged:
        _decode_union(src, hint, var, ind, where)
    elif origin in (list, set, frozenset) or (origin is tuple and len(args) == 2 and args[1] is Ellipsis):
        _decode_items(src, origin, args[0] if args else Any, var, ind, where)
    elif origin is dict and (not args or args[0] is str):
        _decode_dict(src, args[1] if args else Any, var, ind, where)
    else:
        src.add(ind, f"{var} = {src.function(hint, 'decode')}({var})")


def _decode_union(src: _Source, hint: Any, var: str, ind: int, where: str) -> None:
    nullable, alts = mc.alternatives(hint)
    kind = src.tmp()
    src.add(ind, f"{kind} = type({var})")
    same = [f"{kind} is {a.hint.__name__}" for a in alts if a.hint in _PRIMS] + ([f"{var} is None"] if nullable else [])
    branches: list[tuple[str, str | None]] = [(" or ".join(same), None)] if same else []
    rest: str | None = None
    for alt in alts:
        call = f"{var} = {src.function(alt.hint, 'decode')}({var})"
        if alt.kinds is None:  # the only alternative (Any | None)
            rest = call
        elif alt.hint not in _PRIMS:
            branches += [(f"{kind} is {src.name(k)}", call) for k in sorted(alt.kinds, key=lambda k: k.__name__)]
    for index, (condition, line) in enumerate(branches):
        src.add(ind, f"{'if' if index == 0 else 'elif'} {condition}:")
        src.add(ind + 1, line or "pass")
    src.add(ind, "else:" if branches else "if True:")
    if rest:
        src.add(ind + 1, rest)
    else:
        src.fail(ind + 1, f"{where}: none of its types")


def _item(src: _Source, hint: Any, var: str) -> str:
    """An expression decoding ``var`` (one item of a list or dict) as a ``hint``."""
    if _is_union(hint) and mc.codec_for(hint).untagged:
        prims = [a.hint for a in mc.alternatives(hint)[1] if a.hint in _PRIMS]
        if prims:
            return f"({var} if type({var}) is {prims[0].__name__} else {src.function(hint, 'decode')}({var}))"
    return f"{src.function(hint, 'decode')}({var})"


def _decode_items(src: _Source, origin: Any, item: Any, var: str, ind: int, where: str) -> None:
    src.add(ind, f"if type({var}) is not list:")
    src.fail(ind + 1, f"{where}: expected a list")
    x = src.tmp()
    if item in _PRIMS:
        src.add(ind, f"for {x} in {var}:")
        src.add(ind + 1, f"if type({x}) is not {item.__name__}:")
        src.fail(ind + 2, f"{where}: expected {item.__name__} items")
        src.add(ind, f"{var} = {origin.__name__}({var})")
    elif origin is list:
        src.add(ind, f"{var} = [{_item(src, item, x)} for {x} in {var}]")
    else:
        src.add(ind, f"{var} = {origin.__name__}([{_item(src, item, x)} for {x} in {var}])")


def _decode_dict(src: _Source, value: Any, var: str, ind: int, where: str) -> None:
    src.add(ind, f"if type({var}) is not dict:")
    src.fail(ind + 1, f"{where}: expected an object")
    k, x = src.tmp(), src.tmp()
    if value in _PRIMS:
        src.add(ind, f"for {k}, {x} in {var}.items():")
        src.add(ind + 1, f"if type({k}) is not str or type({x}) is not {value.__name__}:")
        src.fail(ind + 2, f"{where}: expected {value.__name__} values")
        src.add(ind, f"{var} = dict({var})")
    else:
        bad = f"fail({where + ': a key is not a string'!r})"
        src.add(ind, f"{var} = {{({k} if type({k}) is str else {bad}): {_item(src, value, x)} "
                     f"for {k}, {x} in {var}.items()}}")


# --- encoding -------------------------------------------------------------------------------


def _encode_source(cls: type, layout: _Layout) -> Callable[[Any], Any]:
    fields, hints, pads, keep = layout.fields, layout.hints, layout.pads, layout.keep
    src, n, what = _Source(), len(fields), cls.__name__
    names = [f"f{i}" for i in range(n)]
    src.add(0, "def encode(value):")
    src.add(1, f"if type(value) is not {src.name(cls)}:")
    src.add(2, f"fail({'expected ' + what + ', got '!r} + type(value).__name__)")
    for var, f in zip(names, fields):
        src.add(1, f"{var} = value.{f.name}")
    for var, f in zip(names, fields):
        _encode_value(src, hints[f.name], var, 1, f"{what}.{f.name}")
    _trimmed(src, names, pads, keep, n, 1)
    return src.compile("encode", cls)


def _trimmed(src: _Source, names: list[str], pads: list[list[Any] | None], keep: int, end: int, ind: int) -> None:
    """Return the fields before ``end`` (those after are at their defaults), less those before
    it that are at their defaults too (down to ``keep``)."""
    if end > keep:
        var, default = names[end - 1], typing.cast(list[Any], pads[end - 1])[0]
        same = f"{var} is {src.name(default)}" if default is None or type(default) is bool \
            else f"type({var}) is {type(default).__name__} and {var} == {src.name(default)}"
        src.add(ind, f"if {same}:")
        _trimmed(src, names, pads, keep, end - 1, ind + 1)
    src.add(ind, f"return [{', '.join(names[:end])}]")


def _encode_value(src: _Source, hint: Any, var: str, ind: int, where: str) -> None:
    """Lines that check ``var`` (a ``hint`` value) and leave its encoding in it."""
    origin, args = typing.get_origin(hint), typing.get_args(hint)
    if hint in (str, int):
        src.add(ind, f"if type({var}) is not {hint.__name__}:")
        src.add(ind + 1, f"{var} = {hint.__name__}_encode({var})")
    elif hint in (bool, float):
        src.add(ind, f"if type({var}) is not {hint.__name__}:")
        src.fail(ind + 1, f"{where}: expected {hint.__name__}")
    elif _plain_enum(hint) is not None:
        src.add(ind, f"if type({var}) is not {src.name(hint)}:")
        src.fail(ind + 1, f"{where}: expected a {hint.__name__}")
        src.add(ind, f"{var} = {var}._value_")
    elif _is_union(hint) and mc.codec_for(hint).untagged:
        _encode_union(src, hint, var, ind)
    elif origin is list:
        src.add(ind, f"if not isinstance({var}, list):")
        src.fail(ind + 1, f"{where}: expected a list")
        x = src.tmp()
        src.add(ind, f"{var} = [{_encoded(src, args[0] if args else Any, x)} for {x} in {var}]")
    elif origin is dict and (not args or args[0] is str):
        src.add(ind, f"if not isinstance({var}, dict):")
        src.fail(ind + 1, f"{where}: expected a dict")
        k, x = src.tmp(), src.tmp()
        src.add(ind, f"{var} = {{({k} if type({k}) is str else str_encode({k})): "
                     f"{_encoded(src, args[1] if args else Any, x)} for {k}, {x} in {var}.items()}}")
    else:  # a dataclass, None, Any, a set, a tuple, a tagged union
        src.add(ind, f"{var} = {src.function(hint, 'encode')}({var})")


def _encode_union(src: _Source, hint: Any, var: str, ind: int) -> None:
    nullable, alts = mc.alternatives(hint)
    kind = src.tmp()
    src.add(ind, f"{kind} = type({var})")
    same = [f"{kind} is {a.hint.__name__}" for a in alts if a.hint in _PRIMS] + ([f"{var} is None"] if nullable else [])
    branches: list[tuple[str, str | None]] = [(" or ".join(same), None)] if same else []
    for alt in alts:
        if _is_dataclass(alt.hint):
            branches.append((f"{kind} is {src.name(alt.hint)}", f"{var} = {src.function(alt.hint, 'encode')}({var})"))
        elif _plain_enum(alt.hint) is not None:
            branches.append((f"{kind} is {src.name(alt.hint)}", f"{var} = {var}._value_"))
    for index, (condition, line) in enumerate(branches):
        src.add(ind, f"{'if' if index == 0 else 'elif'} {condition}:")
        src.add(ind + 1, line or "pass")
    src.add(ind, "else:" if branches else "if True:")  # subclasses, containers, mistakes: the union's own check
    src.add(ind + 1, f"{var} = {src.name(mc.codec_for(hint).encode)}({var})")


def _encoded(src: _Source, hint: Any, var: str) -> str:
    """An expression encoding ``var`` (one item of a list or dict) as a ``hint``."""
    if hint in (str, int):
        return f"({var} if type({var}) is {hint.__name__} else {hint.__name__}_encode({var}))"
    if _is_union(hint) and mc.codec_for(hint).untagged:
        prims = [a.hint for a in mc.alternatives(hint)[1] if a.hint in _PRIMS]
        if prims:
            return f"({var} if type({var}) is {prims[0].__name__} else {src.function(hint, 'encode')}({var}))"
    return f"{src.function(hint, 'encode')}({var})"


# --- classes the generated code cannot build directly ------------------------------------------


def _generic(cls: type, layout: _Layout, direction: str) -> Callable[[Any], Any]:
    """The encoder or decoder of a dataclass with ``__post_init__``, slots or non-init fields:
    built through its ``__init__`` (none in the model today)."""
    fields = layout.fields
    codecs = [mc.codec_for(layout.hints[f.name]) for f in fields]

    def encode_object(value: Any) -> list[Any]:
        if type(value) is not cls:
            fail(f"expected {cls.__name__}, got {type(value).__name__}")
        return [c.encode(getattr(value, f.name)) for f, c in zip(fields, codecs)]

    def decode_object(data: Any) -> Any:
        if type(data) is not list or len(data) != len(fields):
            fail(f"malformed {cls.__name__}")
        values = [c.decode(d) for c, d in zip(codecs, data)]
        try:
            obj = cls(**{f.name: v for f, v in zip(fields, values) if f.init})
            for f, v in zip(fields, values):
                if not f.init:
                    object.__setattr__(obj, f.name, v)
        except Exception as exc:  # noqa: BLE001 - a class refusing the values: malformed data
            raise CodecError(f"cannot build {cls.__name__}: {exc}") from exc
        return obj
    return encode_object if direction == "encode" else decode_object
