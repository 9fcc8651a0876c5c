"""JSON codec of one evaluated Terraform root module (``tf_rootcache``'s entries).

A root's result is what ``Loader.load_root`` adds: ``ResourceInstance`` objects, a trace of
``ParseError`` items interleaved with the module directories it read (``ModuleMark``: the
module's own parse errors, reported by the first root that reads it), ``Unresolved`` notes,
the files it read, and the dependency list the entry is valid for.

Attribute values are JSON values plus ``ResourceRef`` and ``Unknown``, each written as a
one-key object whose key starts with NUL (``{"\\u0000r": [address, attribute]}``,
``{"\\u0000u": reason}``); anything else (tuples, sets, non-string keys, NaN, a dict that
happens to look like a tagged object) does not survive ``encode`` → ``decode`` unchanged,
and ``encode`` returns None: such a root is simply not cached. ``decode`` treats its input
as untrusted and returns None on any field of the wrong type.
"""
from __future__ import annotations

import json
from dataclasses import dataclass, field
from typing import Any

from iacscan.model import Location, ParseError, Unknown, Unresolved
from iacscan.parsers.tf_types import ResourceInstance, ResourceRef

_REF, _UNK = "\x00r", "\x00u"


@dataclass
class ModuleMark:
    """A module directory read by a root at this point of its error trace (``key``: its path
    relative to the scan root, ``os.path.relpath`` form) and that module's own parse errors."""

    key: str
    errors: list[ParseError]


@dataclass
class RootResult:
    """What evaluating one root module added to the loader, and what it depended on."""

    instances: list[ResourceInstance] = field(default_factory=list)
    trace: list[ParseError | ModuleMark] = field(default_factory=list)
    unresolved: list[Unresolved] = field(default_factory=list)
    files: list[str] = field(default_factory=list)
    #: [key, fingerprint] of every directory and file the result depends on
    deps: list[list[str]] = field(default_factory=list)


class _Bad(ValueError):
    """A decoded entry that is not what this codec writes."""


def _default(obj: Any) -> Any:
    if type(obj) is ResourceRef:
        return {_REF: [obj.address, obj.attribute]}
    if type(obj) is Unknown:
        return {_UNK: obj.reason}
    raise TypeError(f"not cacheable: {type(obj).__name__}")


def _hook(obj: dict[str, Any]) -> Any:
    if _REF in obj:
        value = obj[_REF]
        if len(obj) != 1 or not (isinstance(value, list) and len(value) == 2
                                 and isinstance(value[0], str) and isinstance(value[1], str)):
            raise _Bad("bad reference")
        return ResourceRef(value[0], value[1])
    if _UNK in obj:
        value = obj[_UNK]
        if len(obj) != 1 or not isinstance(value, str):
            raise _Bad("bad unknown")
        return Unknown(value)
    return obj


def _error(error: ParseError) -> list[Any]:
    return [error.file, error.line, error.message]


def encode(result: RootResult) -> bytes | None:
    """The entry body of ``result``, or None when it would not decode to an equal result."""
    data = {
        "deps": result.deps,
        "files": result.files,
        "inst": [[i.uid, i.address, i.type, i.name, i.mode, i.scope, i.module_path, i.attrs,
                  i.location.file, i.location.line, i.attr_lines, i.source] for i in result.instances],
        "trace": [_error(item) if isinstance(item, ParseError) else [item.key, [_error(e) for e in item.errors]]
                  for item in result.trace],
        "unres": [[u.resource, u.uid, u.what, u.reason, u.location.file, u.location.line]
                  for u in result.unresolved],
    }
    try:
        body = json.dumps(data, default=_default, separators=(",", ":"), ensure_ascii=False,
                          allow_nan=False, check_circular=False).encode("utf-8", "surrogatepass")
    except (TypeError, ValueError, RecursionError):
        return None
    return body if decode(body) == result else None


def decode(body: bytes) -> RootResult | None:
    """The result an entry body holds, or None when anything in it has an unexpected shape."""
    try:
        data = json.loads(body.decode("utf-8", "surrogatepass"), object_hook=_hook)
        if not isinstance(data, dict) or set(data) != {"deps", "files", "inst", "trace", "unres"}:
            return None
        return RootResult(instances=[_instance(row) for row in _list(data["inst"])],
                          trace=[_trace_item(item) for item in _list(data["trace"])],
                          unresolved=[_unresolved(row) for row in _list(data["unres"])],
                          files=_strings(data["files"]),
                          deps=[_pair(dep) for dep in _list(data["deps"])])
    except (ValueError, TypeError, UnicodeError, RecursionError):  # _Bad is a ValueError
        return None


def _list(value: Any) -> list[Any]:
    if not isinstance(value, list):
        raise _Bad("not a list")
    return value


def _strings(value: Any) -> list[str]:
    if not isinstance(value, list) or not set(map(type, value)) <= _STR:
        raise _Bad("not a list of strings")
    return value


_STR = {str}
_INT = {int}


def _pair(value: Any) -> list[str]:
    if len(_strings(value)) != 2:
        raise _Bad("not a pair")
    return value  # type: ignore[no-any-return]


def _int(value: Any) -> int:
    if type(value) is not int:
        raise _Bad("not an int")
    return value


def _str(value: Any) -> str:
    if type(value) is not str:
        raise _Bad("not a string")
    return value


def _instance(row: Any) -> ResourceInstance:
    if type(row) is not list or len(row) != 12:
        raise _Bad("not an instance")
    uid, address, typ, name, mode, scope, module_path, attrs, file, line, attr_lines, source = row
    if not (set(map(type, (uid, address, typ, name, mode, scope, module_path, file, source))) <= _STR
            and type(line) is int and type(attrs) is dict and type(attr_lines) is dict
            and set(map(type, attr_lines.values())) <= _INT):
        raise _Bad("not an instance")
    return ResourceInstance(uid=uid, address=address, type=typ, name=name, mode=mode, scope=scope,
                            module_path=module_path, attrs=attrs, location=Location(file, line),
                            attr_lines=attr_lines, source=source)


def _parse_error(row: Any) -> ParseError:
    if not isinstance(row, list) or len(row) != 3:
        raise _Bad("not an error")
    return ParseError(_str(row[0]), _int(row[1]), _str(row[2]))


def _trace_item(item: Any) -> ParseError | ModuleMark:
    if isinstance(item, list) and len(item) == 2:
        return ModuleMark(_str(item[0]), [_parse_error(row) for row in _list(item[1])])
    return _parse_error(item)


def _unresolved(row: Any) -> Unresolved:
    if not isinstance(row, list) or len(row) != 6:
        raise _Bad("not an unresolved note")
    resource, uid, what, reason, file, line = row
    return Unresolved(_str(resource), _str(uid), _str(what), _str(reason), Location(_str(file), _int(line)))
