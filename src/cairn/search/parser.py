"""Parse MLflow search filters and ``order_by`` clauses into :mod:`cairn.search.ast`.

A filter is a conjunction of comparisons::

    filter      := comparison (AND comparison)*
    comparison  := identifier op value
                 | identifier IS [NOT] NULL
                 | identifier [NOT] IN ( string [, string]* )
    identifier  := [entity "."] key [ "." aggregate ]      (aggregate: metrics only)
    op          := = | != | <> | < | <= | > | >= | LIKE | ILIKE
    value       := number | 'string' | "string"

* Entities (case-insensitive): ``metrics``/``metric``, ``params``/``param``/``parameter``/
  ``parameters``, ``tags``/``tag``, ``attributes``/``attribute``/``attr``/``run``,
  ``datasets``/``dataset``. A bare key is an attribute: ``status = 'FINISHED'``.
* The entity may be backticked; the key may be backticked or double-quoted. An unquoted key is
  everything after the first dot, so ``tags.mlflow.source.type`` is the tag
  ``mlflow.source.type``.
* cairn extension: ``metrics.loss.min``, ``.max`` and ``.count`` compare an aggregate of the
  series instead of its latest value (quote the key to name a metric literally called
  ``x.max``: ``metrics.`x.max```).
* Strings use single or double quotes; a doubled quote escapes itself (``'it''s'``).
  Numbers: ``3``, ``-0.5``, ``1e-3`` (an ``int`` unless written with ``.`` or ``e``).
  Keywords are case-insensitive. ``OR``, ``NOT`` and parentheses are not supported.
* Metrics and time attributes compare numbers (``= != < <= > >=``); params, tags, datasets
  and string attributes compare quoted strings (``= != LIKE ILIKE [NOT] IN``, plus
  ``IS [NOT] NULL`` for params and tags). The tables below hold the exact rules per target.

Examples::

    metrics.loss.min < 0.3 AND params.optimizer = 'adam'
    tags.`mlflow.source.type` IN ('JOB', 'NOTEBOOK') and attributes.end_time IS NULL
    run_name LIKE 'bert-%' AND datasets.context = "training"

An ``order_by`` clause is ``identifier [ASC|DESC]``, e.g. ``metrics.`val loss`.max DESC``.
Which entities, keys, operators and value types are allowed depends on the search target
(``runs``, ``experiments`` or ``logged_models``); every violation raises
:class:`~cairn.errors.InvalidFilter` naming the offending token and its 0-based position.

Logged models (MLflow 3.x) are filtered by the attributes ``name``, ``model_id``,
``model_type``, ``status`` and ``source_run_id`` (strings) and ``creation_timestamp`` /
``last_updated_timestamp`` (numbers; ``creation_time`` and ``last_updated_time`` are aliases),
and by ``metrics.``, ``params.`` and ``tags.``. Metric aggregates do not apply to them:
``metrics.acc.max`` is the metric named ``acc.max``, as in MLflow.
"""

from __future__ import annotations

import math
import re
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Literal

from cairn.errors import InvalidFilter
from cairn.search.ast import Aggregate, Comparison, Entity, Identifier, Operator, OrderKey, Value

__all__ = ["Target", "parse_filter", "parse_order_by"]

Target = Literal["runs", "experiments", "logged_models"]

_ENTITIES: dict[str, Entity] = {
    **dict.fromkeys(("metrics", "metric"), "metric"),
    **dict.fromkeys(("params", "param", "parameter", "parameters"), "param"),
    **dict.fromkeys(("tags", "tag"), "tag"),
    **dict.fromkeys(("attributes", "attribute", "attr", "run"), "attribute"),
    **dict.fromkeys(("datasets", "dataset"), "dataset"),
}
_AGGREGATES: dict[str, Aggregate] = {"min": "min", "max": "max", "count": "count"}
_SYMBOL_OPS: dict[str, Operator] = {
    "=": "=", "!=": "!=", "<>": "!=", "<": "<", "<=": "<=", ">": ">", ">=": ">=",
}  # fmt: skip
_WORD_OPS: dict[str, Operator] = {"LIKE": "LIKE", "ILIKE": "ILIKE", "IN": "IN"}
_KEYWORDS = frozenset({"AND", "OR", "NOT", "IN", "IS", "NULL", "LIKE", "ILIKE"})
_ONLY_AND = "only AND-conjunctions are supported (no OR, NOT or parentheses)"
_OPERATORS = "=, !=, <, <=, >, >=, LIKE, ILIKE, IN, NOT IN, IS NULL or IS NOT NULL"
# float() alone would also accept "nan", "inf" and "1_000"; MLflow's grammar does not.
_NUMBER = re.compile(r"[+-]?(?:\d+\.?\d*|\.\d+)(?:[eE][+-]?\d+)?", re.ASCII)


@dataclass(frozen=True, slots=True)
class _Rule:
    """What one identifier accepts: its operators and the type of its values."""

    ops: tuple[Operator, ...]
    kind: Literal["number", "string", "id"]  # "id": a string, or an integer turned into one


_NUM_OPS: tuple[Operator, ...] = ("=", "!=", "<", "<=", ">", ">=")
_STR_OPS: tuple[Operator, ...] = ("=", "!=", "LIKE", "ILIKE", "IN", "NOT IN")
_NULL_OPS: tuple[Operator, ...] = ("IS NULL", "IS NOT NULL")
_NUMBER_RULE = _Rule(_NUM_OPS, "number")
_STRING_RULE = _Rule(_STR_OPS, "string")
_RUN_RULES: dict[Entity, _Rule] = {
    "metric": _NUMBER_RULE,
    "param": _Rule(_STR_OPS + _NULL_OPS, "string"),
    "tag": _Rule(_STR_OPS + _NULL_OPS, "string"),
}
_RUN_ATTRIBUTES: dict[str, _Rule] = {
    **dict.fromkeys(
        ("run_id", "run_name", "user_id", "status", "artifact_uri", "lifecycle_stage"),
        _STRING_RULE,
    ),
    "start_time": _NUMBER_RULE,
    "end_time": _Rule(_NUM_OPS + _NULL_OPS, "number"),
    # cairn's addition: end_time - start_time in ms, NULL while the run has no end.
    "duration": _Rule(_NUM_OPS + _NULL_OPS, "number"),
}
# Keys are lower-cased before lookup, so ``runName`` and ``Run Name`` resolve too.
_RUN_ATTRIBUTE_ALIASES = {"run name": "run_name", "runname": "run_name", "created": "start_time"}
_DATASET_KEYS: dict[str, _Rule] = dict.fromkeys(("name", "digest", "context"), _STRING_RULE)
_EXPERIMENT_ATTRIBUTES: dict[str, _Rule] = {
    "name": _STRING_RULE,
    "experiment_id": _Rule(("=", "!=", "IN", "NOT IN"), "id"),
    "creation_time": _NUMBER_RULE,
    "last_update_time": _NUMBER_RULE,
}
_EXPERIMENT_TAG = _Rule(("=", "!=", "LIKE", "ILIKE", *_NULL_OPS), "string")
_EXPERIMENT_FIELDS = (
    "experiments can be filtered by name, experiment_id, creation_time, last_update_time and tags"
)
_MODEL_RULES: dict[Entity, _Rule] = {
    "metric": _NUMBER_RULE,
    "param": _STRING_RULE,
    "tag": _STRING_RULE,
}
_MODEL_ATTRIBUTES: dict[str, _Rule] = {
    **dict.fromkeys(("name", "model_id", "model_type", "source_run_id"), _STRING_RULE),
    "status": _Rule(("=", "!=", "IN", "NOT IN"), "string"),
    "creation_timestamp": _NUMBER_RULE,
    "last_updated_timestamp": _NUMBER_RULE,
}
_MODEL_ATTRIBUTE_ALIASES = {
    "creation_time": "creation_timestamp",
    "creation_timestamp_ms": "creation_timestamp",
    "last_updated_time": "last_updated_timestamp",
    "last_updated_timestamp_ms": "last_updated_timestamp",
}
_MODEL_FIELDS = "logged models can be filtered and ordered by attributes, metrics, params and tags"
_TARGETS = ("runs", "experiments", "logged_models")

_TokenKind = Literal["word", "squote", "dquote", "backtick", "op", "punct", "eof"]


@dataclass(frozen=True, slots=True)
class _Token:
    kind: _TokenKind
    text: str  # exactly as written, quotes included
    value: str  # the content of a quoted token with escapes resolved; else ``text``
    pos: int

    @property
    def end(self) -> int:
        return self.pos + len(self.text)


def _is_word_char(ch: str) -> bool:
    return ch.isalnum() or ch in "_.-/:"


class _Parser:
    """Tokenizes one string up front, then parses it by recursive descent."""

    def __init__(self, text: str, target: str, noun: str) -> None:
        # Callers pass request data straight through; a wrong type is still a bad filter.
        if not isinstance(text, str):
            raise InvalidFilter(f"Invalid {noun} {text!r}: expected a string")
        if target not in _TARGETS:
            raise InvalidFilter(
                f"Unknown search target {target!r}; use 'runs', 'experiments' or 'logged_models'"
            )
        self.text, self.noun = text, noun
        self.target = target
        self.tokens = self._tokenize()
        self.i = 0

    # -- errors -------------------------------------------------------------------------------

    def error(self, pos: int, token: str, detail: str, what: str = "") -> InvalidFilter:
        what = what or (f"unexpected {token!r}" if token else f"unexpected end of {self.noun}")
        message = f'Invalid {self.noun} "{self.text}": {what} at position {pos}; {detail}'
        return InvalidFilter(message, position=pos, token=token)

    def error_at(self, tok: _Token, detail: str) -> InvalidFilter:
        return self.error(tok.pos, tok.text, detail)

    # -- tokenizer ----------------------------------------------------------------------------

    def _tokenize(self) -> list[_Token]:
        text, i = self.text, 0
        tokens: list[_Token] = []
        while i < len(text):
            ch = text[i]
            if ch.isspace():
                i += 1
                continue
            if ch in "'\"`":
                tok = self._quoted(i)
            elif ch in "=<>!":
                tok = self._operator(i)
            elif ch in "(),":
                tok = _Token("punct", ch, ch, i)
            elif _is_word_char(ch) or (ch == "+" and text[i + 1 : i + 2].isdigit()):
                tok = self._word(i)
            else:
                raise self.error(
                    i, ch, "expected an identifier, an operator, a value, '(', ')' or ','"
                )
            tokens.append(tok)
            i = tok.end
        tokens.append(_Token("eof", "", "", len(text)))
        return tokens

    def _quoted(self, start: int) -> _Token:
        quote, text = self.text[start], self.text
        parts, i = [], start + 1
        while True:
            close = text.find(quote, i)
            if close < 0:
                noun = "backticked name" if quote == "`" else "string"
                what = f"unterminated {noun} {text[start:]!r}"
                raise self.error(start, text[start:], f"close it with {quote}", what)
            parts.append(text[i:close])
            if not text.startswith(quote, close + 1):
                break
            parts.append(quote)  # a doubled quote stands for one quote character
            i = close + 2
        kind: _TokenKind = "squote" if quote == "'" else "dquote" if quote == '"' else "backtick"
        return _Token(kind, text[start : close + 1], "".join(parts), start)

    def _operator(self, start: int) -> _Token:
        pair = self.text[start : start + 2]
        op = pair if pair in _SYMBOL_OPS else self.text[start]
        if op not in _SYMBOL_OPS:
            raise self.error(start, op, "expected '!=' ('!' alone is not an operator)")
        return _Token("op", op, op, start)

    def _word(self, start: int) -> _Token:
        text, i = self.text, start + 1
        while i < len(text):
            # "1e+3": a "+" continues a word only as the sign of a number's exponent.
            exponent_sign = (
                text[i] == "+" and text[i - 1] in "eE" and text[start] in "+-.0123456789"
            )
            if not (_is_word_char(text[i]) or exponent_sign):
                break
            i += 1
        return _Token("word", text[start:i], text[start:i], start)

    # -- token stream -------------------------------------------------------------------------

    def peek(self) -> _Token:
        return self.tokens[self.i]

    def advance(self) -> _Token:
        tok = self.tokens[self.i]
        self.i = min(self.i + 1, len(self.tokens) - 1)  # the final eof token repeats forever
        return tok

    @staticmethod
    def is_word(tok: _Token, *words: str) -> bool:
        return tok.kind == "word" and tok.text.upper() in words

    # -- identifiers --------------------------------------------------------------------------

    def identifier(self, expected: str) -> tuple[Identifier, str, int]:
        """An identifier, its source text and position. It may span adjacent tokens:
        ``tags.`a b```, ``metrics.`val.loss`.max`` and ``params."x"`` are one identifier."""
        first = self.peek()
        if self.is_word(first, "OR", "NOT") or first.text == "(":
            raise self.error_at(first, _ONLY_AND)
        if first.kind == "squote":
            raise self.error_at(first, "single quotes are for values; quote a key with backticks")
        if first.kind not in ("word", "dquote", "backtick") or self.is_word(first, *_KEYWORDS):
            raise self.error_at(first, expected)
        pieces = [self.advance()]
        quoted = ("word", "squote", "dquote", "backtick")
        while self.peek().kind in quoted and self.peek().pos == pieces[-1].end:
            pieces.append(self.advance())
        source = self.text[pieces[0].pos : pieces[-1].end]
        return self._resolve(pieces), source, pieces[0].pos

    def _resolve(self, pieces: list[_Token]) -> Identifier:
        first, rest = pieces[0], pieces[1:]
        if first.kind == "word":
            entity_name, dot, key = first.text.partition(".")
            if not dot:  # a bare attribute name
                if rest:
                    raise self.error_at(rest[0], f"expected an operator after {first.text!r}")
                return Identifier("attribute", first.text)
        elif not rest:  # a bare quoted attribute name: `run name`
            if not first.value:
                raise self.error_at(first, "expected a non-empty name")
            return Identifier("attribute", first.value)
        elif rest[0].kind == "word" and rest[0].text.startswith("."):
            entity_name, key, rest = first.value, rest[0].text[1:], rest[1:]
        else:
            raise self.error_at(rest[0], f"expected '.' and a key after {first.text}")
        entity = self._entity(entity_name, first)
        if key:
            if rest:
                raise self.error_at(rest[0], "expected an operator after the identifier")
            head, dot, last = key.rpartition(".")
            aggregates = self.target != "logged_models"
            if aggregates and entity == "metric" and head and last.lower() in _AGGREGATES:
                return Identifier(entity, head, _AGGREGATES[last.lower()])
            return Identifier(entity, key)
        return self._quoted_key(entity, rest)

    def _entity(self, name: str, tok: _Token) -> Entity:
        entity = _ENTITIES.get(name.lower())
        if entity is None:
            prefixes = "metrics., params., tags., attributes. or datasets."
            detail = f"expected an entity prefix ({prefixes}) or a bare attribute name"
            token = name if tok.kind == "word" and name else tok.text
            raise self.error(tok.pos, token, detail, f"unknown entity {token!r}" if name else "")
        return entity

    def _quoted_key(self, entity: Entity, rest: list[_Token]) -> Identifier:
        """The key after ``<entity>.``: backticked or double-quoted, then maybe ``.max``."""
        if not rest:
            raise self.error_at(self.peek(), "expected a key after the '.'")
        key_tok, *suffix = rest
        if key_tok.kind not in ("backtick", "dquote"):
            raise self.error_at(key_tok, "quote a key with backticks or double quotes")
        if not key_tok.value:
            raise self.error_at(key_tok, "expected a non-empty key")
        if not suffix:
            return Identifier(entity, key_tok.value)
        name = suffix[0].text[1:].lower() if suffix[0].text.startswith(".") else ""
        if self.target == "logged_models":
            raise self.error_at(suffix[0], "expected an operator after the identifier")
        if entity != "metric" or suffix[0].kind != "word" or name not in _AGGREGATES:
            raise self.error_at(
                suffix[0], "only a metric aggregate (.min, .max, .count) may follow"
            )
        if len(suffix) > 1:
            raise self.error_at(suffix[1], "expected an operator after the identifier")
        return Identifier(entity, key_tok.value, _AGGREGATES[name])

    # -- rules per target ---------------------------------------------------------------------

    def filter_rule(self, ident: Identifier, source: str, pos: int) -> tuple[Identifier, _Rule]:
        """The canonical identifier and what it accepts in a filter on this target."""
        entity = ident.entity
        if self.target == "logged_models":
            return self.model_rule(ident, source, pos)
        if self.target == "experiments":
            if entity == "tag":
                return ident, _EXPERIMENT_TAG
            if entity != "attribute":
                raise self.error(pos, source, _EXPERIMENT_FIELDS)
            return self.lookup(ident, _EXPERIMENT_ATTRIBUTES, source, pos, "experiment attribute")
        if entity == "attribute":
            return self.lookup(ident, _RUN_ATTRIBUTES, source, pos, "run attribute")
        if entity == "dataset":
            return self.lookup(ident, _DATASET_KEYS, source, pos, "dataset field")
        return ident, _RUN_RULES[entity]

    def model_rule(self, ident: Identifier, source: str, pos: int) -> tuple[Identifier, _Rule]:
        """The canonical identifier and what it accepts, for logged models."""
        if ident.entity == "attribute":
            return self.lookup(ident, _MODEL_ATTRIBUTES, source, pos, "logged model attribute")
        if ident.entity == "dataset":
            raise self.error(pos, source, _MODEL_FIELDS)
        return ident, _MODEL_RULES[ident.entity]

    def order_rule(self, ident: Identifier, source: str, pos: int) -> Identifier:
        """The canonical identifier, if this target's results can be ordered by it."""
        if self.target == "logged_models":
            return self.model_rule(ident, source, pos)[0]
        if self.target == "experiments":
            if ident.entity != "attribute":
                raise self.error(pos, source, "experiments can be ordered by attributes only")
            ident, _ = self.lookup(
                ident, _EXPERIMENT_ATTRIBUTES, source, pos, "experiment attribute"
            )
        elif ident.entity == "dataset":
            raise self.error(
                pos, source, "runs can be ordered by metrics, params, tags, attributes"
            )
        elif ident.entity == "attribute":
            ident, _ = self.lookup(ident, _RUN_ATTRIBUTES, source, pos, "run attribute")
        return ident

    def lookup(
        self, ident: Identifier, table: dict[str, _Rule], source: str, pos: int, what: str
    ) -> tuple[Identifier, _Rule]:
        key = ident.key.lower()
        if self.target == "runs" and ident.entity == "attribute":
            key = _RUN_ATTRIBUTE_ALIASES.get(key, key)
        elif self.target == "logged_models":
            key = _MODEL_ATTRIBUTE_ALIASES.get(key, key)
        if key not in table:
            detail = f"expected one of {', '.join(table)}"
            raise self.error(pos, source, detail, f"unknown {what} {source!r}")
        return Identifier(ident.entity, key, ident.aggregate), table[key]

    # -- comparisons --------------------------------------------------------------------------

    def conjunction(self) -> tuple[Comparison, ...]:
        comparisons = [self.comparison("expected a comparison such as metrics.loss < 0.5")]
        while True:
            tok = self.advance()
            if tok.kind == "eof":
                return tuple(comparisons)
            if self.is_word(tok, "AND"):
                comparisons.append(self.comparison(f"expected a comparison after {tok.text!r}"))
            elif self.is_word(tok, "OR", "NOT") or tok.text == "(":
                raise self.error_at(tok, _ONLY_AND)
            else:
                raise self.error_at(tok, "expected AND or the end of the filter")

    def comparison(self, expected: str) -> Comparison:
        ident, source, pos = self.identifier(expected)
        ident, rule = self.filter_rule(ident, source, pos)
        op, op_pos, op_text = self.operator(source)
        if op not in rule.ops:
            raise self.error(op_pos, op_text, f"{source} supports only {', '.join(rule.ops)}")
        value: Value = None
        if op in ("IN", "NOT IN"):
            value = self.in_list(op, rule, source)
        elif op not in _NULL_OPS:
            value = self.check(self.value(f"after {op_text!r}"), rule, ident, source)
        return Comparison(ident, op, value, pos)

    def operator(self, source: str) -> tuple[Operator, int, str]:
        """The operator after ``source``, its position and its text as written."""
        tok = self.advance()
        if tok.kind == "op":
            return _SYMBOL_OPS[tok.text], tok.pos, tok.text
        if tok.kind == "word" and tok.text.upper() in _WORD_OPS:
            return _WORD_OPS[tok.text.upper()], tok.pos, tok.text
        if self.is_word(tok, "NOT"):
            follow = self.advance()
            if not self.is_word(follow, "IN"):
                raise self.error_at(follow, "expected IN after NOT (NOT IN is the only negation)")
            return "NOT IN", tok.pos, self.text[tok.pos : follow.end]
        if self.is_word(tok, "IS"):
            follow = self.advance()
            negated = self.is_word(follow, "NOT")
            if negated:
                follow = self.advance()
            if not self.is_word(follow, "NULL"):
                raise self.error_at(follow, f"expected {'IS NOT' if negated else 'IS [NOT]'} NULL")
            op: Operator = "IS NOT NULL" if negated else "IS NULL"
            return op, tok.pos, self.text[tok.pos : follow.end]
        raise self.error_at(tok, f"expected an operator after {source!r}: {_OPERATORS}")

    def value(self, context: str) -> tuple[str | int | float, _Token]:
        """A quoted string or a number literal (converted), with its token."""
        tok = self.advance()
        if tok.kind in ("squote", "dquote"):
            return tok.value, tok
        if tok.kind != "word" or not _NUMBER.fullmatch(tok.text):
            hint = " (a number or a quoted string)" if tok.kind == "word" else ""
            raise self.error_at(tok, f"expected a value {context}{hint}")
        if not any(c in tok.text for c in ".eE"):
            try:
                number_int = int(tok.text)
            except ValueError:  # more digits than Python converts by default
                raise self.error_at(tok, "number is too long") from None
            if -(2**63) <= number_int < 2**63:
                return number_int, tok
            # Beyond what databases store as integers: compare as a (finite) double.
        number = float(tok.text)
        if not math.isfinite(number):
            raise self.error_at(tok, "number is out of range")
        return number, tok

    def in_list(self, op: str, rule: _Rule, source: str) -> tuple[str, ...]:
        opening = self.advance()
        if opening.text != "(" or opening.kind != "punct":
            raise self.error_at(opening, f"expected '(' after {op}, e.g. {op} ('a', 'b')")
        if self.peek().text == ")":
            raise self.error_at(self.peek(), f"{op} needs at least one value")
        items: list[str] = []
        while True:
            items.append(self.text_value(*self.value(f"in the {op} list"), rule, source))
            sep = self.advance()
            if sep.kind == "punct" and sep.text == ")":
                return tuple(items)
            if sep.kind != "punct" or sep.text != ",":
                raise self.error_at(sep, f"expected ',' or ')' in the {op} list")

    def check(
        self, raw: tuple[str | int | float, _Token], rule: _Rule, ident: Identifier, source: str
    ) -> Value:
        value, tok = raw
        if rule.kind != "number":
            return self.text_value(value, tok, rule, source)
        if isinstance(value, str):
            if ident.entity == "metric":
                raise self.error_at(tok, f"metric comparisons need a number, e.g. {source} < 0.5")
            raise self.error_at(tok, f"{source} needs a number (milliseconds since the epoch)")
        return value

    def text_value(self, value: str | int | float, tok: _Token, rule: _Rule, source: str) -> str:
        if isinstance(value, str):
            return value
        if rule.kind == "id" and isinstance(value, int):
            return str(value)
        raise self.error_at(tok, f"{source} compares strings: quote the value, e.g. '{tok.text}'")


def parse_filter(text: str | None, target: Target = "runs") -> tuple[Comparison, ...]:
    """Parse a search filter into its comparisons (all AND-ed together).

    >>> parse_filter("metrics.loss.min < 0.3 and params.lr = '0.1'")[0]
    Comparison(identifier=Identifier(entity='metric', key='loss', aggregate='min'), op='<', \
value=0.3, position=0)
    >>> [c.value for c in parse_filter("tags.`a.b` IN ('x', 'y') AND created >= 1")]
    [('x', 'y'), 1]
    >>> parse_filter("   ")
    ()

    Raises:
        InvalidFilter: when the text does not parse or breaks a rule of ``target``.
    """
    parser = _Parser("" if text is None else text, target, "filter")  # checks type and target
    return parser.conjunction() if parser.text.strip() else ()


def parse_order_by(clauses: Sequence[str] | None, target: Target = "runs") -> tuple[OrderKey, ...]:
    """Parse ``order_by`` clauses, each ``<identifier> [ASC|DESC]`` (ascending by default).

    >>> parse_order_by(["metrics.`val loss`.max DESC", "created"])  # doctest: +NORMALIZE_WHITESPACE
    (OrderKey(identifier=Identifier(entity='metric', key='val loss', aggregate='max'),
              ascending=False),
     OrderKey(identifier=Identifier(entity='attribute', key='start_time', aggregate='latest'),
              ascending=True))

    A single string is taken as one clause, not as a sequence of characters.

    Raises:
        InvalidFilter: when a clause does not parse or names something ``target`` cannot
            be ordered by.
    """
    if isinstance(clauses, str):
        clauses = [clauses]
    return tuple(_order_key(clause, target) for clause in clauses or ())


def _order_key(clause: str, target: Target) -> OrderKey:
    parser = _Parser(clause, target, "order_by clause")
    ident, source, pos = parser.identifier(
        "expected an identifier to order by, e.g. metrics.loss DESC"
    )
    ident = parser.order_rule(ident, source, pos)
    tok = parser.advance()
    ascending = True
    if parser.is_word(tok, "ASC", "DESC"):
        ascending = tok.text.upper() == "ASC"
        extra = parser.advance()
        if extra.kind != "eof":
            raise parser.error_at(extra, f"expected nothing after {tok.text}")
    elif tok.kind != "eof":
        raise parser.error_at(tok, f"expected ASC, DESC or nothing after {source!r}")
    return OrderKey(ident, ascending)
