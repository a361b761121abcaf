"""What a formula of :meth:`Law.from_formula <scaling_fit.laws.base.Law.from_formula>` may
contain, checked on its parsed tree before anything runs, and which of its parameters are linear.

Only arithmetic is accepted: numbers, names, ``+ - * / **``, unary minus and calls of the
functions in ``FUNCTIONS``; anything else raises :class:`~scaling_fit.errors.DataError` naming
the construct. See :mod:`scaling_fit.laws.formula` for the rules on names and defaults.
"""

from __future__ import annotations

import ast
from collections.abc import Mapping

from ..errors import DataError
from ..inputs.columns import NUMERIC

# Columns a formula's input may not name: run names are text, the loss is its output.
NOT_INPUTS = ("run", "loss")

# Element-wise numpy functions a formula may call (all provided by asteval's symbol table).
FUNCTIONS = (
    "exp",
    "expm1",
    "log",
    "log1p",
    "log2",
    "log10",
    "sqrt",
    "abs",
    "sign",
    "tanh",
    "sinh",
    "cosh",
    "arctan",
    "sin",
    "cos",
    "minimum",
    "maximum",
    "logaddexp",
)
_OPERATORS = (ast.Add, ast.Sub, ast.Mult, ast.Div, ast.Pow, ast.USub, ast.UAdd)
_NODE_NAMES = {
    ast.Attribute: "attribute access",
    ast.Subscript: "a subscript",
    ast.Lambda: "a lambda",
    ast.Compare: "a comparison",
    ast.BoolOp: "and/or",
    ast.IfExp: "an if-else",
    ast.Import: "import",
    ast.ImportFrom: "import",
    ast.Assign: "an assignment",
    ast.NamedExpr: "an assignment",
}


def check_inputs(text: str, inputs: Mapping[str, str]) -> tuple[str, ...]:
    """The input symbols of ``inputs``, canonical columns first in the runs table's order,
    then the others as given; DataError if a symbol is not a plain name, a column is ``run``
    or ``loss`` (not an input of a loss formula) or used twice. Whether the runs hold the
    other columns is checked when a fit reads them."""
    if not isinstance(inputs, Mapping) or not inputs:
        raise DataError(
            f"formula {text!r} needs inputs={{symbol: column}}, e.g. "
            "{'N': 'n_params', 'D': 'tokens'}"
        )
    canonical = [c for c in NUMERIC if c != "loss"]
    unknown = {s: c for s, c in inputs.items() if not _column_name(c)}
    if unknown:
        raise DataError(
            f"inputs {unknown} name unknown columns; expected names of numeric columns of the "
            f"runs table other than {list(NOT_INPUTS)}: {canonical} or any other column your "
            "runs hold (e.g. 'unique_tokens')"
        )
    bad = [s for s in inputs if not str(s).isidentifier() or s in FUNCTIONS]
    if bad:
        raise DataError(
            f"input symbols {bad} are not plain names (or are function names); use "
            "identifiers such as N and D that are not in FUNCTIONS"
        )
    if len(set(inputs.values())) < len(inputs):
        raise DataError(f"inputs {dict(inputs)} map two symbols to one column; use one symbol")
    # Canonical columns in the table's order, so an L(N, D) formula has inputs (n_params,
    # tokens) whatever order the mapping lists them in (compute_optimal relies on it); other
    # columns follow in the order given.
    order = {c: i for i, c in enumerate(canonical)}
    return tuple(sorted(inputs, key=lambda s: order.get(inputs[s], len(order))))


def _column_name(column: object) -> bool:
    """Whether ``column`` may be an input: a non-blank name other than ``run`` and ``loss``."""
    return isinstance(column, str) and bool(column.strip()) and column not in NOT_INPUTS


def check_tree(text: str, tree: ast.AST, symbols: tuple[str, ...]) -> tuple[list[str], set]:
    """Names in order of appearance and the names used in exponents; DataError if unsafe."""
    body = getattr(tree, "body", [])
    if len(body) != 1 or not isinstance(body[0], ast.Expr):
        _refuse(text, "a statement", "write one expression, not statements or assignments")
    nodes = list(ast.walk(body[0].value))  # outermost first: the message names the construct
    for node in nodes:
        _check_node(text, node)
    functions = [n.func for n in nodes if isinstance(n, ast.Call)]
    called = {f.id for f in functions}
    values = [n for n in nodes if isinstance(n, ast.Name) and all(n is not f for f in functions)]
    values.sort(key=lambda n: (n.lineno, n.col_offset))
    names = list(dict.fromkeys(n.id for n in values))
    exponents: set[str] = set()
    for node in nodes:
        if isinstance(node, ast.BinOp) and isinstance(node.op, ast.Pow):
            exponents |= {n.id for n in ast.walk(node.right) if isinstance(n, ast.Name)}
    clash = sorted(called & set(names))
    if clash:
        _refuse(text, f"using {clash} both as functions and as values", "rename the values")
    missing = [s for s in symbols if s not in names]
    if missing:
        raise DataError(
            f"input symbols {missing} do not appear in formula {text!r}; the formula uses "
            f"names {names}: fix the spelling or drop them from inputs="
        )
    return names, exponents


def _check_node(text: str, node: ast.AST) -> None:
    how = f"a formula is arithmetic (+ - * / **) of numbers, names and {', '.join(FUNCTIONS)}"
    if isinstance(node, ast.Call):
        if not isinstance(node.func, ast.Name) or node.func.id not in FUNCTIONS:
            called = node.func.id if isinstance(node.func, ast.Name) else ast.unparse(node.func)
            _refuse(text, f"function {called!r}", how)
        if node.keywords or any(isinstance(a, ast.Starred) for a in node.args):
            _refuse(text, "keyword or starred arguments", how)
    elif isinstance(node, ast.Name):
        if node.id.startswith("_"):
            _refuse(text, f"name {node.id!r} (names may not start with '_')", how)
    elif isinstance(node, ast.Constant):
        if isinstance(node.value, bool) or not isinstance(node.value, (int, float)):
            _refuse(text, f"constant {node.value!r}", how)
    elif not isinstance(node, (ast.BinOp, ast.UnaryOp, ast.Load, *_OPERATORS)):
        _refuse(text, _NODE_NAMES.get(type(node), type(node).__name__), how)


def _refuse(text: str, what: str, how: str) -> None:
    raise DataError(f"formula {text!r}: {what} is not allowed; {how}")


def linear_params(tree: ast.AST, params: list[str]) -> tuple[str, ...]:
    """Parameters the formula is jointly linear in: one scale factor per additive term, each
    appearing once in the formula; () when the formula is not of that form."""
    counts = {p: 0 for p in params}
    for node in ast.walk(tree):
        if isinstance(node, ast.Name) and node.id in counts:
            counts[node.id] += 1
    linear = []
    for term in _terms(tree.body[0].value):
        factors = [f for f in _factors(term) if counts.get(f, 0) == 1]
        if len(factors) != 1 or factors[0] in linear:
            return ()
        linear.append(factors[0])
    return tuple(linear)


def _terms(node: ast.AST) -> list[ast.AST]:
    if isinstance(node, ast.BinOp) and isinstance(node.op, (ast.Add, ast.Sub)):
        return _terms(node.left) + _terms(node.right)
    if isinstance(node, ast.UnaryOp):
        return _terms(node.operand)
    return [node]


def _factors(node: ast.AST) -> list[str]:
    """Names that multiply a term (not in a divisor, exponent or function)."""
    if isinstance(node, ast.Name):
        return [node.id]
    if isinstance(node, ast.BinOp) and isinstance(node.op, ast.Mult):
        return _factors(node.left) + _factors(node.right)
    if isinstance(node, ast.BinOp) and isinstance(node.op, ast.Div):
        return _factors(node.left)
    if isinstance(node, ast.UnaryOp):
        return _factors(node.operand)
    return []
