"""Specification of cairn's search-filter and ``order_by`` parser."""

from __future__ import annotations

import ast
import doctest
import random
from pathlib import Path

import pytest

from cairn.errors import InvalidFilter, InvalidParameter
from cairn.search import Comparison, Identifier, OrderKey, parse_filter, parse_order_by
from cairn.search import parser as parser_module


def only(text: str, target: str = "experiments") -> Comparison:
    """The single comparison of a one-comparison filter."""
    comparisons = parse_filter(text, target)  # type: ignore[arg-type]
    assert len(comparisons) == 1
    return comparisons[0]


def run(text: str) -> Comparison:
    return only(text, "runs")


def rejects(text: str, target: str = "runs") -> InvalidFilter:
    with pytest.raises(InvalidFilter) as info:
        parse_filter(text, target)  # type: ignore[arg-type]
    return info.value


# -- empty filters and the overall shape -----------------------------------------------------


@pytest.mark.parametrize("text", [None, "", " ", "\t\n  "])
def test_missing_or_blank_filter_means_no_comparisons(text: str | None) -> None:
    assert parse_filter(text) == ()


def test_conjunction_parses_to_comparisons_in_order_with_positions() -> None:
    text = "metrics.loss.min < 0.5 AND params.lr = '0.1' and tags.team = 'nlp'"
    assert parse_filter(text) == (
        Comparison(Identifier("metric", "loss", "min"), "<", 0.5, 0),
        Comparison(Identifier("param", "lr"), "=", "0.1", 27),
        Comparison(Identifier("tag", "team"), "=", "nlp", 49),
    )


def test_and_is_case_insensitive() -> None:
    assert len(parse_filter("params.a = '1' AnD params.b = '2' aNd params.c = '3'")) == 3


def test_whitespace_is_optional_around_operators_and_quotes() -> None:
    assert parse_filter("params.a='x'AND metrics.b>=1 AND tags.c IN('y','z')") == (
        Comparison(Identifier("param", "a"), "=", "x", 0),
        Comparison(Identifier("metric", "b"), ">=", 1, 16),
        Comparison(Identifier("tag", "c"), "IN", ("y", "z"), 33),
    )


def test_any_whitespace_separates_tokens() -> None:
    assert run("params.a\t=\n'x'") == Comparison(Identifier("param", "a"), "=", "x", 0)


# -- identifiers ------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("prefix", "entity"),
    [
        ("metrics", "metric"),
        ("metric", "metric"),
        ("METRICS", "metric"),
        ("params", "param"),
        ("param", "param"),
        ("parameter", "param"),
        ("parameters", "param"),
        ("Params", "param"),
        ("tags", "tag"),
        ("tag", "tag"),
        ("TAG", "tag"),
        ("attributes", "attribute"),
        ("attribute", "attribute"),
        ("attr", "attribute"),
        ("run", "attribute"),
        ("Attributes", "attribute"),
        ("datasets", "dataset"),
        ("dataset", "dataset"),
        ("DataSets", "dataset"),
    ],
)
def test_every_entity_prefix_and_alias_is_recognised(prefix: str, entity: str) -> None:
    sample = {
        "metric": ("loss", "> 1"),
        "param": ("lr", "= '1'"),
        "tag": ("team", "= 'x'"),
        "attribute": ("status", "= 'FINISHED'"),
        "dataset": ("name", "= 'mnist'"),
    }
    key, rest = sample[entity]
    assert run(f"{prefix}.{key} {rest}").identifier == Identifier(entity, key)  # type: ignore[arg-type]
    assert run(f"`{prefix}`.{key} {rest}").identifier == Identifier(entity, key)  # type: ignore[arg-type]


def test_bare_key_means_attribute() -> None:
    assert run("status = 'RUNNING'").identifier == Identifier("attribute", "status")


def test_bare_quoted_key_means_attribute() -> None:
    assert run("`run name` = 'x'").identifier == Identifier("attribute", "run_name")
    assert run("\"run_id\" = 'x'").identifier == Identifier("attribute", "run_id")


def test_unquoted_dotted_tag_key_keeps_the_dots() -> None:
    assert run("tags.mlflow.source.type = 'JOB'").identifier == Identifier(
        "tag", "mlflow.source.type"
    )


@pytest.mark.parametrize("key", ["a-b", "path/to:thing", "x_1.y-2", "ünïcode"])
def test_unquoted_key_takes_word_dash_slash_and_colon_characters(key: str) -> None:
    assert run(f"params.{key} = 'v'").identifier == Identifier("param", key)


@pytest.mark.parametrize(
    ("text", "key"),
    [
        ("tags.`mlflow.source.type` = 'x'", "mlflow.source.type"),
        ("params.`my param` = 'x'", "my param"),
        ("params.\"my param\" = 'x'", "my param"),
        ("tags.`with ``backtick``` = 'x'", "with `backtick`"),
        ('tags."say ""hi""" = \'x\'', 'say "hi"'),
        ("tags.`a = 'b' AND c` = 'x'", "a = 'b' AND c"),
        ("`tags`.`quoted both` = 'x'", "quoted both"),
    ],
)
def test_keys_may_be_backticked_or_double_quoted(text: str, key: str) -> None:
    assert run(text).identifier == Identifier("tag" if "tags" in text else "param", key)


def test_a_word_key_that_looks_like_a_keyword_is_just_a_key() -> None:
    assert run("tags.and = 'x'").identifier == Identifier("tag", "and")


# -- metric aggregates (cairn extension) ------------------------------------------------------


@pytest.mark.parametrize(
    ("text", "key", "aggregate"),
    [
        ("metrics.loss < 1", "loss", "latest"),
        ("metrics.loss.min < 1", "loss", "min"),
        ("metrics.loss.max < 1", "loss", "max"),
        ("metrics.loss.count < 1", "loss", "count"),
        ("metrics.loss.MAX < 1", "loss", "max"),
        ("metrics.loss.Count < 1", "loss", "count"),
        ("metrics.a.b.max < 1", "a.b", "max"),
        ("metrics.a.b.mean < 1", "a.b.mean", "latest"),
        ("metrics.max < 1", "max", "latest"),
        ("metrics.`val.loss`.max < 1", "val.loss", "max"),
        ("metrics.`val.loss`.MIN < 1", "val.loss", "min"),
        ("metrics.`x.max` < 1", "x.max", "latest"),
        ('metrics."x.count" < 1', "x.count", "latest"),
        ("`metrics`.loss.min < 1", "loss", "min"),
        ("metric.loss.count >= 3", "loss", "count"),
    ],
)
def test_metric_aggregate_suffix_selects_min_max_or_count(
    text: str, key: str, aggregate: str
) -> None:
    assert run(text).identifier == Identifier("metric", key, aggregate)  # type: ignore[arg-type]


@pytest.mark.parametrize(("entity", "prefix"), [("param", "params"), ("tag", "tags")])
def test_aggregate_suffix_on_non_metrics_is_part_of_the_key(entity: str, prefix: str) -> None:
    assert run(f"{prefix}.a.max = 'x'").identifier == Identifier(entity, "a.max")  # type: ignore[arg-type]


def test_aggregate_suffix_after_quoted_non_metric_key_is_rejected() -> None:
    err = rejects("params.`a`.max = 'x'")
    assert (err.token, err.position) == (".max", 10)
    assert "metric aggregate" in err.message


# -- attributes -------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("written", "canonical"),
    [
        ("run_id", "run_id"),
        ("run_name", "run_name"),
        ("`run name`", "run_name"),
        ("`Run Name`", "run_name"),
        ("runName", "run_name"),
        ("user_id", "user_id"),
        ("status", "status"),
        ("artifact_uri", "artifact_uri"),
        ("lifecycle_stage", "lifecycle_stage"),
        ("attributes.STATUS", "status"),
        ("attributes.`run name`", "run_name"),
        ('attr."runName"', "run_name"),
    ],
)
def test_string_attributes_normalize_to_canonical_names(written: str, canonical: str) -> None:
    assert run(f"{written} = 'x'").identifier == Identifier("attribute", canonical)


@pytest.mark.parametrize(
    ("written", "canonical"),
    [
        ("start_time", "start_time"),
        ("created", "start_time"),
        ("Created", "start_time"),
        ("attributes.created", "start_time"),
        ("end_time", "end_time"),
    ],
)
def test_time_attributes_normalize_to_canonical_names(written: str, canonical: str) -> None:
    assert run(f"{written} > 0").identifier == Identifier("attribute", canonical)


@pytest.mark.parametrize("key", ["name", "digest", "context", "NAME"])
def test_dataset_fields(key: str) -> None:
    assert run(f"datasets.{key} = 'x'").identifier == Identifier("dataset", key.lower())


# -- operators --------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("written", "op"),
    [("=", "="), ("!=", "!="), ("<>", "!="), ("<", "<"), ("<=", "<="), (">", ">"), (">=", ">=")],
)
def test_symbol_operators_with_numbers(written: str, op: str) -> None:
    assert run(f"metrics.m {written} 1").op == op
    assert run(f"start_time {written} 1").op == op


@pytest.mark.parametrize(
    ("written", "op"),
    [("=", "="), ("!=", "!="), ("<>", "!="), ("LIKE", "LIKE"), ("like", "LIKE"),
     ("ILIKE", "ILIKE"), ("iLike", "ILIKE")],
)  # fmt: skip
def test_string_operators(written: str, op: str) -> None:
    for lhs in ("params.p", "tags.t", "run_name", "datasets.digest"):
        assert run(f"{lhs} {written} 'a%'") == Comparison(run(f"{lhs} = ''").identifier, op, "a%")  # type: ignore[arg-type]


@pytest.mark.parametrize(
    ("text", "op", "value"),
    [
        ("tags.t IN ('a')", "IN", ("a",)),
        ("tags.t in ('a', 'b', \"c\")", "IN", ("a", "b", "c")),
        ("tags.t NOT IN ('a','b')", "NOT IN", ("a", "b")),
        ("tags.t not   in ( 'a' , 'b' )", "NOT IN", ("a", "b")),
        ("params.p IN ('it''s')", "IN", ("it's",)),
        ("status IN ('RUNNING', 'FINISHED')", "IN", ("RUNNING", "FINISHED")),
        ("run_id NOT IN ('x')", "NOT IN", ("x",)),
        ("datasets.context IN ('train', 'eval')", "IN", ("train", "eval")),
    ],
)
def test_in_and_not_in_take_a_parenthesised_list_of_strings(
    text: str, op: str, value: tuple[str, ...]
) -> None:
    comparison = run(text)
    assert (comparison.op, comparison.value) == (op, value)


@pytest.mark.parametrize(
    ("text", "op"),
    [
        ("tags.t IS NULL", "IS NULL"),
        ("tags.t is null", "IS NULL"),
        ("params.p IS NOT NULL", "IS NOT NULL"),
        ("params.p Is  Not\tNull", "IS NOT NULL"),
        ("end_time IS NULL", "IS NULL"),
        ("attributes.end_time IS NOT NULL", "IS NOT NULL"),
    ],
)
def test_null_checks_have_no_value(text: str, op: str) -> None:
    comparison = run(text)
    assert (comparison.op, comparison.value) == (op, None)


# -- values -----------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("literal", "value"),
    [
        ("0", 0),
        ("42", 42),
        ("-7", -7),
        ("+3", 3),
        ("007", 7),
        ("0.5", 0.5),
        ("-0.25", -0.25),
        (".5", 0.5),
        ("-.5", -0.5),
        ("1.", 1.0),
        ("2.0", 2.0),
        ("1e-3", 0.001),
        ("1E3", 1000.0),
        ("1e+3", 1000.0),
        ("-2.5e2", -250.0),
        ("9223372036854775807", 9223372036854775807),
        # Beyond int64, which no database column stores: compared as a double.
        ("12345678901234567890", 12345678901234567890.0),
    ],
)
def test_number_literals(literal: str, value: float) -> None:
    parsed = run(f"metrics.m = {literal}").value
    assert parsed == value
    assert type(parsed) is type(value)  # int only when written without '.' or an exponent


def test_negative_number_right_after_an_operator() -> None:
    assert run("metrics.m>-1").value == -1


@pytest.mark.parametrize(
    ("literal", "value"),
    [
        ("'plain'", "plain"),
        ('"double"', "double"),
        ("''", ""),
        ("'it''s'", "it's"),
        ('"say ""hi"""', 'say "hi"'),
        ("'has \"double\" inside'", 'has "double" inside'),
        ("\"has 'single' inside\"", "has 'single' inside"),
        ("'back\\slash'", "back\\slash"),
        ("'AND OR ( ) = < `'", "AND OR ( ) = < `"),
        ("'ünïcödé ✓'", "ünïcödé ✓"),
        ("'123'", "123"),
    ],
)
def test_string_literals_and_escapes(literal: str, value: str) -> None:
    assert run(f"params.p = {literal}").value == value


def test_double_quoted_token_in_value_position_is_a_string() -> None:
    assert run('tags."key" = "value"') == Comparison(Identifier("tag", "key"), "=", "value")


# -- the experiments target -------------------------------------------------------------------


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("name = 'exp'", Comparison(Identifier("attribute", "name"), "=", "exp")),
        ("attributes.name LIKE 'e%'", Comparison(Identifier("attribute", "name"), "LIKE", "e%")),
        ("name ILIKE '%X'", Comparison(Identifier("attribute", "name"), "ILIKE", "%X")),
        ("name NOT IN ('a')", Comparison(Identifier("attribute", "name"), "NOT IN", ("a",))),
        ("experiment_id = '3'", Comparison(Identifier("attribute", "experiment_id"), "=", "3")),
        ("experiment_id = 3", Comparison(Identifier("attribute", "experiment_id"), "=", "3")),
        (
            "experiment_id IN (1, '2')",
            Comparison(Identifier("attribute", "experiment_id"), "IN", ("1", "2")),
        ),
        ("creation_time >= 10", Comparison(Identifier("attribute", "creation_time"), ">=", 10)),
        (
            "last_update_time < 1.5e3",
            Comparison(Identifier("attribute", "last_update_time"), "<", 1500.0),
        ),
        ("tags.owner = 'me'", Comparison(Identifier("tag", "owner"), "=", "me")),
        ("tags.owner ILIKE 'M%'", Comparison(Identifier("tag", "owner"), "ILIKE", "M%")),
        ("tags.owner IS NOT NULL", Comparison(Identifier("tag", "owner"), "IS NOT NULL", None)),
    ],
)
def test_experiments_filters(text: str, expected: Comparison) -> None:
    assert only(text) == expected


@pytest.mark.parametrize(
    ("text", "token", "fragment"),
    [
        ("metrics.loss < 1", "metrics.loss", "experiments can be filtered by name, experiment_id"),
        ("params.p = 'x'", "params.p", "experiments can be filtered by"),
        ("datasets.name = 'x'", "datasets.name", "experiments can be filtered by"),
        ("status = 'x'", "status", "unknown experiment attribute 'status'"),
        ("created > 1", "created", "unknown experiment attribute"),
        ("tags.t IN ('a')", "IN", "tags.t supports only =, !=, LIKE, ILIKE, IS NULL"),
        ("experiment_id LIKE '1%'", "LIKE", "supports only =, !=, IN, NOT IN"),
        ("experiment_id = 1.5", "1.5", "quote the value"),
        ("creation_time = 'x'", "'x'", "needs a number"),
        ("creation_time IS NULL", "IS NULL", "supports only"),
    ],
)
def test_experiments_rules(text: str, token: str, fragment: str) -> None:
    err = rejects(text, "experiments")
    assert err.token == token
    assert fragment in err.message


# -- order_by ---------------------------------------------------------------------------------


@pytest.mark.parametrize("clauses", [None, [], ()])
def test_no_order_by(clauses: list[str] | None) -> None:
    assert parse_order_by(clauses) == ()


@pytest.mark.parametrize(
    ("clause", "expected"),
    [
        ("metrics.loss", OrderKey(Identifier("metric", "loss"), True)),
        ("metrics.loss ASC", OrderKey(Identifier("metric", "loss"), True)),
        ("metrics.loss desc", OrderKey(Identifier("metric", "loss"), False)),
        ("metrics.loss.max DESC", OrderKey(Identifier("metric", "loss", "max"), False)),
        ("metrics.`val loss`.min Asc", OrderKey(Identifier("metric", "val loss", "min"), True)),
        ("params.lr", OrderKey(Identifier("param", "lr"), True)),
        ("tags.`a b` DESC", OrderKey(Identifier("tag", "a b"), False)),
        ("created DESC", OrderKey(Identifier("attribute", "start_time"), False)),
        ("attributes.end_time", OrderKey(Identifier("attribute", "end_time"), True)),
        ("`Run Name`", OrderKey(Identifier("attribute", "run_name"), True)),
        ("  status   DESC  ", OrderKey(Identifier("attribute", "status"), False)),
    ],
)
def test_order_by_runs(clause: str, expected: OrderKey) -> None:
    assert parse_order_by([clause]) == (expected,)


@pytest.mark.parametrize(
    "key", ["run_id", "run_name", "user_id", "status", "artifact_uri", "lifecycle_stage"]
)
def test_order_by_every_run_attribute(key: str) -> None:
    assert parse_order_by([key]) == (OrderKey(Identifier("attribute", key)),)


def test_order_by_keeps_clause_order() -> None:
    assert parse_order_by(["params.a DESC", "metrics.b"]) == (
        OrderKey(Identifier("param", "a"), False),
        OrderKey(Identifier("metric", "b"), True),
    )


def test_order_by_single_string_is_one_clause() -> None:
    assert parse_order_by("metrics.loss DESC") == (OrderKey(Identifier("metric", "loss"), False),)


@pytest.mark.parametrize(
    ("clause", "key"),
    [
        ("name", "name"),
        ("experiment_id DESC", "experiment_id"),
        ("creation_time", "creation_time"),
        ("attributes.last_update_time ASC", "last_update_time"),
    ],
)
def test_order_by_experiments(clause: str, key: str) -> None:
    (order,) = parse_order_by([clause], "experiments")
    assert order.identifier == Identifier("attribute", key)


@pytest.mark.parametrize(
    ("clause", "target", "token", "position", "fragment"),
    [
        ("metrics.loss DESC extra", "runs", "extra", 18, "expected nothing after DESC"),
        ("metrics.loss ASC DESC", "runs", "DESC", 17, "expected nothing after ASC"),
        ("metrics.loss sideways", "runs", "sideways", 13, "expected ASC, DESC or nothing"),
        ("metrics.loss > 1", "runs", ">", 13, "expected ASC, DESC"),
        ("datasets.name", "runs", "datasets.name", 0, "metrics, params, tags, attributes"),
        ("bogus", "runs", "bogus", 0, "unknown run attribute 'bogus'"),
        ("", "runs", "", 0, "expected an identifier to order by"),
        ("DESC", "runs", "DESC", 0, "unknown run attribute 'DESC'"),
        ("tags.t", "experiments", "tags.t", 0, "experiments can be ordered by attributes only"),
        ("metrics.m", "experiments", "metrics.m", 0, "attributes only"),
        ("status", "experiments", "status", 0, "unknown experiment attribute"),
        ("`unterminated", "runs", "`unterminated", 0, "unterminated backticked name"),
    ],
)
def test_invalid_order_by(
    clause: str, target: str, token: str, position: int, fragment: str
) -> None:
    with pytest.raises(InvalidFilter) as info:
        parse_order_by([clause], target)  # type: ignore[arg-type]
    err = info.value
    assert err.message.startswith(f'Invalid order_by clause "{clause}": ')
    assert (err.token, err.position) == (token, position)
    assert f"at position {position}" in err.message
    assert fragment in err.message


# -- invalid filters --------------------------------------------------------------------------

INVALID = [
    # (filter, offending token, position, fragment of the explanation)
    ("metrics.acc >> 1", ">", 13, "expected a value after '>'"),
    ("metrics.acc =", "", 13, "expected a value after '='"),
    ("metrics.acc", "", 11, "expected an operator after 'metrics.acc'"),
    ("metrics.acc 1", "1", 12, "expected an operator"),
    ("metrics.acc == 1", "=", 13, "expected a value after '='"),
    ("metrics.acc ! 1", "!", 12, "expected '!='"),
    ("metrics.acc = abc", "abc", 14, "a number or a quoted string"),
    ("metrics.acc = 1.2.3", "1.2.3", 14, "expected a value"),
    ("metrics.acc = nan", "nan", 14, "expected a value"),
    ("metrics.acc = 1e999", "1e999", 14, "out of range"),
    ("metrics.acc = 1 AND", "", 19, "expected a comparison after 'AND'"),
    ("metrics.acc = 1 and ", "", 20, "expected a comparison after 'and'"),
    ("AND metrics.acc = 1", "AND", 0, "expected a comparison"),
    ("metrics.a = 1 AND AND metrics.b = 2", "AND", 18, "expected a comparison after 'AND'"),
    ("metrics.a = 1 metrics.b = 2", "metrics.b", 14, "expected AND or the end of the filter"),
    ("metrics.a = 1 OR metrics.b = 2", "OR", 14, "only AND-conjunctions are supported"),
    ("metrics.a = 1 or metrics.b = 2", "or", 14, "only AND-conjunctions are supported"),
    ("NOT metrics.a = 1", "NOT", 0, "only AND-conjunctions are supported"),
    ("metrics.a = 1 AND NOT params.b = 'x'", "NOT", 18, "only AND-conjunctions"),
    ("(metrics.a = 1)", "(", 0, "only AND-conjunctions are supported"),
    ("metrics.a = 1 AND (params.b = 'x')", "(", 18, "only AND-conjunctions"),
    ("metrics.a = (1)", "(", 12, "expected a value after '='"),
    ("metrics.a = 1)", ")", 13, "expected AND or the end of the filter"),
    ("foo.bar = '1'", "foo", 0, "metrics., params., tags., attributes. or datasets."),
    ("`foo`.bar = '1'", "`foo`", 0, "expected an entity prefix"),
    (".bar = '1'", ".bar", 0, "expected an entity prefix"),
    ("params. = 'x'", "=", 8, "expected a key after the '.'"),
    ("params.", "", 7, "expected a key after the '.'"),
    ("params.`` = 'x'", "``", 7, "expected a non-empty key"),
    ("params.\"\" = 'x'", '""', 7, "expected a non-empty key"),
    ("`` = 'x'", "``", 0, "expected a non-empty name"),
    ("params.'p' = 'x'", "'p'", 7, "quote a key with backticks or double quotes"),
    ("'status' = 'x'", "'status'", 0, "single quotes are for values"),
    ("params.`a`b = 'x'", "b", 10, "only a metric aggregate"),
    ("metrics.`a`.max`b` = 1", "`b`", 15, "expected an operator after the identifier"),
    ("metrics.`a`.mean = 1", ".mean", 11, "only a metric aggregate (.min, .max, .count)"),
    ("params.a`b` = 'x'", "`b`", 8, "expected an operator after the identifier"),
    ("status`x` = 'x'", "`x`", 6, "expected an operator after 'status'"),
    ("`params`x = 'x'", "x", 8, "expected '.' and a key after `params`"),
    ("params.p = 'unterminated", "'unterminated", 11, "close it with '"),
    ('params.p = "unterminated', '"unterminated', 11, 'close it with "'),
    ("tags.`unterminated = 'x'", "`unterminated = 'x'", 5, "close it with `"),
    ("params.p = 'a''", "'a''", 11, "unterminated string"),
    ("params.p = 'x' # comment", "#", 15, "unexpected '#'"),
    ("params.p ; = 'x'", ";", 9, "unexpected ';'"),
    ("params.p IN 'a'", "'a'", 12, "expected '(' after IN"),
    ("params.p NOT IN 'a'", "'a'", 16, "expected '(' after NOT IN"),
    ("params.p IN ()", ")", 13, "IN needs at least one value"),
    ("params.p NOT IN ( )", ")", 18, "NOT IN needs at least one value"),
    ("params.p IN ('a',)", ")", 17, "expected a value in the IN list"),
    ("params.p IN ('a' 'b')", "'b'", 17, "expected ',' or ')' in the IN list"),
    ("params.p IN ('a'", "", 16, "expected ',' or ')' in the IN list"),
    ("params.p IN", "", 11, "expected '(' after IN"),
    ("params.p NOT LIKE 'a'", "LIKE", 13, "expected IN after NOT"),
    ("params.p NOT", "", 12, "expected IN after NOT"),
    ("params.p IS 'a'", "'a'", 12, "expected IS [NOT] NULL"),
    ("params.p IS NOT 'a'", "'a'", 16, "expected IS NOT NULL"),
    ("params.p IS", "", 11, "expected IS [NOT] NULL"),
    ("params.p = NULL", "NULL", 11, "expected a value"),
    # rule violations, per entity
    ("metrics.loss = '0.5'", "'0.5'", 15, "metric comparisons need a number"),
    ('metrics.loss > "1"', '"1"', 15, "metric comparisons need a number"),
    ("metrics.loss LIKE 'a'", "LIKE", 13, "metrics.loss supports only =, !=, <, <=, >, >="),
    ("metrics.loss IN ('a')", "IN", 13, "supports only =, !=, <, <=, >, >="),
    ("metrics.loss IS NULL", "IS NULL", 13, "supports only"),
    ("metrics.loss.max NOT  IN ('a')", "NOT  IN", 17, "metrics.loss.max supports only"),
    ("params.lr = 0.1", "0.1", 12, "quote the value, e.g. '0.1'"),
    ("params.lr IN (1)", "1", 14, "params.lr compares strings"),
    ("tags.t = 1", "1", 9, "tags.t compares strings: quote the value"),
    ("params.lr < '1'", "<", 10, "supports only =, !=, LIKE, ILIKE, IN, NOT IN, IS NULL"),
    ("tags.t >= 'a'", ">=", 7, "supports only"),
    ("status < 'a'", "<", 7, "status supports only =, !=, LIKE, ILIKE, IN, NOT IN"),
    ("run_id IS NULL", "IS NULL", 7, "supports only"),
    ("status = 1", "1", 9, "status compares strings"),
    ("start_time = 'x'", "'x'", 13, "start_time needs a number"),
    ("created LIKE '1'", "LIKE", 8, "created supports only =, !=, <, <=, >, >="),
    ("start_time IS NULL", "IS NULL", 11, "supports only"),
    ("end_time IN ('1')", "IN", 9, "IS NULL, IS NOT NULL"),
    ("bogus = 'x'", "bogus", 0, "unknown run attribute 'bogus'"),
    ("attributes.loss < 1", "attributes.loss", 0, "expected one of run_id, run_name"),
    ("experiment_id = '1'", "experiment_id", 0, "unknown run attribute"),
    ("datasets.size = 'x'", "datasets.size", 0, "unknown dataset field"),
    ("datasets.name < 'x'", "<", 14, "supports only =, !=, LIKE, ILIKE, IN, NOT IN"),
    ("datasets.name = 1", "1", 16, "compares strings"),
]


@pytest.mark.parametrize(("text", "token", "position", "fragment"), INVALID)
def test_invalid_filter_names_token_position_and_expectation(
    text: str, token: str, position: int, fragment: str
) -> None:
    err = rejects(text)
    assert (err.token, err.position) == (token, position)
    assert err.message.startswith(f'Invalid filter "{text}": ')
    assert f"at position {position}" in err.message
    if token:
        assert repr(token) in err.message
        assert text[position : position + len(token)] == token
    else:
        assert "end of filter" in err.message
    assert fragment in err.message


def test_error_message_format_matches_the_documented_example() -> None:
    assert rejects("metrics.acc >> 1").message == (
        "Invalid filter \"metrics.acc >> 1\": unexpected '>' at position 13; "
        "expected a value after '>'"
    )


def test_invalid_filter_is_an_invalid_parameter_value() -> None:
    err = rejects("foo")
    assert isinstance(err, InvalidParameter)
    assert err.error_code == "INVALID_PARAMETER_VALUE"
    assert err.http_status == 400


def test_unknown_target_is_rejected() -> None:
    with pytest.raises(InvalidFilter, match="Unknown search target 'models'"):
        parse_filter("name = 'x'", "models")  # type: ignore[arg-type]
    with pytest.raises(InvalidFilter, match="Unknown search target"):
        parse_order_by(["name"], "models")  # type: ignore[arg-type]


@pytest.mark.parametrize("bad", [42, b"name = 'x'"])
def test_non_string_input_is_an_invalid_filter(bad: object) -> None:
    with pytest.raises(InvalidFilter, match="expected a string"):
        parse_filter(bad)  # type: ignore[arg-type]
    with pytest.raises(InvalidFilter, match="expected a string"):
        parse_order_by([bad])  # type: ignore[list-item]


# -- robustness -------------------------------------------------------------------------------

_FRAGMENTS = [
    "metrics.", "params.", "tags.", "attributes.", "datasets.", "loss", ".max", ".min", "`", '"',
    "'", "''", "(", ")", ",", " ", " AND ", " OR ", " NOT ", " IN ", " IS ", " NULL ", " LIKE ",
    "=", "!=", "<>", "<", ">=", "!", "-", "+", "1", "0.5", "1e", "e+3", ".", "run name", "status",
    "created", "\t", "é", "\\", "#", "%", "_",
]  # fmt: skip
_VALID = [
    "metrics.loss.min < 0.3 AND params.lr = '0.1'",
    "tags.`mlflow.source.type` IN ('JOB', 'NOTEBOOK') and attributes.end_time IS NULL",
    "run_name LIKE 'bert-%' AND datasets.context = \"training\"",
    "metrics.`val.loss`.max >= -1e-3 AND created > 0",
]


def _error_from(text: str, target: str) -> InvalidFilter | None:
    try:
        parse_filter(text, target)  # type: ignore[arg-type]
    except InvalidFilter as err:
        return err
    return None


def _check_parse(text: str, target: str) -> None:
    err = _error_from(text, target)
    if err is not None:
        # Every error points at real text: the token sits at its position in the filter.
        assert isinstance(err.position, int)
        assert 0 <= err.position <= len(text)
        assert isinstance(err.token, str)
        assert text[err.position : err.position + len(err.token)] == err.token
        assert err.message.startswith(f'Invalid filter "{text}": ')


@pytest.mark.parametrize("target", ["runs", "experiments"])
def test_random_fragment_soup_only_parses_or_raises_invalid_filter(target: str) -> None:
    rng = random.Random(20240501)
    for _ in range(3000):
        text = "".join(rng.choice(_FRAGMENTS) for _ in range(rng.randint(1, 12)))
        _check_parse(text, target)


def test_random_characters_only_parse_or_raise_invalid_filter() -> None:
    rng = random.Random(7)
    alphabet = "ab.`'\"()=<>!, -+1e_\tAND"
    for _ in range(3000):
        _check_parse("".join(rng.choices(alphabet, k=rng.randint(0, 20))), "runs")


def test_mutated_valid_filters_only_parse_or_raise_invalid_filter() -> None:
    rng = random.Random(99)
    for _ in range(3000):
        chars = list(rng.choice(_VALID))
        for _ in range(rng.randint(1, 3)):
            index = rng.randrange(len(chars))
            if rng.random() < 0.5:
                del chars[index]
            else:
                chars.insert(index, rng.choice("`'\"() .=<>!,"))
        _check_parse("".join(chars), rng.choice(["runs", "experiments"]))


def test_random_order_by_clauses_only_parse_or_raise_invalid_filter() -> None:
    rng = random.Random(3)
    positions: list[object] = []
    for _ in range(2000):
        clause = "".join(
            rng.choice([*_FRAGMENTS, " DESC", " asc"]) for _ in range(rng.randint(1, 6))
        )
        try:
            parse_order_by([clause], rng.choice(["runs", "experiments"]))
        except InvalidFilter as err:
            positions.append(err.position)
    assert positions
    assert all(isinstance(position, int) for position in positions)


def test_valid_examples_parse() -> None:
    for text in _VALID:
        assert parse_filter(text)


# -- the module itself ------------------------------------------------------------------------


def test_docstring_examples_hold() -> None:
    results = doctest.testmod(parser_module, optionflags=doctest.NORMALIZE_WHITESPACE)
    assert results.attempted > 0
    assert results.failed == 0


def test_parser_imports_only_the_standard_library_and_cairn_basics() -> None:
    tree = ast.parse(Path(parser_module.__file__).read_text(encoding="utf-8"))
    imported = {
        node.module if isinstance(node, ast.ImportFrom) else alias.name
        for node in ast.walk(tree)
        if isinstance(node, ast.Import | ast.ImportFrom)
        for alias in node.names
    }
    allowed = {"__future__", "math", "re", "collections.abc", "dataclasses", "typing"}
    assert imported <= allowed | {"cairn.errors", "cairn.search.ast"}
