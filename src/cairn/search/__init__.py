"""Search filters and ``order_by`` clauses: the AST and the parser that produces it."""

from cairn.search.ast import Aggregate, Comparison, Entity, Identifier, Operator, OrderKey, Value
from cairn.search.parser import Target, parse_filter, parse_order_by

__all__ = [
    "Aggregate",
    "Comparison",
    "Entity",
    "Identifier",
    "Operator",
    "OrderKey",
    "Target",
    "Value",
    "parse_filter",
    "parse_order_by",
]
