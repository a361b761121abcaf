"""Row filters from text (``where=`` / ``--where``, ``exclude=``) that can only filter.

A filter is a small expression language read with :mod:`ast` and an allow-list, evaluated
on the table's columns with pandas/numpy operations, never with ``eval`` or
:meth:`pandas.DataFrame.query` (whose language reaches attributes and methods, so
``n_params.to_csv("in.csv")`` would write a file).  Allowed: column names (``my col`` in
backticks, as pandas writes them), numbers, strings, ``True``/``False``, comparisons (chained
too), ``and``/``or``/``not`` (and ``&``/``|``/``~`` between conditions), ``in``/``not in``
and ``==``/``!=`` with a list or tuple of literals, arithmetic (``+ - * / // % **``) on
numbers and unary minus.  Everything else (attribute access, calls, subscripts, ``@``
variables, lambdas, comprehensions, names that are not columns) is refused with a
:class:`DataError` naming the offending part, before any row is looked at.
"""

from __future__ import annotations

import ast
import operator
from dataclasses import dataclass
from typing import Any

import numpy as np
import pandas as pd

from ..errors import DataError, argument

MAX_LENGTH = 10_000  # characters; a filter is a line, not a program
EXAMPLE = "\"n_params >= 1e8 and run != '410M'\""
LANGUAGE = (
    "column names (`a b` for names with spaces), numbers, strings, comparisons, and/or/not, "
    "in [...], arithmetic"
)
_PLACEHOLDER = "__sf_column_{}__"

_COMPARE = {
    ast.Eq: operator.eq,
    ast.NotEq: operator.ne,
    ast.Lt: operator.lt,
    ast.LtE: operator.le,
    ast.Gt: operator.gt,
    ast.GtE: operator.ge,
}
_ARITHMETIC = {
    ast.Add: operator.add,
    ast.Sub: operator.sub,
    ast.Mult: operator.mul,
    ast.Div: operator.truediv,
    ast.FloorDiv: operator.floordiv,
    ast.Mod: operator.mod,
    ast.Pow: operator.pow,
}
_LOGICAL = {ast.BitAnd: operator.and_, ast.BitOr: operator.or_}
_MEMBERSHIP = (ast.In, ast.NotIn, ast.Eq, ast.NotEq)


@dataclass(frozen=True)
class Query:
    """A checked filter: its text, its syntax tree and the columns it names."""

    text: str
    name: str  # the API argument it came from, e.g. "where"
    tree: ast.Expression
    columns: dict[str, str]  # identifier in the tree -> column name

    def refuse(self, problem: str) -> DataError:
        """A DataError naming the argument, its text, the problem and the language."""
        return DataError(
            f"{argument(self.name, self.text)} is not a valid query: {problem}; "
            f"expected a filter of {LANGUAGE}, e.g. {EXAMPLE}"
        )


def parse_query(text: Any, name: str) -> Query:
    """Check the filter ``text`` (from argument ``name``) against the allow-list.

    Parameters
    ----------
    text
        The filter, e.g. ``"n_params >= 1e8 and run != '410M'"``.
    name
        The API argument it came from (``"where"`` or ``"exclude"``), for messages.

    Returns
    -------
    Query
        The parsed filter, ready for :func:`query_mask`.

    Raises
    ------
    DataError
        When ``text`` is not a string, not an expression, or uses anything outside the
        language (the message names the part).
    """
    if not isinstance(text, str):
        raise DataError(f"{argument(name)} must be a query string; found {type(text).__name__}")
    blank = Query(text, name, ast.Expression(body=ast.Constant(True)), {})
    if len(text) > MAX_LENGTH:
        raise blank.refuse(f"it has {len(text)} characters, more than {MAX_LENGTH}")
    source, columns = _replace_backticks(text, blank)
    try:
        tree = ast.parse(source.strip(), mode="eval")
    except (SyntaxError, ValueError, RecursionError, MemoryError) as exc:
        detail = exc.msg if isinstance(exc, SyntaxError) else type(exc).__name__
        raise blank.refuse(f"it is not an expression ({detail})") from None
    query = Query(text, name, tree, columns)
    for node in ast.walk(tree.body):
        _check_node(node, query, source)
    return query


def query_mask(table: pd.DataFrame, query: Query | str, name: str = "where") -> np.ndarray:
    """The boolean mask of the rows of ``table`` that ``query`` selects.

    Parameters
    ----------
    table
        The rows; names in the query must be its columns.
    query
        A :class:`Query` from :func:`parse_query`, or its text (parsed here).
    name
        The API argument the text came from, when ``query`` is text.

    Returns
    -------
    numpy.ndarray
        One bool per row; a missing value compares as False.

    Raises
    ------
    DataError
        For a name that is not a column, an operation the values do not support (text in
        arithmetic, text compared with a number) or a result that is not true/false.
    """
    if isinstance(query, str):
        query = parse_query(query, name)
    unknown = sorted(_names(query) - set(map(str, table.columns)))
    if unknown:
        raise DataError(
            f"{argument(query.name, query.text)} is not a valid query on columns "
            f"{list(table.columns)}: {unknown[0]!r} is not a column; expected one of those "
            "names (write a name with spaces or symbols in backticks, e.g. `my col`)"
        )
    try:
        value = _Evaluator(table, query).value(query.tree.body)
    except DataError:
        raise
    except OverflowError:
        raise query.refuse("a number in it overflows a float") from None
    except (TypeError, ValueError, ArithmeticError, RecursionError) as exc:
        raise query.refuse(f"it cannot be evaluated on these rows ({exc})") from None
    return _as_mask(value, len(table), query)


def _names(query: Query) -> set[str]:
    """The column names a query reads."""
    names = (node.id for node in ast.walk(query.tree) if isinstance(node, ast.Name))
    return {query.columns.get(name, name) for name in names}


def _replace_backticks(text: str, blank: Query) -> tuple[str, dict[str, str]]:
    """``text`` with each ```name``` outside strings replaced by an identifier; refuses ``@``."""
    out, columns, i, quote = [], {}, 0, ""
    while i < len(text):
        char = text[i]
        if quote:
            if char == "\\":
                out.append(text[i : i + 2])
                i += 2
                continue
            quote = "" if char == quote else quote
        elif char in "'\"":
            quote = char
        elif char == "@":
            raise blank.refuse(f"'@' (a Python variable) at character {i + 1} is not allowed")
        elif char == "`":
            end = text.find("`", i + 1)
            if end < 0:
                raise blank.refuse(f"the backtick at character {i + 1} is not closed")
            identifier = _PLACEHOLDER.format(len(columns))
            columns[identifier] = text[i + 1 : end]
            out.append(identifier)
            i = end + 1
            continue
        out.append(char)
        i += 1
    return "".join(out), columns


def _check_node(node: ast.AST, query: Query, source: str) -> None:
    """Refuse ``node`` unless the language allows it where it stands."""
    allowed = (
        ast.BoolOp, ast.And, ast.Or, ast.UnaryOp, ast.Not, ast.USub, ast.UAdd, ast.Invert,
        ast.BinOp, ast.Compare, ast.Name, ast.Load, ast.Constant, ast.List, ast.Tuple,
        *_COMPARE, ast.In, ast.NotIn, *_ARITHMETIC, *_LOGICAL,
    )  # fmt: skip
    if not isinstance(node, allowed):
        raise query.refuse(f"{_describe(node)} {_segment(node, query, source)} is not allowed")
    if isinstance(node, ast.Constant) and not isinstance(node.value, (bool, int, float, str)):
        raise query.refuse(f"the constant {_segment(node, query, source)} is not allowed")
    if isinstance(node, ast.Compare):
        for op, right in zip(node.ops, node.comparators, strict=True):
            if isinstance(right, (ast.List, ast.Tuple)) and not isinstance(op, _MEMBERSHIP):
                raise query.refuse(f"a list may follow only in, not in, == or != (found {op!r})")
        if any(isinstance(item, (ast.List, ast.Tuple)) for item in node.comparators[:-1]):
            raise query.refuse("a list may only end a comparison")
        if isinstance(node.left, (ast.List, ast.Tuple)):
            raise query.refuse(f"a list {_segment(node.left, query, source)} must be on the right")
    if isinstance(node, (ast.List, ast.Tuple)):
        for item in node.elts:
            if not _is_literal(item):
                part = _segment(item, query, source)
                raise query.refuse(f"a list may hold only numbers and strings; found {part}")


def _is_literal(node: ast.AST) -> bool:
    """A number or string, or a signed number."""
    if isinstance(node, ast.UnaryOp) and isinstance(node.op, (ast.USub, ast.UAdd)):
        node = node.operand
    return isinstance(node, ast.Constant) and isinstance(node.value, (int, float, str))


def _describe(node: ast.AST) -> str:
    """What a refused node is, in words."""
    words = {
        ast.Attribute: "attribute access",
        ast.Call: "a call",
        ast.Subscript: "a subscript",
        ast.Lambda: "a lambda",
        ast.IfExp: "an if-expression",
        ast.NamedExpr: "an assignment",
        ast.MatMult: "the operator @",
    }
    for kind, text in words.items():
        if isinstance(node, kind):
            return text
    return f"the {type(node).__name__} syntax"


def _segment(node: ast.AST, query: Query, source: str) -> str:
    """The text of ``node`` as the user wrote it (backticked names restored)."""
    text = ast.get_source_segment(source.strip(), node) or type(node).__name__
    for identifier, column in query.columns.items():
        text = text.replace(identifier, f"`{column}`")
    return repr(text)


class _Evaluator:
    """Evaluates a checked tree on a table's columns (Series) and Python scalars."""

    def __init__(self, table: pd.DataFrame, query: Query) -> None:
        self.table, self.query = table, query

    def value(self, node: ast.AST) -> Any:
        """The value of ``node``: a Series, or a scalar."""
        if isinstance(node, ast.Constant):
            value = node.value
            return float(value) if isinstance(value, int) and not isinstance(value, bool) else value
        if isinstance(node, ast.Name):
            return self.table[self.query.columns.get(node.id, node.id)]
        if isinstance(node, ast.BoolOp):
            combine = operator.and_ if isinstance(node.op, ast.And) else operator.or_
            values = [self.condition(item) for item in node.values]
            result = values[0]
            for item in values[1:]:
                result = combine(result, item)
            return result
        if isinstance(node, ast.UnaryOp):
            return self.unary(node)
        if isinstance(node, ast.BinOp):
            return self.binary(node)
        if isinstance(node, ast.Compare):
            return self.compare(node)
        raise self.query.refuse(f"{_describe(node)} is not allowed")  # checked already

    def condition(self, node: ast.AST) -> Any:
        """The value of ``node``, which must be true/false per row."""
        value = self.value(node)
        if isinstance(value, (bool, np.bool_)):
            return bool(value)
        if isinstance(value, pd.Series) and pd.api.types.is_bool_dtype(value.dtype):
            return value.fillna(False).astype(bool)
        raise self.query.refuse(
            "and/or/not/&/|/~ join conditions (comparisons); found a number or text "
            "(with & and |, put each comparison in parentheses)"
        )

    def unary(self, node: ast.UnaryOp) -> Any:
        """``not``/``~`` of a condition, ``-``/``+`` of a number."""
        if isinstance(node.op, (ast.Not, ast.Invert)):
            value = self.condition(node.operand)
            return (not value) if isinstance(value, bool) else ~value
        value = self.number(node.operand)
        return -value if isinstance(node.op, ast.USub) else +value

    def binary(self, node: ast.BinOp) -> Any:
        """Arithmetic on numbers, ``&``/``|`` on conditions."""
        if type(node.op) in _LOGICAL:
            left, right = self.condition(node.left), self.condition(node.right)
            return _LOGICAL[type(node.op)](left, right)
        left, right = self.number(node.left), self.number(node.right)
        with np.errstate(all="ignore"):
            return _ARITHMETIC[type(node.op)](left, right)

    def number(self, node: ast.AST) -> Any:
        """The value of ``node``, which must be numeric (no text arithmetic)."""
        value = self.value(node)
        numeric = (
            pd.api.types.is_numeric_dtype(value.dtype)
            if isinstance(value, pd.Series)
            else isinstance(value, (int, float))
        )
        if not numeric or pd.api.types.is_bool_dtype(getattr(value, "dtype", None)):
            raise self.query.refuse("arithmetic needs numbers; found text or a condition")
        return value

    def compare(self, node: ast.Compare) -> Any:
        """A (chained) comparison; ``in``/``==`` with a list is membership."""
        result, left = None, self.value(node.left)
        for op, right_node in zip(node.ops, node.comparators, strict=True):
            if isinstance(right_node, (ast.List, ast.Tuple)):
                items = [ast.literal_eval(item) for item in right_node.elts]
                step = self.member(left, items, isinstance(op, (ast.NotIn, ast.NotEq)))
                right = None
            elif isinstance(op, (ast.In, ast.NotIn)):
                raise self.query.refuse("in / not in need a list or tuple of values on the right")
            else:
                right = self.value(right_node)
                step = _COMPARE[type(op)](left, right)
            result = step if result is None else result & step
            left = right
        return result

    def member(self, left: Any, items: list[Any], negate: bool) -> Any:
        """Whether ``left`` is one of ``items`` (numbers compare as floats)."""
        if isinstance(left, pd.Series):
            found = left.isin(items)
        else:
            found = left in items
        return ~found if negate and isinstance(found, pd.Series) else (found != negate)


def _as_mask(value: Any, rows: int, query: Query) -> np.ndarray:
    """``value`` as one bool per row; refuses numbers and text."""
    if isinstance(value, (bool, np.bool_)):
        return np.full(rows, bool(value))
    if isinstance(value, pd.Series) and pd.api.types.is_bool_dtype(value.dtype):
        return value.fillna(False).to_numpy(dtype=bool)
    raise query.refuse("it gives a number or text per row, not true/false (add a comparison)")
