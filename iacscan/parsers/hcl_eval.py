"""Evaluate Terraform expressions as python-hcl2 8.x serialises them.

python-hcl2 (``strip_string_quotes=True, preserve_heredocs=False``) turns every
non-literal expression into a string: ``"${expr}"`` for a whole expression, or text
mixed with ``${...}``/``%{...}`` for a template. :func:`evaluate` walks such values,
parses the expression text (``hcl_parse``, cached) and evaluates it against a
:class:`~iacscan.parsers.tf_types.Scope`.

Values not known before apply stay explicit: ``Unknown(reason)`` or ``ResourceRef``.
Nothing raises to the caller: any error becomes ``Unknown("cannot evaluate
expression: ...")``.
"""
from __future__ import annotations

from typing import Any, Callable

from iacscan.model import Unknown
from iacscan.parsers.hcl_ast import (
    AttrStep, Binary, Call, Conditional, ForExpr, IndexStep, Interp, Literal, Name, Node,
    ObjectExpr, Part, Template, TemplateFor, TemplateIf, Traversal, TupleExpr, Unary,
)
from iacscan.parsers.hcl_functions import FUNCTIONS, TOLERANT, UNEVALUATED, make_set
from iacscan.parsers.hcl_parse import parse_expression, parse_template_parts
from iacscan.parsers.hcl_values import (
    MAX_ITEMS, BudgetExceeded, ChildScope, EvalError, UnknownResult, arith, as_unknown,
    charge, check_size, deep_unknown, ensure_fits, hcl_equal, index_value, iterate,
    norm_number, to_bool, to_number, to_string, work_budget,
)
from iacscan.parsers.tf_types import Scope

__all__ = ["evaluate", "evaluate_expression", "is_expression", "child_scope", "index_value"]


def is_expression(value: Any) -> bool:
    """True for a string that contains ``${...}`` or ``%{...}`` (needs evaluation)."""
    return isinstance(value, str) and ("${" in value or "%{" in value)


def evaluate(value: Any, scope: Scope) -> Any:
    """Evaluate a value as python-hcl2 serialises it (see the module docstring).

    A string that is exactly one ``"${expr}"`` evaluates to the expression's value of any
    type; a string mixing text and interpolations is a template; plain strings and other
    literals stay as they are; lists and dicts are evaluated element-wise (dict keys too
    when they hold ``${...}``; a key whose value cannot be known keeps its source text).
    """
    return _evaluate_value(value, scope, 0)


def evaluate_expression(text: str, scope: Scope) -> Any:
    """Evaluate the source text of one HCL expression (without ``${ }``)."""
    try:
        with work_budget():
            return _eval(parse_expression(text), scope)
    except UnknownResult as exc:
        return exc.unknown
    except Exception as exc:  # noqa: BLE001 - bad input must never raise to the caller
        return _failure(text, exc)


def child_scope(parent: Scope, names: dict[str, Any]) -> Scope:
    """A scope answering the root names in ``names`` itself and delegating the rest."""
    return ChildScope(parent, names)


def _failure(text: str, exc: BaseException) -> Unknown:
    """The Unknown reported for an expression that cannot be evaluated."""
    short = text if len(text) <= 120 else text[:117] + "..."
    detail = str(exc) or type(exc).__name__
    return Unknown(f"cannot evaluate expression: {short}: {detail}")


def _evaluate_value(value: Any, scope: Scope, depth: int) -> Any:
    """Element-wise evaluation of python-hcl2 output."""
    if depth > 100:
        return Unknown("cannot evaluate expression: value nested too deeply")
    if isinstance(value, str):
        return _evaluate_string(value, scope) if is_expression(value) else value
    if isinstance(value, list):
        return [_evaluate_value(item, scope, depth + 1) for item in value]
    if isinstance(value, dict):
        out: dict[Any, Any] = {}
        for key, item in value.items():
            if is_expression(key):
                new_key = _evaluate_string(key, scope)
                if isinstance(new_key, (str, int, float)):
                    key = to_string(new_key)
            out[key] = _evaluate_value(item, scope, depth + 1)
        return out
    return value


def _evaluate_string(text: str, scope: Scope) -> Any:
    """A whole-string ``${expr}`` gives its value; other strings render as templates."""
    try:
        parts = parse_template_parts(text)
        with work_budget():
            if len(parts) == 1 and isinstance(parts[0], Interp):
                return _eval(parts[0].expr, scope)
            return _render(parts, scope)
    except UnknownResult as exc:
        return exc.unknown
    except Exception as exc:  # noqa: BLE001 - bad input must never raise to the caller
        return _failure(text, exc)


# -- nodes ---------------------------------------------------------------------------
def _eval(node: Node, scope: Scope) -> Any:
    """Evaluate one syntax-tree node."""
    charge(1)
    return _DISPATCH[type(node)](node, scope)


def _eval_literal(node: Literal, scope: Scope) -> Any:
    return node.value


def _eval_name(node: Name, scope: Scope) -> Any:
    return _resolve(scope, (node.name,))


def _resolve(scope: Scope, traversal: tuple[str | int, ...]) -> Any:
    """Ask the scope; a resolver exception becomes an evaluation error. Tuples and sets
    a scope may hand back become lists (sets ordered as Terraform orders them)."""
    try:
        value = scope.resolve(traversal)
        if isinstance(value, tuple):
            return list(value)
        if isinstance(value, (set, frozenset)):
            return make_set(list(value))
        return value
    except EvalError:
        raise
    except Exception as exc:  # noqa: BLE001 - resolver failures are evaluation errors
        path = ".".join(str(step) for step in traversal)
        raise EvalError(f"cannot resolve {path}: {exc}") from exc


def _eval_traversal(node: Traversal, scope: Scope) -> Any:
    """Static traversals go to the scope whole; others index the evaluated root."""
    keys: list[str | int] = []
    for step in node.steps:
        if isinstance(step, AttrStep):
            keys.append(step.name)
        elif isinstance(step, IndexStep):
            key = _eval(step.key, scope)
            unknown = deep_unknown(key)
            if unknown is not None:
                return unknown
            if isinstance(key, (int, float)) and not isinstance(key, bool):
                key = norm_number(key)
            if not isinstance(key, (str, int)) or isinstance(key, bool):
                raise EvalError(f"invalid index {key!r}")
            keys.append(key)
        else:
            keys.append("*")
    if isinstance(node.root, Name):
        return _resolve(scope, (node.root.name, *keys))
    return index_value(_eval(node.root, scope), tuple(keys))


def _eval_unary(node: Unary, scope: Scope) -> Any:
    value = _eval(node.operand, scope)
    unknown = as_unknown(value)
    if unknown is not None:
        return unknown
    if node.op == "!":
        return not to_bool(value)
    return norm_number(-to_number(value))


def _eval_binary(node: Binary, scope: Scope) -> Any:
    op = node.op
    if op in ("&&", "||"):
        return _logic(op, node, scope)
    left = _eval(node.left, scope)
    right = _eval(node.right, scope)
    if op in ("==", "!="):
        unknown = deep_unknown(left) or deep_unknown(right)
        if unknown is not None:
            return unknown
        return hcl_equal(left, right) == (op == "==")
    unknown = as_unknown(left) or as_unknown(right)
    if unknown is not None:
        return unknown
    result = arith(op, to_number(left), to_number(right))
    return result if isinstance(result, bool) else norm_number(result)


def _logic(op: str, node: Binary, scope: Scope) -> Any:
    """``&&``/``||`` as HCL evaluates them: an operand that decides the result on its own
    (``false`` for ``&&``, ``true`` for ``||``) wins on either side, over an unknown or an
    erroneous other side."""
    decider = op == "||"
    outcomes: list[Any] = []
    for operand in (node.left, node.right):
        try:
            value = _eval(operand, scope)
            unknown = as_unknown(value)
            outcomes.append(unknown if unknown is not None else to_bool(value))
        except UnknownResult as exc:
            outcomes.append(exc.unknown)
        except (BudgetExceeded, RecursionError):
            raise
        except Exception as exc:  # noqa: BLE001 - dropped when the other side decides
            outcomes.append(exc)
        if outcomes[-1] is decider:
            return decider
    for outcome in outcomes:
        if isinstance(outcome, Exception):
            raise outcome
    for outcome in outcomes:
        if isinstance(outcome, Unknown):
            return outcome
    return not decider


def _eval_conditional(node: Conditional, scope: Scope) -> Any:
    cond = _eval(node.cond, scope)
    unknown = as_unknown(cond)
    if unknown is not None:
        return unknown
    return _eval(node.then if to_bool(cond) else node.other, scope)


def _eval_tuple(node: TupleExpr, scope: Scope) -> Any:
    return [_eval(item, scope) for item in node.items]


def _eval_object(node: ObjectExpr, scope: Scope) -> Any:
    out: dict[str, Any] = {}
    for key_node, value_node in node.items:
        key = _eval(key_node, scope)
        unknown = as_unknown(key)
        if unknown is not None:
            return Unknown(f"object key is unknown: {unknown.reason}")
        out[to_string(key)] = _eval(value_node, scope)
    return out


def _loop_names(key_var: str | None, val_var: str, key: Any, value: Any) -> dict[str, Any]:
    names = {val_var: value}
    if key_var is not None:
        names[key_var] = key
    return names


def _eval_for(node: ForExpr, scope: Scope) -> Any:
    coll = _eval(node.coll, scope)
    unknown = as_unknown(coll)
    if unknown is not None:
        return unknown
    items: list[Any] = []
    grouped: dict[str, Any] = {}
    for key, value in iterate(coll):
        inner = ChildScope(scope, _loop_names(node.key_var, node.val_var, key, value))
        if node.cond is not None:
            keep = _eval(node.cond, inner)
            unknown = as_unknown(keep)
            if unknown is not None:
                return unknown
            if not to_bool(keep):
                continue
        if node.key is None:
            items.append(_eval(node.value, inner))
            continue
        out_key = _eval(node.key, inner)
        unknown = as_unknown(out_key)
        if unknown is not None:
            return Unknown(f"for expression key is unknown: {unknown.reason}")
        out_key = to_string(out_key)
        if node.group:
            grouped.setdefault(out_key, []).append(_eval(node.value, inner))
        elif out_key in grouped:
            raise EvalError(f"duplicate key {out_key!r} in for expression")
        else:
            grouped[out_key] = _eval(node.value, inner)
        if len(grouped) > MAX_ITEMS:
            raise EvalError("result too large")
    return items if node.key is None else grouped


def _eval_call(node: Call, scope: Scope) -> Any:
    name = node.name
    if name in ("try", "can"):
        return _try_can(name, node.args, scope)
    if "::" in name:
        return Unknown(f"provider function {name} is not supported")
    if name in UNEVALUATED:
        return Unknown(f"function {name} is not evaluated ({UNEVALUATED[name]})")
    func = FUNCTIONS.get(name)
    if func is None:
        return Unknown(f"function {name} is not supported")
    args = [_eval(arg, scope) for arg in node.args]
    if node.expand:
        if not args:
            raise EvalError("nothing to expand with ...")
        unknown = as_unknown(args[-1])
        if unknown is not None:
            return unknown
        if not isinstance(args[-1], list):
            raise EvalError("... needs a list")
        args = args[:-1] + args[-1]
    for arg in args:
        unknown = deep_unknown(arg)  # also refuses oversized arguments
        if unknown is not None and name not in TOLERANT:
            return unknown
    try:
        result = check_size(func(*args))
    except UnknownResult as exc:
        return exc.unknown
    except TypeError as exc:
        raise EvalError(f"bad arguments to {name}(): {exc}") from exc
    if isinstance(result, (list, dict, str)):
        charge(len(result) >> 4 if isinstance(result, str) else len(result))
    return result


def _try_can(name: str, args: tuple[Node, ...], scope: Scope) -> Any:
    """``try``: first argument that evaluates without error; ``can``: whether it does."""
    if not args or (name == "can" and len(args) != 1):
        raise EvalError(f"wrong number of arguments to {name}()")
    for arg in args:
        try:
            value = _eval(arg, scope)
        except UnknownResult as exc:
            return exc.unknown
        except (BudgetExceeded, RecursionError):
            raise
        except Exception:  # noqa: BLE001 - an error is what try/can test for
            if name == "can":
                return False
            continue
        if isinstance(value, Unknown):
            return value
        return True if name == "can" else value
    raise EvalError("no argument of try() could be evaluated")


# -- templates -----------------------------------------------------------------------
def _eval_template(node: Template, scope: Scope) -> Any:
    return _render(node.parts, scope)


def _render(parts: tuple[Part, ...], scope: Scope) -> Any:
    """Concatenate template parts; an unknown part makes the whole string Unknown."""
    out: list[str] = []
    size = 0
    for part in parts:
        if isinstance(part, str):
            piece: Any = part
        elif isinstance(part, Interp):
            value = _eval(part.expr, scope)
            unknown = as_unknown(value)
            if unknown is not None:
                return Unknown(f"template part ${{{part.text}}} is unknown: {unknown.reason}")
            if value is None:
                raise EvalError(f"template part ${{{part.text}}} is null")
            piece = to_string(value)
        elif isinstance(part, TemplateIf):
            piece = _render_if(part, scope)
        else:
            piece = _render_for(part, scope)
        if isinstance(piece, Unknown):
            return piece
        out.append(piece)
        size += len(piece)
        ensure_fits(size)
    return "".join(out)


def _render_if(part: TemplateIf, scope: Scope) -> Any:
    cond = _eval(part.cond, scope)
    unknown = as_unknown(cond)
    if unknown is not None:
        return Unknown(f"template condition is unknown: {unknown.reason}")
    return _render(part.then if to_bool(cond) else part.other, scope)


def _render_for(part: TemplateFor, scope: Scope) -> Any:
    coll = _eval(part.coll, scope)
    unknown = as_unknown(coll)
    if unknown is not None:
        return Unknown(f"template for collection is unknown: {unknown.reason}")
    pieces: list[str] = []
    size = 0
    for key, value in iterate(coll):
        inner = ChildScope(scope, _loop_names(part.key_var, part.val_var, key, value))
        piece = _render(part.body, inner)
        if isinstance(piece, Unknown):
            return piece
        pieces.append(piece)
        size += len(piece)
        ensure_fits(size)
    return "".join(pieces)


_DISPATCH: dict[type, Callable[[Any, Scope], Any]] = {
    Literal: _eval_literal,
    Name: _eval_name,
    Traversal: _eval_traversal,
    Unary: _eval_unary,
    Binary: _eval_binary,
    Conditional: _eval_conditional,
    TupleExpr: _eval_tuple,
    ObjectExpr: _eval_object,
    ForExpr: _eval_for,
    Call: _eval_call,
    Template: _eval_template,
}
