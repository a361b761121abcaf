"""Gauss rules of discrete measures from their moments, batched over panels.

:mod:`scaling_fit.schedules.history` sums a smooth run of LR changes over a panel of steps
with an ORDER-node Gauss rule of the discrete measure Σ_k |Δ_k|·δ_k.  The rule comes from the
measure's moments μ_j = Σ_k |Δ_k|·u_k^j (u ∈ [−1, 1] local to the panel): the Cholesky factor
of their Hankel matrix gives the three-term recurrence of the orthogonal polynomials (Golub &
Welsch 1969), whose roots are the nodes.  A parent panel's moments follow from its two
children's by a change of variable (:func:`merge_moments`), so a tree of panels costs one
pass over the steps.
"""

from __future__ import annotations

import functools
import math

import numpy as np

Array = np.ndarray

ORDER = 4  # Gauss nodes per panel
NEWTON_STEPS = 4  # per root, from the Gauss–Legendre nodes; eigenvalues where it fails
_LEGENDRE = np.polynomial.legendre.leggauss(ORDER)[0]  # Newton's starting nodes


def merge_moments(child: Array, child_width: int) -> Array:
    """Moments of parent panels from their two children (shift and halve the variable).

    ``child`` holds the moments of consecutive child panels of ``child_width`` steps each,
    in pairs (left, right); the parent's variable is u ∈ [−1, 1] over both.
    """
    left, right = _transfer(child_width)
    return child[0::2] @ left + child[1::2] @ right


@functools.lru_cache(maxsize=64)
def _transfer(w_child: int) -> tuple[Array, Array]:
    """Matrices taking a child's moments to its parent's, for the left and right child.

    With u_parent = a·u_child + b: μ_j = Σ_i C(j, i)·a^i·b^(j−i)·μ_i.
    """
    h_parent = (2 * w_child - 1) / 2
    a = (w_child - 1) / 2 / h_parent
    j = np.arange(2 * ORDER + 1)
    out = []
    for shift in (-w_child / 2, w_child / 2):
        b = shift / h_parent
        m = np.zeros((j.size, j.size))
        for jj in j:
            for ii in range(jj + 1):
                m[ii, jj] = math.comb(jj, ii) * a**ii * b ** (jj - ii)
        m.setflags(write=False)
        out.append(m)
    return out[0], out[1]


def gauss_rules(moments: Array) -> tuple[Array, Array]:
    """ORDER-node Gauss rules of discrete measures from their moments (in u ∈ [−1, 1]).

    The Cholesky factor of the Hankel moment matrix gives the three-term recurrence
    (α_j, β_j) of the orthogonal polynomials (Golub & Welsch 1969).  Nodes: the roots of the
    degree-ORDER one, by Newton from the Gauss–Legendre nodes (eigenvalues of the Jacobi
    matrix where that fails); weights μ₀ / Σ_j p̂_j(x)² (Christoffel).  Batched over panels.
    """
    m = ORDER
    idx = np.arange(m + 1)
    r = np.linalg.cholesky(moments[:, idx[:, None] + idx[None, :]])  # H = R Rᵀ, R lower
    d = np.diagonal(r, axis1=1, axis2=2)
    ratio = r[:, idx[1:], idx[:-1]] / d[:, :m]
    alpha = ratio.copy()
    alpha[:, 1:] -= ratio[:, :-1]
    beta = d[:, 1:m] / d[:, : m - 1]
    coef = _monic_coefficients(alpha, beta)
    x = np.broadcast_to(_LEGENDRE, alpha.shape).copy()
    for _ in range(NEWTON_STEPS):
        value, slope = _horner(coef, x)
        x -= value / slope
    value, slope = _horner(coef, x)
    bad = ~np.all(np.abs(value / slope) < 1e-10, axis=1)
    bad |= ~np.all(np.diff(x, axis=1) > 1e-9, axis=1)
    if bad.any():
        x[bad] = np.linalg.eigvalsh(_jacobi(alpha[bad], beta[bad]))
    prev, norm, total = np.zeros_like(x), np.ones_like(x), np.ones_like(x)
    for j in range(m - 1):  # orthonormal p̂_{j+1} from the recurrence
        back = beta[:, j - 1 : j] * prev if j else 0.0
        prev, norm = norm, ((x - alpha[:, j : j + 1]) * norm - back) / beta[:, j : j + 1]
        total += norm**2
    return x, moments[:, :1] / total


def _monic_coefficients(alpha: Array, beta: Array) -> Array:
    """Coefficients (highest power first) of the monic orthogonal polynomial p_ORDER, from
    the recurrence p_{j+1} = (x − α_j) p_j − β_{j−1}² p_{j−1}; shape (panels, ORDER + 1)."""
    n = alpha.shape[0]
    prev, p = np.zeros((n, ORDER + 1)), np.zeros((n, ORDER + 1))
    p[:, -1] = 1.0  # p_0 = 1, coefficients right-aligned (highest power first)
    for j in range(ORDER):
        new = np.zeros_like(p)
        new[:, :-1] = p[:, 1:]  # x·p_j
        new -= alpha[:, j : j + 1] * p
        if j:
            new -= beta[:, j - 1 : j] ** 2 * prev
        prev, p = p, new
    return p


def _horner(coef: Array, x: Array) -> tuple[Array, Array]:
    """Value and derivative at x (panels, k) of the polynomials ``coef`` (panels, deg + 1)."""
    value, slope = np.broadcast_to(coef[:, :1], x.shape).copy(), np.zeros_like(x)
    for i in range(1, coef.shape[1]):
        slope = slope * x + value
        value = value * x + coef[:, i : i + 1]
    return value, slope


def _jacobi(alpha: Array, beta: Array) -> Array:
    i = np.arange(alpha.shape[1])
    jacobi = np.zeros((*alpha.shape, alpha.shape[1]))
    jacobi[:, i, i], jacobi[:, i[:-1], i[1:]], jacobi[:, i[1:], i[:-1]] = alpha, beta, beta
    return jacobi
