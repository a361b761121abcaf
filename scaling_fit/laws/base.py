"""The :class:`Law` and :class:`Parameter` records every scaling law is made of.

A law is data: a pure, vectorised formula plus the facts a fitter needs about it (its
inputs, its parameters with their bounds and start grid) and the paper it comes from.
Formulas take the inputs positionally and the parameters as keyword arguments, in natural
units, and must broadcast: the fitter calls them with inputs of shape ``(n_points,)`` and
parameters of shape ``(n_starts, 1)`` to score a whole start grid in one pass.
"""

from __future__ import annotations

import inspect
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

import numpy as np

from ..inputs.columns import CANONICAL
from .parameter import Parameter

if TYPE_CHECKING:
    import pandas as pd

Array = np.ndarray

# Sums of exponentials inside this range are exact to rounding when formed directly; outside
# it (overflow, underflow to 0 or to subnormals, NaN) log_sum_exp falls back to logaddexp.
SAFE_SUM = (1e-300, 1e300)


def log_sum_exp(*terms: Array) -> Array:
    r"""Stable :math:`\log\sum_i e^{t_i}` of broadcasting arrays, element-wise.

    Forms :math:`\log\sum e^{t_i}` directly (vectorised ``exp``/``log``, several times faster
    than chained :func:`numpy.logaddexp`) and recomputes with ``logaddexp`` only the elements
    whose sum leaves ``SAFE_SUM`` (e.g. a term above 690 or all terms below -690), so it is as
    accurate as ``logaddexp`` everywhere.
    """
    with np.errstate(all="ignore"):
        total = np.exp(terms[0])
        for term in terms[1:]:
            total = total + np.exp(term)
        result = np.log(total)
        # Two reductions settle the common case, every sum inside SAFE_SUM (a NaN fails both
        # comparisons), in fewer passes over the elements than the mask of unsafe ones.
        if total.size and not (total.min() > SAFE_SUM[0] and total.max() < SAFE_SUM[1]):
            unsafe = ~((total > SAFE_SUM[0]) & (total < SAFE_SUM[1]))
            parts = np.broadcast_arrays(*terms)
            exact = parts[0][unsafe]
            for part in parts[1:]:
                exact = np.logaddexp(exact, part[unsafe])
            result = np.where(unsafe, 0.0, result)
            result[unsafe] = exact
    return result


@dataclass(frozen=True)
class Law:
    """A scaling law: a formula, its inputs and parameters, and where it comes from.

    Parameters
    ----------
    name
        Registry name (``"chinchilla"``).
    formula
        ``formula(*inputs, **params) -> predicted output`` (the loss unless ``output`` says
        otherwise), vectorised and broadcasting.
    inputs
        Columns of the runs table the formula takes, in order: canonical ones
        (``("n_params", "tokens")``) or any other column the table holds
        (``("n_params", "tokens", "unique_tokens")``; :func:`scaling_fit.load_runs` keeps
        every column it does not rename). A fit reads them as numbers and refuses a missing
        column or a value that is not a finite number, naming the column and the row.
    parameters
        The parameters, in display order.
    reference
        The paper (authors, year, arXiv id) the form comes from.
    description
        One line: the formula and its conventions.
    log_formula
        Optional numerically stable ``log`` of the formula (same signature). When absent the
        fitter uses ``log(formula(...))`` and treats non-positive predictions as misfits.
    allocation
        Optional closed form ``allocation(compute, **params) -> (n_params, tokens)`` of the
        loss-minimising split of a budget ``compute = 6 N D``.
    conventions
        How the law's inputs and loss are counted (e.g. total or non-embedding N).
    linear
        Parameters the formula is linear in (with the others fixed), e.g. Chinchilla's
        ``("E", "A", "B")``; the fitter then solves them exactly on a dense grid of the
        others (variable projection) to find starts in the global basin.
    linear_terms
        Optional, for each parameter in ``linear``: the non-linear parameters its term
        depends on, e.g. Chinchilla's ``{"E": (), "A": ("alpha",), "B": ("beta",)}`` (the
        term of A is A/N^alpha). The variable projection then evaluates each term once per
        value of those parameters instead of at every point of the dense grid (41 values of
        alpha instead of 41 x 41 (alpha, beta) pairs), with identical results. Without it
        every term is evaluated on the whole grid.
    initial_guess
        Optional data-driven starts: ``initial_guess(inputs, observed) -> list of dicts`` of
        natural-unit parameter values (e.g. a staged fitting procedure from the law's paper).
        The fitter refines every one of them in addition to the best grid starts.
    published
        The paper's fitted coefficients (natural units), for predictions without a fit and
        for tests; say in ``reference`` where they come from.
    features
        Optional builder of the formula's inputs for loss-curve laws:
        ``features(points, lr_by_run) -> tuple of arrays`` with the points on axis 0 (2-D
        arrays allowed, e.g. padded per-point terms), from the points table (``run``,
        ``step``, ``loss``, …) and each run's per-step LR array (``lr[t]`` is the LR of the
        row at ``step`` t). ``inputs`` then names the table columns it needs (``("step",)``)
        and :func:`scaling_fit.fit` takes ``schedules=``.
    log_gradient
        Optional analytic gradient of ``log_formula`` (same signature): a dict mapping every
        parameter name to the derivative of log L with respect to its *fit-space* value
        (the log of the value for ``log`` parameters), each of the
        shape of ``log_formula``'s result. The fitter's trust-region solver then uses it
        instead of central differences (one evaluation per Jacobian instead of
        2 × parameters, and no truncation error).
    stacked_gradient
        For a loss-curve law with a ``log_gradient``: True when that gradient broadcasts
        over columns of parameter values (shape ``(k, 1)``) as every final-loss law's must;
        its bootstrap, global search and forecast refits are then batched
        (:mod:`scaling_fit.fitting.batched`).  False (default): one vector at a time.
    output
        The canonical column the formula predicts and :func:`scaling_fit.fit` fits:
        ``"loss"`` for loss laws; ``"lr"`` (peak learning rate) or ``"batch_size"`` (tokens
        per step) for the hyperparameter laws of :mod:`scaling_fit.laws.steplaw` and others.
    """

    name: str
    formula: Callable[..., Array]
    inputs: tuple[str, ...]
    parameters: tuple[Parameter, ...]
    reference: str
    description: str = ""
    log_formula: Callable[..., Array] | None = None
    allocation: Callable[..., tuple[Array, Array]] | None = None
    conventions: Mapping[str, str] = field(default_factory=dict)
    linear: tuple[str, ...] = ()
    linear_terms: Mapping[str, tuple[str, ...]] = field(default_factory=dict)
    initial_guess: Callable[[tuple[Array, ...], Array], list[dict[str, float]]] | None = None
    published: Mapping[str, float] = field(default_factory=dict)
    features: Callable[[pd.DataFrame, Mapping[str, Array]], tuple[Array, ...]] | None = None
    log_gradient: Callable[..., dict[str, Array]] | None = None
    output: str = "loss"
    stacked_gradient: bool = False

    def __post_init__(self) -> None:
        _check_inputs(self)
        if self.output not in CANONICAL or self.output in self.inputs:
            raise ValueError(
                f"law {self.name!r}: output {self.output!r} must be a column of the runs table "
                f"other than its inputs {list(self.inputs)}; expected one of {list(CANONICAL)}"
            )
        self._check_linear_terms()
        for role in ("formula", "log_formula", "log_gradient"):
            function = getattr(self, role)
            if function is not None:
                _check_signature(self, role, function)

    def _check_linear_terms(self) -> None:
        """ValueError unless ``linear_terms`` maps every linear parameter (or none) to
        non-linear parameters of the law."""
        if not self.linear_terms:
            return
        names = set(self.param_names)
        nonlinear = names - set(self.linear)
        wrong = {k: v for k, v in self.linear_terms.items() if not set(v) <= nonlinear}
        if set(self.linear_terms) != set(self.linear) or wrong:
            raise ValueError(
                f"law {self.name!r}: linear_terms must map each linear parameter "
                f"{list(self.linear)} to the non-linear parameters its term depends on "
                f"(from {sorted(nonlinear)}); found {dict(self.linear_terms)}"
            )

    @classmethod
    def from_formula(cls, expression: str, inputs: Mapping[str, str], **options: Any) -> Law:
        """A law from a formula string such as ``"E + A/N**alpha + B/D**beta"``, parsed and
        evaluated safely by asteval; see :func:`scaling_fit.laws.formula.formula_fields`.

        Examples
        --------
        >>> law = Law.from_formula(
        ...     "E + A/N**alpha + B/D**beta", inputs={"N": "n_params", "D": "tokens"}
        ... )
        >>> law.param_names
        ('E', 'A', 'alpha', 'B', 'beta')
        """
        from .formula import formula_fields

        return cls(**formula_fields(expression, inputs, **options))

    @property
    def fits_curves(self) -> bool:
        """True for a loss-curve law: its inputs are built per point from each run's LR
        schedule by :attr:`features`, so a fit takes ``schedules=`` or an ``lr`` column."""
        return self.features is not None

    @property
    def default_points(self) -> str:
        """The points a fit uses by default: ``"after_warmup"`` (every logged point after
        each run's warm-up) for curve laws, ``"final"`` (each run's last point) otherwise."""
        return "after_warmup" if self.fits_curves else "final"

    @property
    def param_names(self) -> tuple[str, ...]:
        """Parameter names in display order."""
        return tuple(p.name for p in self.parameters)

    def parameter(self, name: str) -> Parameter:
        """Return the parameter called ``name``."""
        for p in self.parameters:
            if p.name == name:
                return p
        raise KeyError(f"law {self.name!r} has no parameter {name!r}; it has {self.param_names}")

    def predict(self, *inputs: Array, **params: float | Array) -> Array:
        """Predicted output (the loss for loss laws) for the inputs and natural parameters.

        Parameters
        ----------
        *inputs
            One array per entry of :attr:`inputs`, in that order (broadcast together).
        **params
            Every parameter by name, in natural units.

        Returns
        -------
        numpy.ndarray
            The law's formula evaluated, as floats.
        """
        return np.asarray(self.formula(*inputs, **params), dtype=float)

    def log_predict(self, *inputs: Array, **params: float | Array) -> Array:
        """Logarithm of the predicted output; NaN where the prediction is not positive.

        Parameters
        ----------
        *inputs, **params
            As for :meth:`predict`.

        Returns
        -------
        numpy.ndarray
            ``log_formula`` when the law has one (finite where the loss under- or overflows),
            else the log of :meth:`predict`.
        """
        if self.log_formula is not None:
            return np.asarray(self.log_formula(*inputs, **params), dtype=float)
        value = self.predict(*inputs, **params)
        with np.errstate(divide="ignore", invalid="ignore"):
            return np.where(value > 0, np.log(np.where(value > 0, value, 1.0)), np.nan)


def _check_inputs(law: Law) -> None:
    """ValueError unless the law's inputs are distinct column names other than ``run``."""
    inputs = law.inputs
    named = isinstance(inputs, tuple | list) and all(
        isinstance(c, str) and c.strip() and c != "run" for c in inputs
    )
    if not named or len(set(inputs)) < len(inputs):
        raise ValueError(
            f"law {law.name!r}: inputs must be distinct names of numeric columns of the runs "
            f"table (not 'run'), e.g. ('n_params', 'tokens', 'unique_tokens'); found {inputs!r}"
        )


def _check_signature(law: Law, role: str, function: Callable[..., object]) -> None:
    """Raise ValueError unless ``function`` takes the law's inputs positionally and exactly
    its parameters as keywords (a ``**kwargs`` formula accepts any parameters)."""
    try:
        signature = inspect.signature(function)
    except (TypeError, ValueError):  # builtins and some C callables: nothing to check
        return
    kinds = inspect.Parameter
    items = list(signature.parameters.values())
    positional = [
        p for p in items if p.kind in (kinds.POSITIONAL_ONLY, kinds.POSITIONAL_OR_KEYWORD)
    ]
    takes_varargs = any(p.kind == kinds.VAR_POSITIONAL for p in items)
    n_inputs = len(law.inputs) if law.features is None else None
    if n_inputs is not None and len(positional) < n_inputs and not takes_varargs:
        raise ValueError(
            f"law {law.name!r}: {role} takes {len(positional)} positional inputs, but the law "
            f"has {len(law.inputs)} inputs {list(law.inputs)}"
        )
    if any(p.kind == kinds.VAR_KEYWORD for p in items):
        return
    skip = len(positional) if n_inputs is None else n_inputs
    keywords = [p.name for p in positional[skip:]] + [
        p.name for p in items if p.kind == kinds.KEYWORD_ONLY
    ]
    missing = [n for n in law.param_names if n not in keywords]
    extra = [
        n
        for n in keywords
        if n not in law.param_names and signature.parameters[n].default is inspect.Parameter.empty
    ]
    if missing or extra:
        raise ValueError(
            f"law {law.name!r}: {role}'s keyword arguments {keywords} differ from its "
            f"parameters {list(law.param_names)}: missing {missing}, extra {extra}. Make the "
            "formula take every parameter as a keyword argument and nothing else"
        )
