"""JSON codec of one evaluated Terraform root module (``tf_rootcache``'s entries).

A root's result is what ``Loader.load_root`` adds and what its instances build: the model
fragment (``tf_fragments.Fragment``: an ``Estate`` written with ``iacscan.model_codec``, the
phase marks of its notes, its scopes and the literal ids it looked up), a trace of
``ParseError`` items interleaved with the module directories it read (``ModuleMark``: the
module's own parse errors, reported by the first root that reads it), the loader's
``Unresolved`` notes, the files it read, and the dependency list the entry is valid for.
The instances themselves are not kept.

``encode`` returns None when the result would not decode to an equal one (a value the model
codec refuses, a NaN…) or when the fragment must be built jointly (``live``): such a root is
simply not cached. ``decode`` treats its input as untrusted and returns None on anything of
the wrong shape (``CodecError`` from the model codec included). An entry is read in two
steps, ``load`` then ``finish``, so that a stale one (``deps`` changed) is not decoded.
"""
from __future__ import annotations

import json
from dataclasses import dataclass, field
from typing import Any

from iacscan import model_codec
from iacscan.model import Estate, Location, ParseError, Unresolved
from iacscan.parsers.tf_fragments import Fragment, valid_marks

#: Bump when the layout of an entry changes (it is part of the entries' tag).
FORMAT = "frag1"
_KEYS = {"deps", "files", "lits", "marks", "model", "scopes", "trace", "unres"}


@dataclass
class ModuleMark:
    """A module directory read by a root at this point of its error trace (``key``: its path
    relative to the scan root, ``os.path.relpath`` form) and that module's own parse errors."""

    key: str
    errors: list[ParseError]


@dataclass
class RootResult:
    """What evaluating one root module added to the loader, and what it depended on."""

    fragment: Fragment
    trace: list[ParseError | ModuleMark] = field(default_factory=list)
    unresolved: list[Unresolved] = field(default_factory=list)
    files: list[str] = field(default_factory=list)
    #: [key, fingerprint] of every directory and file the result depends on
    deps: list[list[str]] = field(default_factory=list)


class _Bad(ValueError):
    """A decoded entry that is not what this codec writes."""


def _error(error: ParseError) -> list[Any]:
    return [error.file, error.line, error.message]


def encode(result: RootResult) -> bytes | None:
    """The entry body of ``result``, or None when it would not decode to an equal result."""
    fragment = result.fragment
    if fragment.live:
        return None
    try:
        data = {
            "deps": result.deps,
            "files": result.files,
            "lits": fragment.literals,
            "marks": fragment.marks,
            "model": model_codec.encode(fragment.estate, Estate),
            "scopes": fragment.scopes,
            "trace": [_error(item) if isinstance(item, ParseError) else [item.key, [_error(e) for e in item.errors]]
                      for item in result.trace],
            "unres": [[u.resource, u.uid, u.what, u.reason, u.location.file, u.location.line]
                      for u in result.unresolved],
        }
        body = json.dumps(data, separators=(",", ":"), ensure_ascii=False, allow_nan=False,
                          check_circular=False).encode("utf-8", "surrogatepass")
    except (model_codec.CodecError, TypeError, ValueError, RecursionError):
        return None
    return body if decode(body) == result else None


def decode(body: bytes) -> RootResult | None:
    """The result an entry body holds, or None when anything in it has an unexpected shape."""
    loaded = load(body)
    return None if loaded is None else finish(*loaded)


def load(body: bytes) -> tuple[dict[str, Any], list[list[str]]] | None:
    """An entry's JSON and its dependency list (checked), or None; the rest is read by ``finish``."""
    try:
        data = json.loads(body.decode("utf-8", "surrogatepass"))
        if type(data) is not dict or data.keys() != _KEYS:
            return None
        return data, [_pair(dep) for dep in _list(data["deps"])]
    except (ValueError, TypeError, UnicodeError, RecursionError):  # _Bad is a ValueError
        return None


def finish(data: dict[str, Any], deps: list[list[str]]) -> RootResult | None:
    """The result of an entry ``load`` read, or None when anything in it has an unexpected shape."""
    try:
        estate = model_codec.decode(data["model"], Estate)
        fragment = Fragment(estate, _list(data["marks"]), _strings(data["scopes"]), _strings(data["lits"]))
        if not isinstance(estate, Estate) or not valid_marks(fragment):
            return None
        return RootResult(fragment=fragment,
                          trace=[_trace_item(item) for item in _list(data["trace"])],
                          unresolved=[_unresolved(row) for row in _list(data["unres"])],
                          files=_strings(data["files"]), deps=deps)
    except (ValueError, TypeError, RecursionError):  # _Bad and CodecError are ValueErrors
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
