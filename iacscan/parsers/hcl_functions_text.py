"""Terraform built-in functions on strings, numbers, encodings and IP networks.

Every function here is called only with fully known arguments (``hcl_eval`` checks).
Semantics follow https://developer.hashicorp.com/terraform/language/functions; regular
expressions use Python's ``re`` in place of RE2 (best effort for the common syntax).
Each ``fn_<name>`` implements the Terraform function ``<name>``.
"""
from __future__ import annotations

import base64
import hashlib
import ipaddress
import json
import math
import posixpath
import re
import urllib.parse
from typing import Any, Callable

from iacscan.parsers.hcl_values import (
    MAX_ITEMS, EvalError, describe, ensure_fits, norm_number, to_int, to_number, to_string,
)

_VERB = re.compile(r"%(?:\[(\d+)\])?([-+# 0]*)(\d+)?(?:\.(\d+))?(.)", re.S)
_MAX_WIDTH = 1000


# -- format ----------------------------------------------------------------------------
def _format_one(verb: str, flags: str, width: str | None, prec: str | None, value: Any) -> str:
    """One ``%`` verb of Terraform's ``format``."""
    if int(width or 0) > _MAX_WIDTH or int(prec or 0) > _MAX_WIDTH:
        raise EvalError("format width too large")
    spec = "%" + flags.replace("#", "") + (width or "") + ("." + prec if prec else "")
    if verb in "sv":
        structured = isinstance(value, (list, dict)) or value is None
        text = _json(value) if structured else to_string(value)
        if verb == "v" and "#" in flags:
            text = _json(value)
        return (spec + "s") % text
    if verb == "q":
        return (spec + "s") % json.dumps(to_string(value), ensure_ascii=False)
    if verb == "t":
        if not isinstance(value, bool):
            raise EvalError(f"%t needs a bool, got {describe(value)}")
        return (spec + "s") % ("true" if value else "false")
    number = to_number(value)
    if verb in "dboxX":
        whole = to_int(number)
        if verb == "b":
            return (spec + "s") % format(whole, "b")
        return (spec + verb) % whole
    if verb in "eEfgG":
        return (spec + verb) % number
    raise EvalError(f"unsupported format verb %{verb}")


def fn_format(fmt: Any, *args: Any) -> str:
    fmt = to_string(fmt)
    position = 0

    def replace(m: re.Match[str]) -> str:
        nonlocal position
        explicit, flags, width, prec, verb = m.groups()
        if verb == "%":
            return "%"
        if explicit:
            position = int(explicit) - 1
        if not 0 <= position < len(args):
            raise EvalError("not enough arguments for format string")
        value = args[position]
        position += 1
        return _format_one(verb, flags, width, prec, value)

    return _VERB.sub(replace, fmt)


def fn_formatlist(fmt: Any, *args: Any) -> list[str]:
    lengths = {len(arg) for arg in args if isinstance(arg, list)}
    if len(lengths) > 1:
        raise EvalError("formatlist() lists differ in length")
    count = lengths.pop() if lengths else 1
    out, size = [], 0
    for i in range(count):
        out.append(fn_format(fmt, *[a[i] if isinstance(a, list) else a for a in args]))
        size += len(out[-1])
        ensure_fits(size)
    return out


# -- strings ---------------------------------------------------------------------------
def fn_join(sep: Any, *lists: Any) -> str:
    items: list[str] = []
    for value in lists:
        if not isinstance(value, list):
            raise EvalError("join() needs lists")
        items.extend(to_string(item) if item is not None else _null_error() for item in value)
    sep = to_string(sep)
    ensure_fits(sum(map(len, items)) + len(sep) * len(items))
    return sep.join(items)


def _null_error() -> str:
    raise EvalError("null element in join()")


def fn_split(sep: Any, text: Any) -> list[str]:
    sep, text = to_string(sep), to_string(text)
    if sep == "":
        return list(text)
    return text.split(sep)


def fn_title(text: Any) -> str:
    out, boundary = [], True
    for char in to_string(text):
        out.append(char.upper() if boundary else char)
        boundary = not (char.isalnum() or char == "_")
    return "".join(out)


def fn_trim(text: Any, cutset: Any) -> str:
    return to_string(text).strip(to_string(cutset))


def fn_substr(text: Any, offset: Any, length: Any) -> str:
    text, offset, length = to_string(text), to_int(offset), to_int(length)
    if offset < 0:
        offset += len(text)
    if not 0 <= offset <= len(text):
        raise EvalError("substr() offset out of range")
    return text[offset:] if length < 0 else text[offset:offset + length]


def fn_chomp(text: Any) -> str:
    return re.sub(r"(\r\n|\n)+\Z", "", to_string(text))


def fn_indent(spaces: Any, text: Any) -> str:
    pad, text = " " * min(to_int(spaces), _MAX_WIDTH), to_string(text)
    ensure_fits(len(text) + text.count("\n") * len(pad))
    return text.replace("\n", "\n" + pad)


def fn_basename(path: Any) -> str:
    path = to_string(path)
    trimmed = path.rstrip("/")
    if not trimmed:
        return "/" if path else "."
    return trimmed.rsplit("/", 1)[-1]


def fn_dirname(path: Any) -> str:
    head = posixpath.dirname(to_string(path))
    return posixpath.normpath(head) if head else "."


# -- regular expressions ---------------------------------------------------------------
def _compile(pattern: Any) -> re.Pattern[str]:
    """An RE2 pattern as a Python pattern (named groups and ``\\z`` translated)."""
    text = to_string(pattern)
    if len(text) > 1000:
        raise EvalError("regular expression too long")
    text = re.sub(r"\(\?<(?=[A-Za-z_])", "(?P<", text).replace("\\z", "\\Z")
    try:
        return re.compile(text)
    except re.error as exc:
        raise EvalError(f"invalid regular expression: {exc}") from exc


def _match_value(rx: re.Pattern[str], m: re.Match[str]) -> Any:
    if rx.groupindex:
        return {name: m.group(name) for name in rx.groupindex}
    if rx.groups:
        return list(m.groups())
    return m.group()


def fn_regex(pattern: Any, text: Any) -> Any:
    rx = _compile(pattern)
    m = rx.search(to_string(text))
    if m is None:
        raise EvalError("regex() found no match")
    return _match_value(rx, m)


def fn_regexall(pattern: Any, text: Any) -> list[Any]:
    rx = _compile(pattern)
    return [_match_value(rx, m) for m in rx.finditer(to_string(text))]


def _go_expand(template: str, m: re.Match[str]) -> str:
    """Go ``regexp.Expand``-style replacement: ``$1``, ``${1}``, ``$name``, ``$$``."""

    def group(ref: re.Match[str]) -> str:
        name = ref.group(1) or ref.group(2)
        if name is None:
            return "$"
        try:
            value = m.group(int(name) if name.isdigit() else name)
        except IndexError:
            return ""
        return value or ""

    return re.sub(r"\$(?:\{(\w+)\}|(\w+)|\$)", group, template)



def fn_replace(text: Any, search: Any, replacement: Any) -> str:
    text, search, replacement = to_string(text), to_string(search), to_string(replacement)
    if len(search) > 1 and search.startswith("/") and search.endswith("/"):
        rx = _compile(search[1:-1])
        size = len(text)

        def expand(m: re.Match[str]) -> str:
            nonlocal size
            piece = _go_expand(replacement, m)
            size += len(piece)
            ensure_fits(size)
            return piece

        return rx.sub(expand, text)
    if search == "":
        raise EvalError("replace() with an empty search string")
    ensure_fits(len(text) + text.count(search) * len(replacement))
    return text.replace(search, replacement)


# -- numbers ---------------------------------------------------------------------------
def _numbers(args: tuple[Any, ...], name: str) -> list[int | float]:
    if not args:
        raise EvalError(f"{name}() needs at least one number")
    return [to_number(arg) for arg in args]


def fn_range(*args: Any) -> list[int | float]:
    if not 1 <= len(args) <= 3:
        raise EvalError("range() takes 1 to 3 arguments")
    nums = [to_number(arg) for arg in args]
    start, limit = (0, nums[0]) if len(nums) == 1 else (nums[0], nums[1])
    step = nums[2] if len(nums) == 3 else (1 if limit >= start else -1)
    if step == 0 or (step > 0) != (limit >= start) and limit != start:
        raise EvalError("range() step does not move towards the limit")
    if abs((limit - start) / step) > MAX_ITEMS:
        raise EvalError("range() too large")
    out: list[int | float] = []
    value = start
    while (value < limit) if step > 0 else (value > limit):
        out.append(norm_number(value))
        value += step
    return out


def fn_sum(items: Any) -> int | float:
    if not isinstance(items, list) or not items:
        raise EvalError("sum() needs a non-empty list")
    return norm_number(sum(to_number(item) for item in items))


def fn_parseint(text: Any, base: Any) -> int:
    try:
        return int(to_string(text), to_int(base))
    except ValueError as exc:
        raise EvalError(f"parseint(): {exc}") from exc


def fn_log(value: Any, base: Any) -> int | float:
    return norm_number(math.log(to_number(value), to_number(base)))


def fn_pow(value: Any, power: Any) -> int | float:
    base, exp = to_number(value), to_number(power)
    if abs(exp) > 1024:
        raise EvalError("pow() exponent too large")
    return norm_number(float(base) ** exp if isinstance(base, float) or exp < 0 else base ** exp)


# -- encodings -------------------------------------------------------------------------
def _json(value: Any) -> str:
    text = json.dumps(value, ensure_ascii=False, separators=(",", ":"), sort_keys=True)
    for char, code in (("<", "\\u003c"), (">", "\\u003e"), ("&", "\\u0026"),
                       ("\u2028", "\\u2028"), ("\u2029", "\\u2029")):
        text = text.replace(char, code)
    return text


def _norm_json(value: Any) -> Any:
    if isinstance(value, float):
        return norm_number(value)
    if isinstance(value, list):
        return [_norm_json(item) for item in value]
    if isinstance(value, dict):
        return {key: _norm_json(item) for key, item in value.items()}
    return value


def fn_jsondecode(text: Any) -> Any:
    try:
        return _norm_json(json.loads(to_string(text)))
    except (ValueError, RecursionError) as exc:
        raise EvalError(f"jsondecode(): {exc}") from exc


def fn_base64decode(text: Any) -> str:
    try:
        return base64.b64decode(to_string(text), validate=True).decode("utf-8")
    except ValueError as exc:
        raise EvalError(f"base64decode(): {exc}") from exc


def _digest(name: str, encode: Callable[[bytes], str]) -> Callable[[Any], str]:
    def digest(text: Any) -> str:
        return encode(hashlib.new(name, to_string(text).encode("utf-8")).digest())

    return digest


# -- networks --------------------------------------------------------------------------
def _network(prefix: Any) -> ipaddress.IPv4Network | ipaddress.IPv6Network:
    try:
        return ipaddress.ip_network(to_string(prefix), strict=False)
    except ValueError as exc:
        raise EvalError(f"invalid CIDR prefix: {exc}") from exc


def _subnet(net: Any, newbits: int, netnum: int) -> Any:
    length = net.prefixlen + newbits
    if newbits < 0 or length > net.max_prefixlen:
        raise EvalError(f"cannot extend prefix /{net.prefixlen} by {newbits} bits")
    if not 0 <= netnum < 2**newbits:
        raise EvalError(f"network number {netnum} does not fit in {newbits} bits")
    base = int(net.network_address) + (netnum << (net.max_prefixlen - length))
    return ipaddress.ip_network((base, length))


def fn_cidrsubnet(prefix: Any, newbits: Any, netnum: Any) -> str:
    return str(_subnet(_network(prefix), to_int(newbits), to_int(netnum)))


def fn_cidrhost(prefix: Any, hostnum: Any) -> str:
    net, number = _network(prefix), to_int(hostnum)
    size = net.num_addresses
    if number < 0:
        number += size
    if not 0 <= number < size:
        raise EvalError(f"host number {hostnum} does not fit in {net}")
    return str(net.network_address + number)


def fn_cidrnetmask(prefix: Any) -> str:
    net = _network(prefix)
    if net.version != 4:
        raise EvalError("cidrnetmask() only supports IPv4")
    return str(net.netmask)


def fn_cidrsubnets(prefix: Any, *newbits: Any) -> list[str]:
    net = _network(prefix)
    start, out = int(net.network_address), []
    for bits in (to_int(b) for b in newbits):
        length = net.prefixlen + bits
        if bits < 1 or length > net.max_prefixlen:
            raise EvalError(f"cannot extend prefix /{net.prefixlen} by {bits} bits")
        size = 2 ** (net.max_prefixlen - length)
        start = -(-start // size) * size
        if start + size > int(net.broadcast_address) + 1:
            raise EvalError("not enough address space for cidrsubnets()")
        out.append(str(ipaddress.ip_network((start, length))))
        start += size
    return out


def _str1(func: Callable[[str], Any]) -> Callable[[Any], Any]:
    """A one-string-argument function."""
    return lambda text: func(to_string(text))


TEXT_FUNCTIONS: dict[str, Callable[..., Any]] = {
    "format": fn_format, "formatlist": fn_formatlist, "join": fn_join, "split": fn_split,
    "lower": _str1(str.lower), "upper": _str1(str.upper), "title": fn_title,
    "trimspace": _str1(str.strip), "trim": fn_trim, "strrev": _str1(lambda s: s[::-1]),
    "trimprefix": lambda s, p: to_string(s).removeprefix(to_string(p)),
    "trimsuffix": lambda s, p: to_string(s).removesuffix(to_string(p)),
    "startswith": lambda s, p: to_string(s).startswith(to_string(p)),
    "endswith": lambda s, p: to_string(s).endswith(to_string(p)),
    "strcontains": lambda s, p: to_string(p) in to_string(s),
    "basename": fn_basename, "dirname": fn_dirname,
    "replace": fn_replace, "substr": fn_substr, "chomp": fn_chomp, "indent": fn_indent,
    "regex": fn_regex, "regexall": fn_regexall,
    "range": fn_range, "sum": fn_sum, "parseint": fn_parseint, "log": fn_log, "pow": fn_pow,
    "min": lambda *a: norm_number(min(_numbers(a, "min"))),
    "max": lambda *a: norm_number(max(_numbers(a, "max"))),
    "abs": lambda n: norm_number(abs(to_number(n))),
    "ceil": lambda n: math.ceil(to_number(n)), "floor": lambda n: math.floor(to_number(n)),
    "signum": lambda n: (to_number(n) > 0) - (to_number(n) < 0),
    "jsonencode": _json, "jsondecode": fn_jsondecode,
    "base64encode": _str1(lambda s: base64.b64encode(s.encode("utf-8")).decode("ascii")),
    "base64decode": fn_base64decode,
    "urlencode": _str1(lambda s: urllib.parse.quote_plus(s, safe="")),
    "md5": _digest("md5", bytes.hex), "sha1": _digest("sha1", bytes.hex),
    "sha256": _digest("sha256", bytes.hex), "sha512": _digest("sha512", bytes.hex),
    "base64sha256": _digest("sha256", lambda b: base64.b64encode(b).decode("ascii")),
    "base64sha512": _digest("sha512", lambda b: base64.b64encode(b).decode("ascii")),
    "cidrsubnet": fn_cidrsubnet, "cidrhost": fn_cidrhost, "cidrnetmask": fn_cidrnetmask,
    "cidrsubnets": fn_cidrsubnets,
}
