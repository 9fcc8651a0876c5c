"""Tests of the Terraform expression evaluator (iacscan.parsers.hcl_eval)."""
from __future__ import annotations

from typing import Any

import hcl2
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from iacscan.model import Unknown
from iacscan.parsers.hcl_eval import child_scope, evaluate, evaluate_expression, is_expression
from iacscan.parsers.tf_types import ResourceRef

OPTIONS = hcl2.SerializationOptions(
    strip_string_quotes=True, with_comments=False, explicit_blocks=True, preserve_heredocs=False
)

MISSING = Unknown("var.missing has no value")
SG_A = ResourceRef("aws_security_group.a", "id")
SG_B = ResourceRef("aws_security_group.b", "id")

DATA: dict[str, Any] = {
    "var": {
        "env": "prod",
        "ports": [22, 443],
        "port_text": "443",
        "enabled": True,
        "cidrs": ["10.0.0.0/8", "192.168.0.0/16"],
        "subnets": [
            {"name": "a", "cidr": "10.0.1.0/24", "public": True},
            {"name": "b", "cidr": "10.0.2.0/24", "public": False},
        ],
        "tags": {"Name": "web", "Env": "prod"},
        "missing": MISSING,
        "maybe": [MISSING, "10.9.0.0/16"],
        "nothing": None,
        "rules": {"ssh": {"port": 22}, "https": {"port": 443}},
        "pair": ("a", "b"),
        "names": {"web", "app", "db"},
    },
    "local": {"prefix": "app", "n": 3, "m": {"k": "v"}},
    "count": {"index": 1},
    "each": {"key": "web", "value": {"port": 8080}},
}


class DictScope:
    """Input data for the tests: resolves traversals against ``DATA``; resource
    attributes (``aws_*.name.attr``) are references known only after apply."""

    def __init__(self, data: dict[str, Any]) -> None:
        self.data = data
        self.asked: list[tuple[str | int, ...]] = []

    def resolve(self, traversal: tuple[str | int, ...]) -> Any:
        self.asked.append(traversal)
        root = traversal[0]
        if isinstance(root, str) and root.startswith("aws_"):
            return ResourceRef(f"{root}.{traversal[1]}", str(traversal[2]))
        value: Any = self.data
        for position, step in enumerate(traversal):
            if isinstance(value, Unknown):
                return value
            if step == "*":
                return [_walk(item, traversal[position + 1:]) for item in value]
            value = value[step]
        return value


class ResourceObject(dict):  # type: ignore[type-arg]
    """Input data shaped like the loader's whole-resource values: a dict with an address."""

    def __init__(self, address: str, **attrs: Any) -> None:
        super().__init__(attrs)
        self.address = address


def _walk(value: Any, steps: tuple[str | int, ...]) -> Any:
    for step in steps:
        value = value[step]
    return value


def ev(text: str) -> Any:
    return evaluate_expression(text, DictScope(DATA))


def hcl(source: str) -> dict[str, Any]:
    """Attributes as python-hcl2 serialises them, evaluated."""
    return evaluate(hcl2.loads(source, serialization_options=OPTIONS), DictScope(DATA))


# -- literals, templates, is_expression ------------------------------------------------
def test_plain_values_stay_as_they_are() -> None:
    value = {"a": 1, "b": -1.5, "c": True, "d": None, "e": "tcp", "f": [1, "x"]}
    assert evaluate(value, DictScope(DATA)) == value


def test_is_expression() -> None:
    assert is_expression("${var.x}")
    assert is_expression("web-${var.env}")
    assert is_expression("%{ if true }x%{ endif }")
    assert not is_expression("0.0.0.0/0")
    assert not is_expression(443)
    assert not is_expression(None)


@pytest.mark.parametrize("text, expected", [
    ("443", 443), ("1.5", 1.5), ("1e3", 1000), ("-1", -1), ("true", True), ("false", False),
    ("null", None), ('"tcp"', "tcp"), ('"a\\"b\\\\c\\n"', 'a"b\\c\n'), ('"\\u00e9"', "é"),
    ("[1, 2, 3,]", [1, 2, 3]), ('{a = 1, "b" = 2, c: 3}', {"a": 1, "b": 2, "c": 3}),
    ("[]", []), ("{}", {}), ("[1, # c\n 2 /* x */, // y\n 3]", [1, 2, 3]),
    ("<<-EOT\n  a\n    b\n  EOT\n", "a\n  b\n"), ('upper(<<EOT\nhi ${"x"}\nEOT\n)', "HI X\n"),
    ("{\n  a = 1\n  b = 2\n}", {"a": 1, "b": 2}), ("[\n  1,\n  2\n]", [1, 2]),
    ('{\n  a = upper ("x")\n  (local.prefix) = 2\n}', {"a": "X", "app": 2}),
])
def test_literals(text: str, expected: Any) -> None:
    assert ev(text) == expected


def test_whole_interpolation_keeps_the_type() -> None:
    assert hcl("a = var.ports\nb = \"${var.enabled}\"\nc = local.n") == {
        "a": [22, 443], "b": True, "c": 3}


def test_templates() -> None:
    out = hcl('a = "web-${var.env}"\nb = "${local.prefix}-${local.n}-${var.enabled}"\n'
              'c = "$${literal} and %%{ x }"\nd = "${var.env}${local.prefix}"')
    assert out == {"a": "web-prod", "b": "app-3-true", "c": "${literal} and %{ x }",
                   "d": "prodapp"}


def test_template_directives_and_strip_markers() -> None:
    out = hcl('a = "%{ if var.enabled }on%{ else }off%{ endif }"\n'
              'b = "%{ for p in var.ports ~}\n  ${p};\n%{~ endfor }"\n'
              'c = "%{ for k, v in var.tags }${k}=${v} %{ endfor }"')
    assert out == {"a": "on", "b": "22;443;", "c": "Env=prod Name=web "}


def test_heredoc_with_interpolation() -> None:
    out = hcl("a = <<-EOT\n    env ${var.env}\n    next\n  EOT\n")
    assert out == {"a": "env prod\nnext"}


def test_nested_templates_and_inner_quotes() -> None:
    assert ev('"${"x-${var.env}"}"') == "x-prod"
    assert ev('join(",", [for s in var.subnets : "${s.name}:%{ if s.public }pub%{ endif }"])') \
        == "a:pub,b:"


def test_template_with_unknown_part_names_it() -> None:
    assert hcl('a = "x-${var.missing}"') == {
        "a": Unknown("template part ${var.missing} is unknown: var.missing has no value")}
    assert hcl('a = "sg ${aws_security_group.a.id}"') == {"a": Unknown(
        "template part ${aws_security_group.a.id} is unknown: "
        "aws_security_group.a.id is known only after apply")}


def test_template_with_null_part_is_unknown() -> None:
    value = ev('"x-${var.nothing}"')
    assert isinstance(value, Unknown) and "null" in value.reason


def test_dict_keys_are_evaluated() -> None:
    out = hcl('tags = {\n  "${var.env}-name" = 1\n  (local.prefix) = 2\n  plain = 3\n'
              '  (local.n) = 4\n}')
    assert out == {"tags": {"prod-name": 1, "app": 2, "plain": 3, "3": 4}}


def test_dict_key_that_cannot_be_known_keeps_its_text() -> None:
    assert evaluate({"${var.missing}": 1, "a": 2}, DictScope(DATA)) == {"${var.missing}": 1, "a": 2}


# -- traversals ------------------------------------------------------------------------
def test_traversals_go_to_the_scope_whole() -> None:
    scope = DictScope(DATA)
    assert evaluate_expression('var.rules["ssh"].port', scope) == 22
    assert evaluate_expression("var.ports[count.index]", scope) == 443
    assert evaluate_expression("var.subnets.0.cidr", scope) == "10.0.1.0/24"
    assert evaluate_expression("each.value.port", scope) == 8080
    assert scope.asked == [("var", "rules", "ssh", "port"), ("count", "index"),
                           ("var", "ports", 1), ("var", "subnets", 0, "cidr"),
                           ("each", "value", "port")]


def test_tuples_and_sets_from_the_scope_become_lists() -> None:
    assert ev("var.pair") == ["a", "b"]
    assert ev("var.names") == ["app", "db", "web"]
    assert ev("[for n in var.names : upper(n)]") == ["APP", "DB", "WEB"]


def test_index_with_unknown_key_is_unknown() -> None:
    assert ev("var.ports[var.missing]") == MISSING


def test_splats() -> None:
    scope = DictScope(DATA)
    assert evaluate_expression("var.subnets[*].cidr", scope) == ["10.0.1.0/24", "10.0.2.0/24"]
    assert scope.asked == [("var", "subnets", "*", "cidr")]
    assert ev("var.subnets.*.name") == ["a", "b"]
    assert ev("var.subnets.*.name[1]") == "b"  # legacy splat ends before an index
    assert ev("[var.tags][*].Name") == ["web"]
    assert ev("(var.nothing)[*]") == []  # splat of null: empty; of a non-list: one element
    assert ev("(local.n)[*]") == [3]


def test_indexing_values_of_calls_and_parentheses() -> None:
    assert ev("tolist(var.ports)[0]") == 22
    assert ev("(local.m).k") == "v"
    assert ev('{a = {b = [5, 6]}}.a.b[1]') == 6
    assert ev('merge(var.tags, {x = 1})["x"]') == 1


def test_steps_into_a_reference_extend_its_path() -> None:
    vpc = ResourceObject("aws_vpc.main", cidr_block="10.0.0.0/16")
    scope = child_scope(DictScope(DATA), {"sg": SG_A, "vpc": vpc})
    assert evaluate_expression("sg.owner", scope) == ResourceRef("aws_security_group.a", "id.owner")
    assert evaluate_expression("vpc.cidr_block", scope) == "10.0.0.0/16"
    assert evaluate_expression("vpc.id", scope) == ResourceRef("aws_vpc.main", "id")
    assert evaluate_expression("vpc.ipv6[0].x", scope) == ResourceRef("aws_vpc.main", "ipv6.0.x")


def test_resource_references_pass_through() -> None:
    assert ev("aws_security_group.a.id") == SG_A
    assert hcl("vpc_id = aws_vpc.main.id") == {"vpc_id": ResourceRef("aws_vpc.main", "id")}


# -- operators -------------------------------------------------------------------------
@pytest.mark.parametrize("text, expected", [
    ("1 + 2 * 3", 7), ("(1 + 2) * 3", 9), ("10 - 2 - 3", 5), ("10 / 4", 2.5), ("10 / 2", 5),
    ("7 % 3", 1), ("-7 % 3", -1), ("-local.n", -3), ("!true", False), ("!!var.enabled", True),
    ("1 < 2", True), ("2 <= 2", True), ("3 > 4", False), ("4 >= 5", False),
    ("1 == 1.0", True), ('1 == "1"', False), ('"a" != "b"', True), ("[1, 2] == [1, 2]", True),
    ('{a = 1} == {a = 1}', True), ("null == null", True), ("true == 1", False),
    ("true && false", False), ("true || false", True), ("false || !false && false", False),
    ("1 + 2 == 3 && 2 * 2 == 4", True), ("!var.enabled || local.n > 2", True),
    ('var.port_text + 1', 444), ('"2" * "3"', 6), ('"true" && true', True),
    ("1 - -1", 2),
])
def test_operators_and_precedence(text: str, expected: Any) -> None:
    result = ev(text)
    assert result == expected and type(result) is type(expected)


@pytest.mark.parametrize("text", [
    "var.missing + 1", "-var.missing", "!var.missing", "var.missing == 1", "1 != var.missing",
    "var.missing < 3", "var.missing && true", "[var.missing] == [1]",
])
def test_operators_propagate_unknown(text: str) -> None:
    assert ev(text) == MISSING


def test_logic_with_a_deciding_known_operand() -> None:
    assert ev("false && var.missing") is False
    assert ev("var.missing || true") is True
    assert ev("var.missing && false") is False
    assert ev("true || var.ports[9]") is True  # the erroneous side is not needed
    assert ev("var.ports[9] && false") is False
    assert isinstance(ev("var.ports[9] && true"), Unknown)


def test_operators_on_resource_references_are_unknown() -> None:
    value = ev('aws_security_group.a.id == "sg-1"')
    assert value == Unknown("aws_security_group.a.id is known only after apply")


@pytest.mark.parametrize("text", [
    '1 + "x"', "1 / 0", "true + 1", '!"x"', "1 < true", "1e400", "1e300 * 1e300", '" 5" + 1',
])
def test_type_errors_are_unknown(text: str) -> None:
    value = ev(text)
    assert isinstance(value, Unknown) and value.reason.startswith("cannot evaluate expression")


# -- conditionals ----------------------------------------------------------------------
def test_list_valued_conditional_arriving_as_a_string() -> None:
    out = hcl('cidr_blocks = var.env == "prod" ? ["10.0.0.0/8"] : ["0.0.0.0/0"]')
    assert out == {"cidr_blocks": ["10.0.0.0/8"]}


def test_conditionals() -> None:
    assert ev('var.env == "dev" ? 1 : var.env == "prod" ? 2 : 3') == 2
    assert ev("var.enabled ? var.ports : []") == [22, 443]
    assert ev('"false" ? 1 : 2') == 2


def test_conditional_with_known_condition_ignores_an_unknown_branch() -> None:
    assert ev("true ? 1 : var.missing") == 1
    assert ev("false ? var.missing : aws_security_group.a.id") == SG_A


def test_conditional_with_unknown_condition_is_unknown() -> None:
    assert ev("var.missing ? 1 : 2") == MISSING


# -- for expressions -------------------------------------------------------------------
def test_for_expressions() -> None:
    assert ev("[for s in var.subnets : s.cidr if s.public]") == ["10.0.1.0/24"]
    assert ev("[for i, p in var.ports : i + p]") == [22, 444]
    assert ev("{for s in var.subnets : s.name => s.cidr}") == {
        "a": "10.0.1.0/24", "b": "10.0.2.0/24"}
    assert ev("{for k, v in var.rules : v.port => k}") == {"443": "https", "22": "ssh"}
    assert ev('{for s in var.subnets : (s.public ? "pub" : "priv") => s.name...}') == {
        "pub": ["a"], "priv": ["b"]}
    assert ev("[for k, v in var.tags : k]") == ["Env", "Name"]


def test_for_variable_shadows_the_scope() -> None:
    assert ev("[for var in [1, 2] : var * 10]") == [10, 20]
    assert ev("[for each in var.ports : each]") == [22, 443]


def test_for_over_unknown_or_with_unknown_condition() -> None:
    assert ev("[for x in var.missing : x]") == MISSING
    assert ev("[for x in var.maybe : x if x != \"\"]") == MISSING
    assert ev("[for x in var.maybe : x]") == [MISSING, "10.9.0.0/16"]


def test_for_duplicate_key_without_grouping_is_an_error() -> None:
    value = ev('{for p in [1, 1] : "k" => p}')
    assert isinstance(value, Unknown) and "duplicate key" in value.reason


def test_child_scope_answers_its_names_first() -> None:
    scope = child_scope(DictScope(DATA), {"p": {"value": 80, "key": 0}, "var": {"env": "x"}})
    assert evaluate_expression("p.value + 1", scope) == 81
    assert evaluate_expression("var.env", scope) == "x"
    assert evaluate_expression("local.prefix", scope) == "app"


# -- Unknown and ResourceRef in functions ----------------------------------------------
def test_collection_functions_keep_unknown_and_reference_elements() -> None:
    assert ev("concat([aws_security_group.a.id], var.cidrs, [var.missing])") == [
        SG_A, "10.0.0.0/8", "192.168.0.0/16", MISSING]
    assert ev("toset([aws_security_group.b.id, aws_security_group.a.id, aws_security_group.b.id])"
              ) == [SG_B, SG_A]
    assert ev('toset(["b", var.missing, "a", "b"])') == ["a", "b", MISSING]
    assert ev("length(var.maybe)") == 2
    assert ev("flatten([var.maybe, [aws_security_group.a.id]])") == [MISSING, "10.9.0.0/16", SG_A]
    assert ev('compact(["", var.missing, "x", null])') == [MISSING, "x"]
    assert ev("distinct([1, var.missing, 1, var.missing])") == [1, MISSING, MISSING]
    assert ev("distinct([aws_security_group.a.id, aws_security_group.a.id])") == [SG_A]
    assert ev("contains([aws_security_group.a.id], aws_security_group.a.id)") is True
    assert ev("tolist(var.maybe)") == [MISSING, "10.9.0.0/16"]
    assert ev("var.enabled ? [aws_security_group.a.id] : []") == [SG_A]


def test_whole_unknown_arguments_make_the_result_unknown() -> None:
    assert ev("concat(var.missing, [1])") == MISSING
    assert ev("length(var.missing)") == MISSING
    assert ev('join(",", var.maybe)') == MISSING
    assert ev('upper(var.missing)') == MISSING
    assert ev('format("%s", aws_security_group.a.id)') == Unknown(
        "aws_security_group.a.id is known only after apply")


def test_coalesce() -> None:
    assert ev('coalesce(null, "", "x", var.missing)') == "x"
    assert ev('coalesce(null, var.missing, "x")') == MISSING
    assert ev('coalesce(aws_security_group.a.id, "sg-1")') == SG_A
    assert ev("coalescelist([], var.ports)") == [22, 443]


def test_try_and_can() -> None:
    assert ev('try(var.tags.Nope, "default")') == "default"
    assert ev('try(var.ports[5], var.ports[0])') == 22
    assert ev('try(var.missing, "default")') == MISSING
    assert ev('try(aws_security_group.a.id, "x")') == SG_A
    assert ev("can(var.ports[5])") is False
    assert ev("can(var.ports[1])") is True
    assert ev("can(var.missing)") == MISSING
    assert isinstance(ev("try(var.ports[5], var.tags.Nope)"), Unknown)


def test_contains_and_lookup_with_unknown_elements() -> None:
    assert ev('contains(var.maybe, "10.9.0.0/16")') is True
    assert ev('contains(var.maybe, "x")') == MISSING
    assert ev('lookup({a = var.missing, b = 2}, "b")') == 2
    assert ev('lookup({a = var.missing}, "a")') == MISSING


def test_unsupported_and_unevaluated_functions() -> None:
    assert ev("nosuch(1)") == Unknown("function nosuch is not supported")
    assert ev('provider::aws::arn_parse("x").region') == Unknown(
        "provider function provider::aws::arn_parse is not supported")
    for text in ('file("x.txt")', 'templatefile("a.tpl", {})', "timestamp()", "uuid()",
                 'fileexists("a")', 'filebase64sha256("a")', 'yamldecode("a: 1")'):
        value = ev(text)
        assert isinstance(value, Unknown) and "not evaluated" in value.reason


# -- functions -------------------------------------------------------------------------
@pytest.mark.parametrize("text, expected", [
    ("merge({a = 1, b = 2}, {b = 3}, null)", {"a": 1, "b": 3}),
    ('toset(["b", "a", "b"])', ["a", "b"]),
    ('toset([2, 10, 2])', [2, 10]),
    ('toset(["b", 1])', ["1", "b"]),
    ("tolist(var.ports)", [22, 443]),
    ("tomap({a = 1})", {"a": 1}),
    ("tostring(5)", "5"), ("tostring(true)", "true"), ("tostring(null)", None),
    ('tonumber("443")', 443), ('tonumber("1.5")', 1.5), ('tobool("true")', True),
    ('lookup(var.tags, "Name")', "web"), ('lookup(var.tags, "x", "d")', "d"),
    ("element(var.ports, 3)", 443), ("element(var.ports, -1)", 443),
    ("length(var.tags)", 2), ('length("abc")', 3),
    ("keys({b = 1, a = 2})", ["a", "b"]), ("values({b = 1, a = 2})", [2, 1]),
    ("flatten([[1, [2]], 3, []])", [1, 2, 3]), ("distinct([1, 2, 1])", [1, 2]),
    ('contains(["a"], "a")', True), ("contains([1], 2)", False),
    ('compact(["a", "", null, "b"])', ["a", "b"]),
    ('format("%s-%03d %q %v %t %%", "a", 7, "q", [1], true)', 'a-007 "q" [1] true %'),
    ('format("%[2]s %[1]s", "a", "b")', "b a"), ('format("%5s|%-4d|", "ab", 3)', "   ab|3   |"),
    ('format("%.2f %x", 3.14159, 255)', "3.14 ff"),
    ('formatlist("%s:%d", ["a", "b"], 80)', ["a:80", "b:80"]),
    ('join(",", ["a", "b"], [1])', "a,b,1"), ('split(",", "a,b,,c")', ["a", "b", "", "c"]),
    ('lower("AbC")', "abc"), ('upper("abc")', "ABC"), ('title("hello wORLD-x")', "Hello WORLD-X"),
    ('trimspace("  x \\n")', "x"), ('trim("?!x?!", "!?")', "x"),
    ('trimprefix("sg-123", "sg-")', "123"), ('trimsuffix("a.tf", ".tf")', "a"),
    ('replace("a-b-c", "-", "_")', "a_b_c"), ('replace("a1b22", "/[0-9]+/", "#")', "a#b#"),
    ('replace("k=v", "/(\\\\w)=(\\\\w)/", "$2=$${1}")', "v=k"),
    ('replace("k=v", "/(\\\\w)=(\\\\w)/", "$${2}:$${1}")', "v:k"),
    ('substr("hello", 1, 3)', "ell"), ('substr("hello", -3, -1)', "llo"),
    ('startswith("sg-1", "sg-")', True), ('endswith("x.tf", ".json")', False),
    ('regex("^sg-([0-9a-f]+)$", "sg-0af")', ["0af"]), ('regex("[0-9]+", "ab12")', "12"),
    ('regex("(?P<p>\\\\d+)/(?P<q>\\\\w+)", "80/tcp")', {"p": "80", "q": "tcp"}),
    ('regexall("[0-9]+", "1 22 333")', ["1", "22", "333"]),
    ("range(3)", [0, 1, 2]), ("range(1, 4)", [1, 2, 3]), ("range(10, 0, -4)", [10, 6, 2]),
    ("range(0, 1, 0.5)", [0, 0.5]),
    ('zipmap(["a", "b"], [1, 2])', {"a": 1, "b": 2}), ("slice([1, 2, 3, 4], 1, 3)", [2, 3]),
    ('index(["a", "b"], "b")', 1), ("one([])", None), ("one([7])", 7),
    ("sum([1, 2, 3.5])", 6.5), ("min(3, 1, 2)", 1), ("max(var.ports...)", 443),
    ("abs(-4)", 4), ("ceil(1.2)", 2), ("floor(1.8)", 1), ("signum(-3)", -1), ("pow(2, 10)", 1024),
    ('parseint("ff", 16)', 255),
    ('cidrsubnet("10.0.0.0/16", 8, 2)', "10.0.2.0/24"),
    ('cidrsubnet("fd00:fd12:3456:7890::/56", 16, 162)', "fd00:fd12:3456:7800:a200::/72"),
    ('cidrhost("10.12.112.0/20", 16)', "10.12.112.16"),
    ('cidrhost("10.0.0.0/24", -2)', "10.0.0.254"),
    ('cidrnetmask("172.16.0.0/12")', "255.240.0.0"),
    ('cidrsubnets("10.1.0.0/16", 4, 4, 8, 4)',
     ["10.1.0.0/20", "10.1.16.0/20", "10.1.32.0/24", "10.1.48.0/20"]),
    ('jsonencode({b = [1, "<x>"], a = null, c = true})',
     '{"a":null,"b":[1,"\\u003cx\\u003e"],"c":true}'),
    ('jsondecode("{\\"a\\": [1, 2.0, \\"x\\"]}")', {"a": [1, 2, "x"]}),
    ('base64encode("hello")', "aGVsbG8="), ('base64decode("aGVsbG8=")', "hello"),
    ('md5("hello")', "5d41402abc4b2a76b9719d911017c592"),
    ('sha1("hello")', "aaf4c61ddcc5e8a2dabede0f3b482cd9aea9434d"),
    ('sha256("")', "e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855"),
    ('setunion(["b"], ["a", "b"])', ["a", "b"]),
    ('setintersection(["a", "b", "c"], ["b", "c", "d"])', ["b", "c"]),
    ('setsubtract(["a", "b", "c"], ["b"])', ["a", "c"]),
    ("reverse([1, 2, 3])", [3, 2, 1]), ('sort(["b", "a", "c"])', ["a", "b", "c"]),
    ("chunklist([1, 2, 3], 2)", [[1, 2], [3]]),
    ('transpose({a = ["1", "2"], b = ["2"]})', {"1": ["a"], "2": ["a", "b"]}),
    ('matchkeys(["i-1", "i-2"], ["us-a", "us-b"], ["us-b"])', ["i-2"]),
    ("alltrue([true, \"true\"])", True), ("anytrue([false])", False), ("alltrue([])", True),
    ('nonsensitive(sensitive("x"))', "x"), ('list("a", "b")', ["a", "b"]),
    ('setproduct(["a", "b"], [80, 443])', [["a", 80], ["a", 443], ["b", 80], ["b", 443]]),
    ('basename("/envs/prod/")', "prod"), ('basename("")', "."), ('dirname("a/b/c.tf")', "a/b"),
    ('dirname("c.tf")', "."), ('dirname("/x")', "/"),
    ('strrev("abc")', "cba"), ('strcontains("sg-web", "web")', True), ("log(8, 2)", 3),
    ('substr(sha512("hello"), 0, 16)', "9b71d224bd62f378"),
    ('base64sha256("hello")', "LPJNul+wow4m6DsqxbninhsWHlwfp0JecwQzYpOLmCQ="), ('chomp("x\\n\\n")', "x"), ('indent(2, "a\\nb")', "a\n  b"),
    ('urlencode("a b&c")', "a+b%26c"),
])
def test_functions(text: str, expected: Any) -> None:
    result = ev(text)
    assert result == expected and type(result) is type(expected)


@pytest.mark.parametrize("text", [
    'lookup({}, "k")', "element([], 0)", 'regex("x", "y")', "one([1, 2])",
    'cidrsubnet("10.0.0.0/30", 8, 1)', 'cidrhost("10.0.0.0/30", 9)', 'cidrnetmask("::/0")',
    'tonumber("abc")', "range(0, 200000)", 'index([1], 2)', "slice([1], 0, 5)",
    'format("%s %s", "a")', 'format("%d", "x")', 'jsondecode("{")', 'format("%999999d", 1)',
    'replace("aaa", "", "bbbbbbbbbbbbbbbb")', "zipmap([1], [])", "sum([])",
])
def test_function_errors_are_unknown(text: str) -> None:
    value = ev(text)
    assert isinstance(value, Unknown) and value.reason.startswith("cannot evaluate expression")


def test_yamlencode_is_left_unknown() -> None:
    assert ev('yamlencode({a = 1})') == Unknown(
        "function yamlencode is not evaluated (its exact output is not reproduced)")


def test_expansion_of_the_last_argument() -> None:
    assert ev("concat([[1], [2, 3]]...)") == [1, 2, 3]
    assert ev("min(var.ports...)") == 22
    assert ev("concat(var.missing...)") == MISSING
    assert isinstance(ev("max(1...)"), Unknown)


# -- malformed input -------------------------------------------------------------------
@pytest.mark.parametrize("text", [
    "1 +", "var.", "[1, 2", '"abc', "f(", "{a = }", "a ? b", "%{ if x }", "${", "[for x in]",
    "1 2", "\x00", "a.[0]", '"\\q"', "((((", "var.x[*", "%{ endif }",
])
def test_malformed_expressions_are_unknown(text: str) -> None:
    value = ev(text)
    assert isinstance(value, Unknown)
    assert value.reason.startswith("cannot evaluate expression")


def test_malformed_template_string_is_unknown() -> None:
    value = evaluate({"a": "x-${var.env", "b": "%{ if true }y"}, DictScope(DATA))
    assert isinstance(value["a"], Unknown) and isinstance(value["b"], Unknown)


def test_deep_nesting_is_refused() -> None:
    directives = '"' + "%{ if true }" * 100 + "x" + "%{ endif }" * 100 + '"'
    for text in ("[" * 500 + "]" * 500, "!" * 500 + "true", directives):
        value = ev(text)
        assert isinstance(value, Unknown) and "deeply" in value.reason


@pytest.mark.parametrize("text, reason", [
    ("[for i in range(100000) : range(100000)]", "too expensive"),
    ("can([for i in range(100000) : range(100000)])", "too expensive"),
    ('try([for i in range(100000) : range(100000)], "small")', "too expensive"),
    ("flatten([for i in range(1000) : range(1000)])", "too large"),
    ('join(",", [for i in range(100000) : "xxxxxxxxxxxxxxx"])', "too large"),
    ('replace(join("", range(100000)), "1", join("", range(10000)))', "too large"),
    ('"%{ for i in range(50000) }${join("", range(100))}%{ endfor }"', "too large"),
])
def test_hostile_sizes_are_refused(text: str, reason: str) -> None:
    value = ev(text)
    assert isinstance(value, Unknown) and reason in value.reason


@settings(max_examples=300, deadline=None)
@given(st.text(alphabet=st.sampled_from(list('${}%[]()."\\:?!=<>&|+-*/,~ abvr01xforin\n#')),
               max_size=40))
def test_arbitrary_expression_text_never_raises(text: str) -> None:
    evaluate_expression(text, DictScope(DATA))
    evaluate({"k": text, text: [text]}, DictScope(DATA))


@settings(max_examples=200, deadline=None)
@given(st.text(max_size=30))
def test_arbitrary_unicode_never_raises(text: str) -> None:
    evaluate_expression(text, DictScope(DATA))
    evaluate("${" + text + "}", DictScope(DATA))


def _int_expr() -> st.SearchStrategy[str]:
    leaves = st.integers(min_value=0, max_value=50).map(str)
    return st.recursive(leaves, lambda inner: st.one_of(
        st.tuples(inner, st.sampled_from(["+", "-", "*"]), inner).map(" ".join),
        inner.map(lambda e: f"({e})"),
        inner.map(lambda e: f"-{e}"),
    ), max_leaves=12)


@settings(max_examples=200, deadline=None)
@given(_int_expr())
def test_arithmetic_precedence_matches_python(text: str) -> None:
    # +, - and * have the same precedence and associativity in HCL and Python.
    assert ev(text) == eval(text)  # noqa: S307 - text is built from digits and operators


@settings(max_examples=200, deadline=None)
@given(st.text(max_size=30).filter(lambda t: "${" not in t and "%{" not in t))
def test_text_without_interpolation_stays(text: str) -> None:
    assert evaluate(text, DictScope(DATA)) == text
    assert evaluate("$${" + text, DictScope(DATA)) == "${" + text
