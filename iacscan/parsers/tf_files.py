"""Read Terraform files (``*.tf`` HCL and ``*.tf.json``) into ``Block`` trees with line numbers.

Each HCL file is read once by ``hcl_fast`` (a direct reader of the same shapes, ~20x faster);
what it does not read is parsed with python-hcl2: ``hcl2.parses`` gives the rule tree,
``hcl2.serialize`` the values (``"${...}"`` strings, lists, dicts, literals, the shapes
``hcl_eval`` evaluates). The tree is walked in step with the serialised dict to attach
the start line of every block, attribute and attribute-form list element
(``ingress = [{...}]``). JSON files (Terraform JSON syntax) map to the same ``Block``
shape; their lines are best-effort (the line of each JSON object's ``{``).
"""
from __future__ import annotations

import bisect
import hashlib
import json
import json.scanner
from dataclasses import dataclass, field, replace
from pathlib import Path
from typing import Any

import hcl2
from hcl2 import SerializationOptions
from hcl2.rules.base import AttributeRule, BlockRule, BodyRule
from hcl2.rules.containers import ObjectRule, TupleRule
from hcl2.rules.expressions import ExprTermRule
from lark.exceptions import UnexpectedInput

from iacscan.limits import LimitExceeded, check_file_size, check_nesting, deadline
from iacscan.model import ParseError

OPTIONS = SerializationOptions(
    strip_string_quotes=True, with_comments=False, explicit_blocks=True, preserve_heredocs=False,
)
IS_BLOCK = "__is_block__"


@dataclass
class Block:
    """One HCL block (``resource "t" "n" {...}``, ``ingress {...}``, ``locals {...}``...)."""

    kind: str
    labels: list[str]
    line: int
    file: str
    attrs: dict[str, Any] = field(default_factory=dict)
    attr_lines: dict[str, int] = field(default_factory=dict)
    #: attribute-form lists (``ingress = [{...}, {...}]``): the start line of each element
    element_lines: dict[str, list[int]] = field(default_factory=dict)
    blocks: list[Block] = field(default_factory=list)


@dataclass
class FileResult:
    blocks: list[Block] = field(default_factory=list)
    error: ParseError | None = None


def read_text(path: Path) -> str:
    """The text of a file (a UTF-8 BOM is dropped); ``LimitExceeded`` when it is too large."""
    check_file_size(path)
    return path.read_text(encoding="utf-8-sig")


#: Parsed files by (kind, sha256 of text): generated repos hold many identical files.
ParseCache = dict[tuple[bool, bytes], list[Block]]


def load_file(path: Path, rel: str, cache: ParseCache | None = None) -> FileResult:
    """Parse one ``.tf`` or ``.tf.json`` file; any failure becomes a ``ParseError``.
    A file whose text was parsed before (``cache``) is not parsed again."""
    try:
        text = read_text(path)
        key = text_key(path, text)
        cached = cache.get(key) if cache is not None else None
        if cached is None:
            cached = parse_uncached(path, text)
            if cache is not None:
                cache[key] = cached
        return FileResult(blocks=[_relocated(block, rel) for block in cached])
    except LimitExceeded as exc:
        return FileResult(error=ParseError(rel, exc.line, str(exc)))
    except UnicodeDecodeError as exc:
        return FileResult(error=ParseError(rel, 0, f"the file is not valid UTF-8 (byte {exc.start})"))
    except UnexpectedInput as exc:
        return FileResult(error=ParseError(rel, _error_line(exc, path), _first_line(str(exc))))
    except json.JSONDecodeError as exc:
        return FileResult(error=ParseError(rel, exc.lineno, f"invalid JSON: {exc.msg}"))
    except Exception as exc:  # noqa: BLE001 - bad input must never become a traceback
        return FileResult(error=ParseError(rel, 0, f"cannot read Terraform file: {type(exc).__name__}: {exc}"))


def text_key(path: Path, text: str) -> tuple[bool, bytes]:
    """The parse-cache key of a file: its syntax (JSON or not) and a hash of its text."""
    return path.name.lower().endswith(".json"), hashlib.sha256(text.encode("utf-8", "surrogatepass")).digest()


def parse_uncached(path: Path, text: str) -> list[Block]:
    """The blocks of one file's text (``file`` left empty; ``load_file`` sets it). Raises on bad input
    (``LimitExceeded`` when it nests too deeply or takes too long: ``iacscan.limits``)."""
    check_nesting(text)
    with deadline("parsing the file"):
        if text_key(path, "")[0]:
            return json_blocks(parse_json(text), "")
        from iacscan.parsers.hcl_fast import FastParseError, fast_blocks  # imports this module

        try:
            return fast_blocks(text, "")  # ~20x faster; python-hcl2 decides whatever it does not read
        except (FastParseError, RecursionError):
            return hcl_blocks(text, "")


def _relocated(block: Block, rel: str) -> Block:
    """A copy of a cached block tree that names ``rel`` as its file (values are shared)."""
    return replace(block, file=rel, blocks=[_relocated(child, rel) for child in block.blocks])


def _error_line(exc: UnexpectedInput, path: Path) -> int:
    line = getattr(exc, "line", -1)
    if isinstance(line, int) and line > 0:
        return line
    try:
        return max(1, read_text(path).count("\n"))
    except OSError:
        return 0


def _first_line(message: str) -> str:
    return message.strip().splitlines()[0] if message.strip() else "syntax error"


# --- HCL --------------------------------------------------------------------------------


def node_line(node: Any) -> int:
    """The 1-based start line python-hcl2 recorded for a rule node (private ``_meta``)."""
    meta = getattr(node, "_meta", None)
    line = getattr(meta, "line", 0) if meta is not None else 0
    return line if isinstance(line, int) else 0


def parse_hcl(text: str) -> dict[str, Any]:
    """Attributes of an HCL document with no blocks of interest (``.tfvars``)."""
    from iacscan.parsers.hcl_fast import FastParseError, fast_attributes

    try:
        return fast_attributes(text)
    except (FastParseError, RecursionError):
        return dict(hcl2.serialize(hcl2.parses(text), serialization_options=OPTIONS))


def hcl_blocks(text: str, rel: str) -> list[Block]:
    """The top-level blocks of one HCL file."""
    tree = hcl2.parses(text)
    data = hcl2.serialize(tree, serialization_options=OPTIONS)
    top = Block(kind="", labels=[], line=1, file=rel)
    _fill_body(top, tree.body, data)
    return top.blocks


def _fill_body(block: Block, body: BodyRule, data: dict[str, Any]) -> None:
    seen: dict[str, int] = {}
    for child in body.children:
        if isinstance(child, AttributeRule):
            name = child.identifier.serialize(OPTIONS)
            block.attrs[name] = data.get(name)
            block.attr_lines[name] = node_line(child)
            lines = _tuple_element_lines(child.expression)
            if lines:
                block.element_lines[name] = lines
        elif isinstance(child, BlockRule):
            labels = [str(label.serialize(OPTIONS)) for label in child.labels]
            index = seen.get(labels[0], 0)
            seen[labels[0]] = index + 1
            entry: Any = data[labels[0]][index]
            for label in labels[1:]:
                entry = entry[label]
            nested = Block(kind=labels[0], labels=labels[1:], line=node_line(child), file=block.file)
            _fill_body(nested, child.body, entry)
            block.blocks.append(nested)


def _tuple_element_lines(expression: Any) -> list[int]:
    """Start lines of the elements of a literal tuple (``[{...}, {...}]``), else []."""
    for child in getattr(expression, "children", None) or []:
        if isinstance(child, TupleRule):
            return [_element_line(element) for element in child.children
                    if isinstance(element, ExprTermRule)]
    return []


def _element_line(element: Any) -> int:
    for child in getattr(element, "children", None) or []:
        if isinstance(child, ObjectRule):
            return node_line(child)
    return node_line(element)


# --- JSON -------------------------------------------------------------------------------


_PY_SCANNER: Any = getattr(json.scanner, "py_make_scanner")


class LineDict(dict):  # type: ignore[type-arg]
    """A JSON object that remembers the line of its ``{``."""

    line: int = 0


def parse_json(text: str) -> Any:
    """``json.loads`` that records each object's start line (``LineDict.line``)."""
    newlines = [i for i, char in enumerate(text) if char == "\n"]
    decoder: Any = json.JSONDecoder()  # its parse_object/scan_once hooks are untyped
    plain_object = decoder.parse_object

    def parse_object(s_and_end: tuple[str, int], *args: Any) -> tuple[Any, int]:
        obj, end = plain_object(s_and_end, *args)
        result = LineDict(obj)
        result.line = bisect.bisect_left(newlines, s_and_end[1]) + 1
        return result, end

    decoder.parse_object = parse_object
    decoder.scan_once = _PY_SCANNER(decoder)  # the C scanner ignores parse_object
    return decoder.decode(text)


def _line_of(value: Any, default: int) -> int:
    if isinstance(value, list):
        return next((item.line for item in value if getattr(item, "line", 0)), default)
    return getattr(value, "line", 0) or default


#: Nested block types that Terraform JSON may write as a single object instead of a list.
JSON_BLOCK_NAMES = frozenset({
    "ingress", "egress", "root_block_device", "ebs_block_device", "vpc_config", "network_configuration",
    "network_interface", "network_interfaces", "metadata_options", "subnet_mapping", "default_action",
    "access_logs", "vpc_options",
})
LABEL_DEPTH = {"resource": 2, "data": 2, "module": 1, "variable": 1, "output": 1, "provider": 1}


def json_blocks(doc: Any, rel: str) -> list[Block]:
    """The top-level blocks of a Terraform JSON document, shaped like the HCL ones."""
    blocks: list[Block] = []
    if not isinstance(doc, dict):
        raise ValueError("a .tf.json file must hold a JSON object")
    for kind, body in doc.items():
        if kind == "//":
            continue
        for labels, content in _json_labelled(body, LABEL_DEPTH.get(kind, 0), []):
            blocks.append(_json_block(kind, labels, content, rel, _line_of(content, 1)))
    return blocks


def _json_labelled(body: Any, depth: int, labels: list[str]) -> list[tuple[list[str], Any]]:
    if depth == 0:
        items = body if isinstance(body, list) else [body]
        return [(labels, item) for item in items if isinstance(item, dict)]
    if isinstance(body, list):
        return [found for item in body for found in _json_labelled(item, depth, labels)]
    if not isinstance(body, dict):
        return []
    return [found for key, value in body.items() if key != "//"
            for found in _json_labelled(value, depth - 1, [*labels, key])]


def _json_block(kind: str, labels: list[str], content: dict[str, Any], rel: str, line: int) -> Block:
    block = Block(kind=kind, labels=labels, line=line, file=rel)
    for name, value in content.items():
        if name == "//":
            continue
        if name == "dynamic" and isinstance(value, dict):
            for label, body in value.items():
                items = body if isinstance(body, list) else [body]
                for item in items:
                    block.blocks.append(_json_dynamic(label, item, rel, _line_of(item, line)))
            continue
        if name in JSON_BLOCK_NAMES and isinstance(value, dict):
            value = [value]  # a single nested block may be written as one object
        block.attrs[name] = value
        block.attr_lines[name] = _line_of(value, line)
        if isinstance(value, list):
            block.element_lines[name] = [_line_of(item, line) for item in value]
    return block


def _json_dynamic(label: str, body: Any, rel: str, line: int) -> Block:
    body = body if isinstance(body, dict) else {}
    dynamic = Block(kind="dynamic", labels=[label], line=line, file=rel)
    for name, value in body.items():
        if name == "content":
            content = value[0] if isinstance(value, list) and value else value
            dynamic.blocks.append(_json_block("content", [], content if isinstance(content, dict) else {},
                                              rel, _line_of(content, line)))
        elif name != "//":
            dynamic.attrs[name] = value
            dynamic.attr_lines[name] = line
    return dynamic


def load_tfvars(path: Path) -> dict[str, Any]:
    """The variable values of a ``.tfvars`` (HCL) or ``.tfvars.json`` file (unevaluated for HCL)."""
    text = read_text(path)
    if path.name.lower().endswith(".json"):
        values = json.loads(text)
        if not isinstance(values, dict):
            raise ValueError("a .tfvars.json file must hold a JSON object")
        return values
    return {key: value for key, value in parse_hcl(text).items() if key != IS_BLOCK}
