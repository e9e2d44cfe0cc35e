"""Derivative-free optimization: guess-and-check versus certainty equivalence (chapter ``ch-dfo``).

The task is to minimize an expected loss :math:`f(x) = \\mathbb E_\\xi F(x; \\xi)` over
:math:`x \\in \\mathbb R^d`. Every sample draws a fresh :math:`\\xi`, and the two camps see
different things of it:

* **guess and check** (the RL view): the learner proposes :math:`x` and is told only the number
  :math:`F(x; \\xi)` -- a noisy value of :math:`f`, like the return of one rollout;
* **certainty equivalence with a known model**: the learner knows the form of :math:`F` and sees
  :math:`\\xi` itself (a data point, a target), fits the unknown parameters and optimizes the
  fitted objective as if it were true.

Methods, all charged one sample per draw of :math:`\\xi`:

* :func:`reinforce` -- policy gradient on a Gaussian search distribution (REINFORCE with a baseline);
* :func:`random_search` -- antithetic random search, ARS V1-t of Mania, Guy & Recht (2018);
* :func:`local_model` -- certainty equivalence *from values only*: fit a linear model of :math:`f`
  around the current point by least squares and step on it;
* :func:`model_based` -- certainty equivalence with the model known: estimate, then optimize.

Runs are batched: every runner advances ``n_runs`` independent runs at once (numpy arrays of shape
``(n_runs, d)``), and returns a :class:`Trace` with the *exact* suboptimality
:math:`f(x_t) - f^\\star` of every run at checkpoints (the learners never see it).
"""

from __future__ import annotations

from dataclasses import dataclass, replace
from typing import Callable, NamedTuple

import numpy as np

from .experiments import (Seed, HOLD, as_float_array, as_rng, check_finite_array,
                          check_positive_int, check_real)


def _freeze(obj, field: str, arr: np.ndarray) -> None:
    """Store a read-only copy of ``arr`` in the frozen dataclass ``obj``."""
    arr = np.array(arr, dtype=float)
    arr.setflags(write=False)
    object.__setattr__(obj, field, arr)

__all__ = [
    "METHODS", "SWEEP_METHODS", "CMA_DIMS", "AVERAGING_ETA", "cma_es", "PROBLEMS", "StochasticLogistic",
    "StochasticQuadratic", "Trace", "antithetic_gradient", "local_model", "make_logistic",
    "make_quadratic", "model_based", "problem_instance", "random_search", "regression_gradient",
    "reinforce_gradient", "reinforce",
]


# ----------------------------------------------------------------------------------------------
# Objectives
# ----------------------------------------------------------------------------------------------


@dataclass(frozen=True, eq=False)
class StochasticQuadratic:
    """Hit a random target: :math:`F(x; \\xi) = \\tfrac12 \\sum_i c_i (x_i - \\xi_i)^2 - \\tfrac12 s^2 \\sum_i c_i`.

    The target is :math:`\\xi \\sim \\mathcal N(x^\\star, s^2 I)`, so
    :math:`f(x) = \\mathbb E F(x;\\xi) = \\tfrac12 \\sum_i c_i (x_i - x^\\star_i)^2` and
    :math:`f^\\star = 0`. A diagonal Hessian loses nothing: every method here is rotation invariant.
    The constructor checks its arguments (use :func:`make_quadratic` for the chapter's instances).
    """

    curvature: np.ndarray  #: (d,) Hessian eigenvalues c_i > 0
    x_star: np.ndarray  #: (d,) the minimizer, the mean of the random target
    spread: float  #: standard deviation s >= 0 of each coordinate of the target
    start: np.ndarray  #: (d,) where every method starts

    def __post_init__(self):
        c = check_finite_array(self.curvature, "curvature", ndim=1)
        if c.size == 0 or np.any(c <= 0):
            raise ValueError("curvature must be a non-empty vector of positive numbers")
        _freeze(self, "curvature", c)
        for field in ("x_star", "start"):
            v = check_finite_array(getattr(self, field), field, ndim=1)
            if v.shape != c.shape:
                raise ValueError(f"{field} must have shape {c.shape} (like curvature), got {v.shape}")
            _freeze(self, field, v)
        object.__setattr__(self, "spread", check_real(self.spread, "spread", low=0.0))

    @property
    def dim(self) -> int:
        return int(self.x_star.shape[0])

    def gap(self, x) -> np.ndarray:
        """Exact suboptimality :math:`f(x) - f^\\star` at points of shape (..., d)."""
        z = np.asarray(x) - self.x_star
        return 0.5 * np.einsum("...i,i,...i->...", z, self.curvature, z)

    def sample(self, rng: np.random.Generator, shape: tuple) -> np.ndarray:
        """Draw targets :math:`\\xi`, shape ``shape + (d,)``."""
        return self.x_star + self.spread * rng.standard_normal((*shape, self.dim))

    def loss(self, x, xi) -> np.ndarray:
        """:math:`F(x; \\xi)`, what a guess-and-check learner is told."""
        z = np.asarray(x) - xi
        const = 0.5 * self.spread**2 * self.curvature.sum()
        return 0.5 * np.einsum("...i,i,...i->...", z, self.curvature, z) - const

    def fit(self, xi, warm=None) -> np.ndarray:
        """Certainty equivalence: the minimizer of the fitted model is the sample mean of the targets.

        ``xi`` has shape (..., N, d); ``warm`` is ignored (the fit is in closed form)."""
        return np.mean(xi, axis=-2)


@dataclass(frozen=True, eq=False)
class StochasticLogistic:
    """Logistic regression: :math:`F(w; j) = \\log(1 + e^{-b_j a_j^\\top w}) + \\tfrac{\\lambda}{2}\\lVert w\\rVert^2`.

    The sample :math:`\\xi = j` is a uniformly drawn example of a fixed population of :math:`m`
    labelled points (generated, not downloaded), so :math:`f` -- the population risk -- can be
    evaluated exactly, and its minimizer is found by Newton's method. The constructor checks its
    arguments (use :func:`make_logistic` for the chapter's instances).
    """

    features: np.ndarray  #: (m, d) population features a_j
    labels: np.ndarray  #: (m,) labels b_j in {-1, +1}
    reg: float  #: ridge weight lambda > 0
    start: np.ndarray  #: (d,) where every method starts
    x_star: np.ndarray  #: (d,) the population risk minimizer
    f_star: float  #: the minimum population risk

    def __post_init__(self):
        a = check_finite_array(self.features, "features", ndim=2)
        if a.shape[0] < 2 or a.shape[1] < 1:
            raise ValueError(f"features must have shape (m, d) with m >= 2 and d >= 1, got {a.shape}")
        b = check_finite_array(self.labels, "labels", ndim=1)
        if b.shape != (a.shape[0],) or not np.all(np.isin(b, (-1.0, 1.0))):
            raise ValueError(f"labels must be {a.shape[0]} numbers in {{-1, +1}}")
        _freeze(self, "features", a)
        _freeze(self, "labels", b)
        object.__setattr__(self, "reg", check_real(self.reg, "reg", low=0.0, low_open=True))
        for field in ("start", "x_star"):
            v = check_finite_array(getattr(self, field), field, ndim=1)
            if v.shape != (a.shape[1],):
                raise ValueError(f"{field} must have shape ({a.shape[1]},), got {v.shape}")
            _freeze(self, field, v)
        object.__setattr__(self, "f_star", check_real(self.f_star, "f_star"))

    @property
    def dim(self) -> int:
        return int(self.features.shape[1])

    def risk(self, w) -> np.ndarray:
        """Population risk :math:`f(w)` at points of shape (..., d)."""
        w = np.asarray(w)
        margins = (w @ self.features.T) * self.labels
        return np.logaddexp(0.0, -margins).mean(axis=-1) + 0.5 * self.reg * np.sum(w * w, axis=-1)

    def gap(self, w) -> np.ndarray:
        return self.risk(w) - self.f_star

    def sample(self, rng: np.random.Generator, shape: tuple) -> np.ndarray:
        """Draw example indices, shape ``shape``."""
        return rng.integers(0, self.features.shape[0], size=shape)

    def loss(self, w, idx) -> np.ndarray:
        w = np.asarray(w)
        margins = np.einsum("...i,...i->...", w, self.features[idx]) * self.labels[idx]
        return np.logaddexp(0.0, -margins) + 0.5 * self.reg * np.sum(w * w, axis=-1)

    def fit(self, idx, warm=None, newton_steps: int = 30) -> np.ndarray:
        """Certainty equivalence: minimize the empirical risk on the drawn examples (Newton's method).

        ``idx`` has shape (..., N); returns minimizers of shape (..., d)."""
        idx = np.asarray(idx)
        a = self.features[idx]  # (..., N, d)
        b = self.labels[idx]
        return _newton_logistic(a, b, self.reg, warm, newton_steps)


def _sigmoid(z):
    return 0.5 * (1.0 + np.tanh(0.5 * z))


def _newton_logistic(a, b, reg, warm=None, steps=30):
    """Batched damped Newton method for ridge logistic regression; ``a`` (..., N, d), ``b`` (..., N).

    Each run halves its Newton step until the objective does not increase (backtracking), so the
    iteration converges from any start, including a warm start far from the new minimizer."""
    n, d = a.shape[-2], a.shape[-1]
    w = np.zeros(a.shape[:-2] + (d,)) if warm is None else np.array(warm, dtype=float)
    eye = np.eye(d)

    def objective(w):
        margins = np.einsum("...nd,...d->...n", a, w) * b
        return np.logaddexp(0.0, -margins).mean(axis=-1) + 0.5 * reg * np.sum(w * w, axis=-1)

    value = objective(w)
    for _ in range(steps):
        margins = np.einsum("...nd,...d->...n", a, w) * b
        p = _sigmoid(-margins)
        grad = -np.einsum("...n,...nd->...d", b * p, a) / n + reg * w
        hess = np.einsum("...nd,...n,...ne->...de", a, p * (1 - p), a) / n + reg * eye
        delta = np.linalg.solve(hess, grad[..., None])[..., 0]
        t = np.ones(value.shape)
        for _ in range(30):  # backtracking, run by run
            trial = w - t[..., None] * delta
            new = objective(trial)
            bad = new > value + 1e-12 * np.abs(value)
            if not np.any(bad):
                break
            t = np.where(bad, 0.5 * t, t)
        w = np.where(bad[..., None], w, trial)
        value = np.where(bad, value, new)
        if np.max(np.abs(t[..., None] * delta)) < 1e-12 * (1.0 + np.max(np.abs(w))):
            break
    return w


def make_quadratic(dim: int, *, condition: float = 10.0, spread: float = 0.1,
                   seed: Seed = 0) -> StochasticQuadratic:
    """A random-target quadratic whose starting suboptimality is 1 in every dimension.

    Curvatures are spread log-uniformly over :math:`[1/\\kappa, 1]`; the minimizer's direction is
    uniform on the sphere, its length set so that :math:`f(0) - f^\\star = 1`.

    Parameters
    ----------
    dim : int
        Dimension :math:`d \\ge 1`.
    condition : float
        Condition number :math:`\\kappa \\ge 1` of the Hessian.
    spread : float
        Standard deviation :math:`s \\ge 0` of each coordinate of the random target.
    seed : int or numpy.random.Generator
        Draws the minimizer's direction.
    """
    dim = check_positive_int(dim, "dim")
    if not np.isfinite(condition) or condition < 1:
        raise ValueError(f"condition must be a finite number >= 1, got {condition}")
    if not np.isfinite(spread) or spread < 0:
        raise ValueError(f"spread must be a finite number >= 0, got {spread}")
    rng = as_rng(seed)
    curvature = np.geomspace(1.0 / condition, 1.0, dim) if dim > 1 else np.ones(1)
    direction = rng.standard_normal(dim)
    direction /= np.linalg.norm(direction)
    scale = np.sqrt(2.0 / np.sum(curvature * direction**2))
    return StochasticQuadratic(curvature, scale * direction, float(spread), np.zeros(dim))


def make_logistic(dim: int, *, n_data: int | None = None, reg: float = 1e-2, signal: float = 3.0,
                  seed: Seed = 0) -> StochasticLogistic:
    """Logistic regression on a generated population (no download needed).

    Features are standard Gaussian, labels follow :math:`P(b = 1 \\mid a) = \\sigma(a^\\top w_0)`
    with :math:`\\lVert w_0 \\rVert` = ``signal``.

    Parameters
    ----------
    dim : int
        Dimension :math:`d \\ge 1` of :math:`w`.
    n_data : int, optional
        Size of the population (default :math:`\\max(2000, 40 d)`).
    reg : float
        Ridge weight :math:`\\lambda > 0`.
    signal : float
        Norm of the weights that generated the labels.
    seed : int or numpy.random.Generator
    """
    dim = check_positive_int(dim, "dim")
    n_data = max(2000, 40 * dim) if n_data is None else check_positive_int(n_data, "n_data", minimum=2)
    if not np.isfinite(reg) or reg <= 0:
        raise ValueError(f"reg must be a finite number > 0, got {reg}")
    if not np.isfinite(signal) or signal < 0:
        raise ValueError(f"signal must be a finite number >= 0, got {signal}")
    rng = as_rng(seed)
    features = rng.standard_normal((n_data, dim))
    w0 = rng.standard_normal(dim)
    w0 *= signal / np.linalg.norm(w0)
    labels = np.where(rng.random(n_data) < _sigmoid(features @ w0), 1.0, -1.0)
    w = _newton_logistic(features, labels, reg, steps=100)
    obj = StochasticLogistic(features, labels, float(reg), np.zeros(dim), w, 0.0)
    return replace(obj, f_star=float(obj.risk(w)))


# ----------------------------------------------------------------------------------------------
# The batched optimization loop
# ----------------------------------------------------------------------------------------------


class Trace(NamedTuple):
    """Learning curves of a batch of runs."""

    samples: np.ndarray  #: (T,) samples used by each run at the checkpoints (0 first)
    gap: np.ndarray  #: (n_runs, T) exact suboptimality; inf once a run diverged


def _check_problem(obj) -> None:
    if not isinstance(obj, (StochasticQuadratic, StochasticLogistic)):
        raise TypeError(f"obj must be a StochasticQuadratic or StochasticLogistic, got {type(obj).__name__}")


def _per_run(value, name: str, n_runs: int) -> np.ndarray:
    """A positive hyperparameter given as a scalar or one value per run, as shape (n_runs, 1)."""
    arr = as_float_array(value, name)
    if arr.ndim == 0:
        arr = np.full(n_runs, float(arr))
    if arr.shape != (n_runs,):
        raise ValueError(f"{name} must be a number or an array of shape ({n_runs},), got shape {arr.shape}")
    if not np.all(np.isfinite(arr)) or np.any(arr <= 0):
        raise ValueError(f"{name} must be finite and > 0")
    return arr[:, None]


StopRule = Callable[[float, np.ndarray, np.ndarray], bool]

# A run has *settled* at the target once it is at or below it at a checkpoint n and at every
# checkpoint up to the first one at or beyond HOLD n (the book's hold factor, 1.25, from
# ce_lib.experiments); its count is that n. Counting the first touch instead would reward steps so
# large that a run bounces through the target by luck.


def _stop_when_all_settled(samples: float, settled: np.ndarray, dead: np.ndarray) -> bool:
    return bool(np.all(settled | dead))


class _Settling:
    """Tracks, run by run, whether a stretch at or below the target has lasted long enough."""

    def __init__(self, gap0: np.ndarray, stop_below: float | None):
        self.stop_below = stop_below
        if stop_below is not None:
            self.since = np.where(gap0 <= stop_below, 0.0, np.inf)
            self.settled = gap0 <= stop_below

    def update(self, samples: float, gap: np.ndarray) -> np.ndarray:
        """Record the gap at ``samples``; return which runs have settled (once settled, always)."""
        self.since = np.where(gap <= self.stop_below, np.minimum(self.since, samples), np.inf)
        self.settled = self.settled | (np.isfinite(self.since) & (samples >= HOLD * self.since))
        return self.settled


#: The polynomial-decay averaging of the iterative runners (``average=True``):
#: :math:`\bar x_t = (1 - w_t)\bar x_{t-1} + w_t x_t` with :math:`w_t = (\eta + 1)/(t + \eta)`
#: (Shamir & Zhang 2013). Iterate :math:`s` then weighs about :math:`s^\eta` in :math:`\bar x_t`, so the
#: average covers roughly the last 15-30% of the iterates: it forgets the start, and it averages out the
#: wandering of a constant step around the optimum.
AVERAGING_ETA = 3.0


def _loop(obj, budget: int, per_iter: int, n_runs: int, direction, step: np.ndarray, name: str,
          stop_below: float | None, stop_rule: StopRule | None, n_checkpoints: int = 120,
          average: np.ndarray | None = None) -> Trace:
    """``x <- x - step * direction(x)`` for a batch of runs, recording the exact gap at checkpoints.

    Checkpoints are spaced geometrically in iterations. With ``stop_below``, the loop ends when
    ``stop_rule(samples, settled, dead)`` says so -- by default once every run has settled at the
    target (see :data:`ce_lib.experiments.HOLD`) or diverged. Runs flagged in ``average`` (boolean, (n_runs,)) report the
    averaged iterate :math:`\\bar x_t` (see :data:`AVERAGING_ETA`) instead of :math:`x_t`; the steps are
    the same either way, so ``average="both"`` reports both from every run: the trace then has
    ``2 * n_runs`` rows, the last iterates first, and ``stop_rule`` sees those rows.
    """
    if per_iter > budget:
        raise ValueError(f"budget ({budget}) is below the {per_iter} samples one iteration of {name} needs")
    n_iter = budget // per_iter
    checks = np.unique(np.round(np.geomspace(1, n_iter, n_checkpoints)).astype(int))
    x = np.tile(np.asarray(obj.start, dtype=float), (n_runs, 1))
    both = isinstance(average, str)
    avg = np.zeros(n_runs, dtype=bool) if average is None or both else np.asarray(average, dtype=bool)
    averaging = both or bool(avg.any())
    x_bar = x.copy()
    gap0 = obj.gap(x)
    limit = 1e6 * (1.0 + gap0)
    if both:
        gap0 = np.concatenate([gap0, gap0])
    record = [gap0]
    dead = np.zeros(n_runs, dtype=bool)
    settling = _Settling(gap0, stop_below)
    rule = stop_rule or _stop_when_all_settled
    k = 0
    with np.errstate(all="ignore"):  # a diverging run may overflow until the next checkpoint
        for t in range(1, n_iter + 1):
            x = x - step * direction(x)
            if averaging:
                w = (AVERAGING_ETA + 1.0) / (t + AVERAGING_ETA)
                x_bar = (1.0 - w) * x_bar + w * x
            if t != checks[k]:
                continue
            k += 1
            g = obj.gap(x)
            dead |= ~np.isfinite(g) | (g > limit)
            x[dead] = obj.start  # frozen, and reported as inf from now on
            if averaging:
                g_bar = obj.gap(x_bar)
                g = np.concatenate([g, g_bar]) if both else np.where(avg, g_bar, g)
                x_bar[dead] = obj.start
            dead_rows = np.concatenate([dead, dead]) if both else dead
            g = np.where(dead_rows, np.inf, g)
            record.append(g)
            if stop_below is not None:
                settled = settling.update(float(t * per_iter), g)
                if rule(float(t * per_iter), settled, dead_rows):
                    break
    samples = per_iter * np.concatenate([[0], checks[: len(record) - 1]])
    return Trace(samples.astype(float), np.stack(record, axis=1))


def _setup(obj, budget, n_runs, step, explore):
    _check_problem(obj)
    budget = check_positive_int(budget, "budget")
    n_runs = check_positive_int(n_runs, "n_runs")
    return budget, n_runs, _per_run(step, "step", n_runs), _per_run(explore, "explore", n_runs)


def _per_run_flag(value, name: str, n_runs: int):
    """A yes/no option given once for all runs or once per run, as a boolean array (n_runs,); the
    averaging option may also be ``"both"`` (see :func:`_loop`)."""
    if isinstance(value, str) and value == "both" and name == "average":
        return value
    if isinstance(value, (bool, np.bool_)):
        return np.full(n_runs, bool(value))
    arr = np.asarray(value)
    if arr.shape != (n_runs,) or arr.dtype != bool:
        raise TypeError(f"{name} must be True, False, 'both' or a boolean array of shape ({n_runs},), "
                        f"got {value!r}")
    return arr


# ----------------------------------------------------------------------------------------------
# Gradient estimators from values (one row per run)
# ----------------------------------------------------------------------------------------------


def reinforce_gradient(obj, x, explore, batch: int, rng: np.random.Generator) -> np.ndarray:
    """Score-function (REINFORCE) estimate with a batch-mean baseline, for each row of ``x``.

    .. math:: \\hat g = \\frac{1}{(n-1)\\sigma} \\sum_{i=1}^{n} (y_i - \\bar y)\\, \\varepsilon_i,
              \\qquad y_i = F(x + \\sigma\\varepsilon_i; \\xi_i),

    unbiased for :math:`\\nabla \\mathbb E f(x + \\sigma\\varepsilon)` (the :math:`n - 1` corrects for
    the baseline's correlation with each term). ``x`` has shape (R, d), ``explore`` shape (R, 1).
    """
    eps = rng.standard_normal((x.shape[0], batch, x.shape[1]))
    y = obj.loss(x[:, None, :] + explore[:, :, None] * eps, obj.sample(rng, (x.shape[0], batch)))
    adv = y - y.mean(axis=1, keepdims=True)
    return np.einsum("rn,rnd->rd", adv, eps) / ((batch - 1) * explore)


def antithetic_gradient(obj, x, explore, n_dirs: int, top: int, rng: np.random.Generator,
                        common_noise: bool = False) -> np.ndarray:
    """ARS's antithetic estimate, for each row of ``x`` (``explore`` of shape (R, 1)).

    .. math:: \\hat g = \\frac{1}{b\\, \\sigma_y} \\sum_{k \\in \\text{top}} (y_k^+ - y_k^-)\\, \\delta_k,
              \\qquad y_k^\\pm = F(x \\pm \\nu\\delta_k; \\xi_k^\\pm),

    where :math:`\\sigma_y` is the standard deviation of the kept values. With all directions kept
    and :math:`\\sigma_y` replaced by :math:`2\\nu`, it is unbiased for the smoothed gradient.
    With ``common_noise`` the two values of a direction share one sample,
    :math:`\\xi_k^+ = \\xi_k^-` (common random numbers: a simulator replaying its seed).
    """
    r, d = x.shape
    delta = rng.standard_normal((r, n_dirs, d))
    s = explore[:, :, None]
    xi_plus = obj.sample(rng, (r, n_dirs))
    xi_minus = xi_plus if common_noise else obj.sample(rng, (r, n_dirs))
    y_plus = obj.loss(x[:, None, :] + s * delta, xi_plus)
    y_minus = obj.loss(x[:, None, :] - s * delta, xi_minus)
    if top < n_dirs:
        keep = np.argsort(np.minimum(y_plus, y_minus), axis=1, kind="stable")[:, :top]
        delta = np.take_along_axis(delta, keep[:, :, None], axis=1)
        y_plus = np.take_along_axis(y_plus, keep, axis=1)
        y_minus = np.take_along_axis(y_minus, keep, axis=1)
    spread = np.std(np.concatenate([y_plus, y_minus], axis=1), axis=1, keepdims=True)
    spread = np.where(spread > 0, spread, 1.0)
    return np.einsum("rk,rkd->rd", (y_plus - y_minus) / spread, delta) / top


def regression_gradient(obj, x, explore, batch: int, rng: np.random.Generator) -> np.ndarray:
    """Least-squares estimate: the slope of a linear model fitted to values around each row of ``x``.

    .. math:: (\\hat a, \\hat g) = \\arg\\min_{a, g} \\sum_{i=1}^n \\bigl(y_i - a - \\sigma g^\\top \\varepsilon_i\\bigr)^2 .

    Needs ``batch >= d + 2``; exact for an affine ``F`` without noise.
    """
    r, d = x.shape
    eps = rng.standard_normal((r, batch, d))
    y = obj.loss(x[:, None, :] + explore[:, :, None] * eps, obj.sample(rng, (r, batch)))
    design = np.concatenate([np.ones((r, batch, 1)), eps], axis=2)
    design_t = design.transpose(0, 2, 1)
    coef = np.linalg.solve(design_t @ design, design_t @ y[..., None])[..., 0]  # normal equations
    return coef[:, 1:] / explore


# ----------------------------------------------------------------------------------------------
# Methods
# ----------------------------------------------------------------------------------------------


def reinforce(obj, budget: int, *, step, explore, batch: int, average=False, n_runs: int = 1, seed: Seed = 0,
              stop_below: float | None = None, stop_rule: StopRule | None = None) -> Trace:
    """REINFORCE on a Gaussian search distribution :math:`\\mathcal N(x, \\sigma^2 I)`, batch-mean baseline.

    Each iteration draws ``batch`` perturbations :math:`\\varepsilon_i`, is told
    :math:`y_i = F(x + \\sigma\\varepsilon_i; \\xi_i)` and steps along

    .. math:: \\hat g = \\frac{1}{(n-1)\\sigma} \\sum_{i=1}^{n} (y_i - \\bar y)\\, \\varepsilon_i ,

    an unbiased estimate of the gradient of the smoothed objective
    :math:`\\mathbb E f(x + \\sigma\\varepsilon)` (the score-function estimator; the batch mean is
    the baseline, and :math:`n-1` corrects for it).

    Parameters
    ----------
    obj : StochasticQuadratic or StochasticLogistic
    budget : int
        Samples allowed per run.
    step : float or array of shape (n_runs,)
        Step size :math:`\\alpha`.
    explore : float or array of shape (n_runs,)
        Exploration scale :math:`\\sigma`.
    batch : int
        Samples per iteration, :math:`n \\ge 2`.
    average : bool, boolean array of shape (n_runs,), or "both"
        Report the polynomial-decay average of the iterates (:data:`AVERAGING_ETA`) rather than the
        last iterate: with a constant step the iterate keeps wandering around the optimum, and the
        average does not (Polyak & Juditsky 1992; Shamir & Zhang 2013). ``"both"`` reports both
        readouts of every run: ``2 * n_runs`` rows, the last iterates first.
    n_runs : int
        Independent runs advanced together.
    seed : int or numpy.random.Generator
    stop_below : float, optional
        A run settles once its gap stays at most this (see :data:`ce_lib.experiments.HOLD`); the batch stops when
        ``stop_rule`` says so (default: when every run settled or diverged).
    stop_rule : callable, optional
        ``stop_rule(samples, settled, dead) -> bool`` (boolean arrays over runs).

    Returns
    -------
    Trace

    References
    ----------
    Williams (1992); Nesterov & Spokoiny (2017) for the smoothing view.

    Examples
    --------
    >>> from ce_lib.dfo import make_quadratic, reinforce
    >>> obj = make_quadratic(dim=4, seed=0)
    >>> trace = reinforce(obj, 2000, step=0.01, explore=0.1, batch=8, n_runs=5, seed=0)
    >>> round(float(trace.gap[:, -1].max()), 4)  # suboptimality after 2,000 samples, worst of 5 runs
    0.1423
    """
    budget, n_runs, step, explore = _setup(obj, budget, n_runs, step, explore)
    batch = check_positive_int(batch, "batch", minimum=2)
    average = _per_run_flag(average, "average", n_runs)
    rng = as_rng(seed)

    def direction(x):
        return reinforce_gradient(obj, x, explore, batch, rng)

    return _loop(obj, budget, batch, n_runs, direction, step, "reinforce", stop_below, stop_rule, average=average)


def random_search(obj, budget: int, *, step, explore, n_dirs: int, top: int | None = None, average=False,
                  n_runs: int = 1, seed: Seed = 0, stop_below: float | None = None,
                  stop_rule: StopRule | None = None, common_noise: bool = False) -> Trace:
    """Antithetic random search, ARS V1-t of Mania, Guy & Recht (2018), for minimization.

    Each iteration draws ``n_dirs`` directions :math:`\\delta_k`, is told
    :math:`y_k^\\pm = F(x \\pm \\nu\\delta_k; \\xi_k^\\pm)` (two independent samples), keeps the
    ``top`` directions with the best :math:`\\min(y_k^+, y_k^-)` and steps along

    .. math:: \\hat g = \\frac{1}{b\\, \\sigma_y} \\sum_{k \\in \\text{top}} (y_k^+ - y_k^-)\\, \\delta_k ,

    where :math:`\\sigma_y` is the standard deviation of the :math:`2b` kept values.

    Parameters
    ----------
    obj : StochasticQuadratic or StochasticLogistic
    budget : int
        Samples allowed per run (each direction costs two).
    step : float or array of shape (n_runs,)
        Step size :math:`\\alpha`.
    explore : float or array of shape (n_runs,)
        Perturbation scale :math:`\\nu`.
    n_dirs : int
        Directions per iteration :math:`N`.
    top : int, optional
        Directions kept, :math:`1 \\le b \\le N` (default all: ARS V1).
    average : bool or boolean array of shape (n_runs,)
        Report the averaged iterate, as in :func:`reinforce`.
    n_runs, seed, stop_below, stop_rule
        As in :func:`reinforce`.
    common_noise : bool
        Evaluate both points of a direction on the same sample (see :func:`antithetic_gradient`);
        each direction then costs one sample, not two. Off in the chapter's comparison: an
        environment cannot replay its randomness.

    Returns
    -------
    Trace

    Examples
    --------
    >>> from ce_lib.dfo import make_quadratic, random_search
    >>> obj = make_quadratic(dim=4, seed=0)
    >>> trace = random_search(obj, 2000, step=0.05, explore=0.1, n_dirs=4, n_runs=5, seed=0)
    >>> round(float(trace.gap[:, -1].max()), 4)  # suboptimality after 2,000 samples, worst of 5 runs
    0.0072
    """
    budget, n_runs, step, explore = _setup(obj, budget, n_runs, step, explore)
    if not isinstance(common_noise, bool):
        raise TypeError(f"common_noise must be True or False, got {common_noise!r}")
    n_dirs = check_positive_int(n_dirs, "n_dirs")
    top = n_dirs if top is None else check_positive_int(top, "top")
    if top > n_dirs:
        raise ValueError(f"top must be at most n_dirs ({n_dirs}), got {top}")
    average = _per_run_flag(average, "average", n_runs)
    rng = as_rng(seed)

    def direction(x):
        return antithetic_gradient(obj, x, explore, n_dirs, top, rng, common_noise)

    per_iter = n_dirs if common_noise else 2 * n_dirs
    return _loop(obj, budget, per_iter, n_runs, direction, step, "random_search", stop_below, stop_rule,
                 average=average)


def local_model(obj, budget: int, *, step, explore, batch: int, average=False, n_runs: int = 1, seed: Seed = 0,
                stop_below: float | None = None, stop_rule: StopRule | None = None) -> Trace:
    """Certainty equivalence from values alone: fit a local linear model, step on it.

    Each iteration is told :math:`y_i = F(x + \\sigma\\varepsilon_i; \\xi_i)` at ``batch`` points,
    fits

    .. math:: (\\hat a, \\hat g) = \\arg\\min_{a, g} \\sum_{i=1}^n (y_i - a - \\sigma g^\\top \\varepsilon_i)^2

    by ordinary least squares, and moves to :math:`x - \\alpha \\hat g`: the step gradient descent
    would take if the fitted model were the truth. Unlike :func:`reinforce`, the regression removes
    the part of :math:`y` that the linear model explains before it estimates :math:`g`; with little
    noise, :math:`d + 2` values already give the gradient almost exactly.

    Parameters
    ----------
    obj : StochasticQuadratic or StochasticLogistic
    budget : int
        Samples allowed per run.
    step : float or array of shape (n_runs,)
        Step size :math:`\\alpha` on the model.
    explore : float or array of shape (n_runs,)
        Radius :math:`\\sigma` of the design around the current point.
    batch : int
        Values per fit, at least :math:`d + 2` (so that the fit has a residual).
    average : bool or boolean array of shape (n_runs,)
        Report the averaged iterate, as in :func:`reinforce` (the same option as the searches get).
    n_runs, seed, stop_below, stop_rule
        As in :func:`reinforce`.

    Returns
    -------
    Trace

    Examples
    --------
    >>> from ce_lib.dfo import make_quadratic, local_model
    >>> obj = make_quadratic(dim=4, seed=0)
    >>> trace = local_model(obj, 2000, step=0.5, explore=0.1, batch=10, n_runs=5, seed=0)
    >>> round(float(trace.gap[:, -1].max()), 4)  # suboptimality after 2,000 samples, worst of 5 runs
    0.0048
    """
    budget, n_runs, step, explore = _setup(obj, budget, n_runs, step, explore)
    batch = check_positive_int(batch, "batch")
    if batch < obj.dim + 2:
        raise ValueError(f"batch must be at least dim + 2 = {obj.dim + 2} for a least-squares fit, got {batch}")
    average = _per_run_flag(average, "average", n_runs)
    rng = as_rng(seed)

    def direction(x):
        return regression_gradient(obj, x, explore, batch, rng)

    return _loop(obj, budget, batch, n_runs, direction, step, "local_model", stop_below, stop_rule, average=average)


class _CMAStrategies:
    """CMA-ES strategies in lockstep, each the ``cma`` package's default strategy, step for step.

    The package runs one strategy per Python object, and at small and middling dimensions its own
    bookkeeping costs more than the arithmetic. This class holds the state of many strategies as stacked
    arrays (means ``(n, d)``, step sizes ``(n,)``, covariances ``(n, d, d)``, evolution paths) and
    repeats the package's default update -- weighted recombination with its active (negative) weights,
    cumulative step-size adaptation, rank-one and rank-mu covariance updates, the eigendecomposition
    renewed on the package's lazy schedule, and its one-time remedy for a covariance whose condition
    number passes :math:`10^{12}` (the covariance moves into a linear change of coordinates and starts
    again from the identity) -- with the same operations in the same order. The strategy constants
    (weights, learning rates, damping, the schedule) are read from a package strategy of the same
    dimension and population; every matrix product is the same numpy call on the same memory layout; the
    scalar powers and sums the package takes one number at a time are taken so here too. Given the same
    normal variates, a run comes out bit for bit as the package makes it (``tests/test_dfo.py``).

    Refused rather than silently diverging: the package's other remedy, for a covariance whose diagonal
    spans more than :math:`10^8` (it rescales the coordinates), and mirrored sampling (the package's
    default only for populations below 6, which no dimension ``d >= 2`` gives).
    """

    def __init__(self, start: np.ndarray, sigma0: np.ndarray, popsize: int):
        import cma
        from cma.utilities.math import Mh

        start = np.asarray(start, dtype=float)
        n, d = len(sigma0), len(start)
        probe = cma.CMAEvolutionStrategy(start, 1.0, {"popsize": popsize, "verbose": -9, "seed": float("nan")})
        sp = probe.sp
        if sp.lam_mirr or sp.cmean != 1 or not isinstance(probe.sm, cma.sampler.GaussFullSampler):
            raise ValueError(f"a population of {popsize} in {d} dimensions is not the package's full-covariance "
                             "strategy without mirrors, the only one reproduced here")
        probe.adapt_sigma.initialize(probe)
        self.weights = np.asarray(sp.weights(popsize), dtype=float)
        self.positive_weights = np.asarray(sp.weights.positive_weights, dtype=float)
        self.mueff = sp.weights.mueff
        self.cc = sp.cc
        self.c1 = probe.sm.parameters(mueff=sp.weights.mueff, lam=sp.weights.lambda_)["c1"]
        self.cmu = probe.sm.parameters()["cmu"]
        self.cs, self.damps = probe.adapt_sigma.cs, probe.adapt_sigma.damps
        self.chi_n = Mh.chiN(d)
        self.lazy_gap = probe.sm.lazy_update_gap
        self._C0, self._D0, self._B0 = probe.sm.C.copy(), probe.sm.D.copy(), probe.sm.B.copy()
        self.popsize, self.dim = popsize, d
        self.mean = np.tile(start, (n, 1))          # in each run's own coordinates (see ``estimate``)
        self.sigma = np.array(sigma0, dtype=float)
        self.sigma0 = self.sigma.copy()
        self.C = np.tile(self._C0, (n, 1, 1))
        self._set_eigen(np.tile(self._D0, (n, 1)), np.tile(self._B0, (n, 1, 1)))
        self.ps = np.zeros((n, d))
        self.pc = np.zeros((n, d))
        self.iteration = 0
        self._n_updates = np.zeros(n, dtype=int)   # covariance updates so far (the package's count_tell)
        self._last_eigen = np.zeros(n, dtype=int)  # ... at the last eigendecomposition
        #: How often each of the package's remedies was applied (all runs together).
        self.remedies = {"change of coordinates": 0, "same point twice": 0, "step size into C": 0,
                         "not positive definite": 0}
        self.moved = np.zeros(n, dtype=bool)      # has the covariance moved into a change of coordinates?
        self.tf = np.zeros((n, d, d))              # ... this one: the run's coordinates -> the problem's
        self._points = None

    def _set_eigen(self, D: np.ndarray, B: np.ndarray, rows=slice(None)) -> None:
        # The package holds B as numpy's eigh returns it, in Fortran order; B[r] is laid out so too, so
        # that np.dot meets the same strides and calls BLAS the same way.
        if not hasattr(self, "_Bt"):
            self.D, self._Bt = D.copy(), np.empty_like(B)
        self.D[rows] = D
        self._Bt[rows] = np.swapaxes(B, 1, 2)
        self.B = np.swapaxes(self._Bt, 1, 2)

    def keep(self, rows: np.ndarray) -> None:
        """Drop every strategy but ``rows`` (finished runs stop costing anything)."""
        for name in ("mean", "sigma", "sigma0", "C", "D", "_Bt", "ps", "pc", "_n_updates", "_last_eigen", "moved", "tf"):
            setattr(self, name, getattr(self, name)[rows])
        self.B = np.swapaxes(self._Bt, 1, 2)

    def _alleviate(self, r: int) -> None:
        """The package's remedy for an ill-conditioned covariance: its square root becomes a change of
        coordinates, and the covariance starts again from the identity."""
        B, D = self.B[r], self.D[r]
        inverse, root = np.dot(B / D, B.T), np.dot(B * D, B.T)
        self.C[r] = self._C0
        self._set_eigen(self._D0[None], self._B0[None], [r])
        self._n_updates[r] = self._last_eigen[r] = 0
        self.pc[r] = np.dot(inverse, self.pc[r])
        self.mean[r] = np.dot(inverse, self.mean[r])
        self.tf[r] = root
        self.moved[r] = True
        self.remedies["change of coordinates"] += 1

    def ask(self, normals: np.ndarray) -> np.ndarray:
        """Candidates ``(n, popsize, d)`` from standard normal variates of the same shape."""
        diag = np.diagonal(self.C, axis1=1, axis2=2)
        if np.any(diag.max(axis=1) / diag.min(axis=1) >= 1e8):
            raise RuntimeError("a covariance's diagonal spans more than 1e8, where the cma package rescales its "
                               "coordinates; _CMAStrategies does not reproduce that")
        for r in np.flatnonzero(~self.moved):
            if (self.D[r, -1] / self.D[r, 0]) ** 2 >= 1e12:  # the package's test, number by number
                self._alleviate(r)
        since = self._n_updates - self._last_eigen
        due = np.flatnonzero(~((self._n_updates < self._last_eigen + self.lazy_gap) | ((since == 0) & (self.lazy_gap == 0))))
        if len(due):
            self._decompose(due)
            self._last_eigen[due] = self._n_updates[due]
        steps = np.empty_like(normals)
        for r in range(len(normals)):
            steps[r] = np.dot(self.B[r], (self.D[r] * normals[r]).T).T
        self._points = self.mean[:, None, :] + self.sigma[:, None, None] * steps
        self._problem_points = self._to_problem(self._points)
        return self._problem_points

    def _decompose(self, rows: np.ndarray) -> None:
        """Renew the eigendecomposition of the covariances ``rows``, as the package does: symmetrize, then
        ``numpy.linalg.eigh``; a covariance that has lost positive definiteness gets the smallest old
        eigenvalue added to its diagonal, and is decomposed again."""
        C = (self.C[rows] + np.swapaxes(self.C[rows], 1, 2)) / 2
        self.C[rows] = C
        values, vectors = np.linalg.eigh(C)
        bad = np.any(values <= 0, axis=1)
        good = rows[~bad]
        if len(good):
            order = np.argsort(values[~bad], axis=1)
            self._set_eigen(np.take_along_axis(values[~bad], order, axis=1) ** 0.5,
                            np.take_along_axis(vectors[~bad], order[:, None, :], axis=2), good)
        for r in rows[bad]:
            self.remedies["not positive definite"] += 1
            old = self.D[r]
            shift = min(old) ** 2
            for i in range(self.dim):
                self.C[r][i][i] += shift
            self.D[r] = (old ** 2 + shift) ** 0.5
            self._decompose(np.array([r]))

    def _to_problem(self, points: np.ndarray) -> np.ndarray:
        """Points in each run's coordinates, as points of the problem (the package's phenotypes)."""
        out = points.copy()
        for r in np.flatnonzero(self.moved):
            for k in range(points.shape[1]):
                out[r, k] = np.dot(self.tf[r], points[r, k])
        return out

    def estimate(self) -> np.ndarray:
        """Each run's mean, as a point of the problem ``(n, d)``."""
        return self._to_problem(self.mean[:, None, :])[:, 0]

    def tell(self, values: np.ndarray) -> None:
        """Update every strategy with the values ``(n, popsize)`` of the candidates ``ask`` returned last."""
        points, self._points = self._points, None
        for r in np.flatnonzero(self.moved):
            # The package finds each candidate's own coordinates by looking its point up in a dictionary
            # keyed by the point's bytes. Far into a run, two candidates can round to the same point of
            # the problem; the package's dictionary then hands their coordinates out in reverse order.
            same: dict = {}
            for k, point in enumerate(self._problem_points[r]):
                same.setdefault(point.tobytes(), []).append(k)
            for ks in same.values():
                if len(ks) > 1:
                    points[r, ks] = points[r, ks[::-1]]
                    self.remedies["same point twice"] += 1
        n, lam, d = points.shape
        self.iteration += 1
        ranked = np.ascontiguousarray(np.take_along_axis(points, np.argsort(values, axis=1)[:, :, None], axis=1))
        old = self.mean
        self.mean = np.empty_like(old)
        z = np.empty_like(old)
        mu = len(self.positive_weights)
        for r in range(n):
            self.mean[r] = np.dot(self.positive_weights, ranked[r, :mu])
        shift = self.mean - old
        for r in range(n):  # C^(-1/2) times the mean's shift
            z[r] = np.dot(self.B[r], np.dot(self.B[r].T, shift[r]) / self.D[r])
        z *= (self.mueff ** 0.5 / self.sigma)[:, None]
        cs, cc, c1, cmu = self.cs, self.cc, self.c1, self.cmu
        self.ps *= 1 - cs
        self.ps += np.sqrt(cs * (2 - cs)) * z
        hsig = np.sum(self.ps ** 2, axis=1) / (1 - (1 - cs) ** (2 * self.iteration)) / d - 1 < 1 + 4.0 / (d + 1)
        c1a = c1 * (1 - (1 - hsig ** 2) * cc * (2 - cc))
        self.pc = (1 - cc) * self.pc + (hsig * ((cc * (2 - cc) * self.mueff) ** 0.5 / self.sigma))[:, None] * shift
        vectors = np.empty((n, lam + 1, d))
        vectors[:, 1:] = (ranked - old[:, None, :]) / self.sigma[:, None, None]
        weights = np.empty((n, lam + 1))
        weights[:, 0] = c1a
        weights[:, 1:] = cmu * self.weights
        decay = 1 - np.cumsum(weights, axis=1)[:, -1]  # summed left to right, as the package sums them
        negative = np.flatnonzero(self.weights < 0) + 1
        for r in range(n):
            vectors[r, 0] = (c1 / (c1a[r] + 1e-23)) ** 0.5 * self.pc[r]
            w = weights[r]
            # Active update: a bad candidate's weight is rescaled by its squared Mahalanobis length. The
            # package takes B^T v one vector at a time (numpy's matmul over a stack of vectors makes the
            # same BLAS call), adds the squares left to right (a cumulative sum does), and takes each
            # power of a single number (so here too).
            whitened = np.matmul(self.B[r].T, vectors[r, negative][:, :, None])[:, :, 0] / self.D[r]
            lengths = np.cumsum(whitened ** 2, axis=1)[:, -1]
            w[negative] *= [d / (length ** 0.5 + 1e-9) ** 2 for length in lengths]
            self.C[r] *= decay[r]
            self.C[r] += np.dot(w * vectors[r].T, vectors[r])
        self._n_updates += 1
        change = (np.sqrt(np.sum(np.square(self.ps), axis=1)) / self.chi_n - 1) * (cs / self.damps)
        for r in range(n):
            self.sigma[r] *= np.exp(min(max(change[r], -1), 1))
            if self.sigma[r] > 1e9 * self.sigma0[r]:  # the package moves a runaway step size into C
                alpha = float(self.sigma[r] / max(np.diag(self.C[r])) ** 0.5)
                if alpha > 1:
                    self.remedies["step size into C"] += 1
                    self.C[r] *= alpha
                    self.D[r] *= alpha ** 0.5
                    self.sigma[r] /= alpha ** 0.5


def cma_es(obj, budget: int, *, explore, popsize_factor: int = 1, n_runs: int = 1, seed: Seed = 0,
           stop_below: float | None = None, stop_rule: StopRule | None = None, n_checkpoints: int = 120) -> Trace:
    """CMA-ES as a value-only search: Hansen's reference strategy (the ``cma`` package's defaults), told
    only :math:`F(x; \\xi)` of the points it samples.

    Each iteration asks the evolution strategy for :math:`\\lambda` points (one fresh sample each), tells it
    their values, and reports the mean of its search distribution, the strategy's estimate of the
    minimizer. The population is :math:`\\lambda = f\\,(4 + \\lfloor 3 \\ln d \\rfloor)`, ``popsize_factor``
    times the package's default (larger populations are the documented remedy for noisy objectives), and
    the initial step size :math:`\\sigma_0` is ``explore``. There is no termination but the budget, and
    each run draws its normal variates from its own generator split from ``seed``.

    The runs advance together as stacked arrays (a private class, ``_CMAStrategies``), which repeat the
    package's update operation for operation: a run is, bit for bit, the run the package's
    ``CMAEvolutionStrategy`` makes with the same variates (its ``randn`` option), several times
    faster at small dimensions, where the package's per-object bookkeeping dominated. From
    :math:`d \\approx 64` the package's eigendecomposition of the covariance (every iteration there)
    dominates both.

    Parameters
    ----------
    obj : StochasticQuadratic or StochasticLogistic
    budget : int
        Samples allowed per run.
    explore : float or array of shape (n_runs,)
        Initial step size :math:`\\sigma_0`.
    popsize_factor : int
        Population size as a multiple of the default (at least 2 when ``d = 1``, where the default
        population of 4 would be sampled in mirrored pairs).
    n_runs, seed, stop_below, stop_rule
        As in :func:`reinforce`; a settled run is frozen (its strategy is dropped).

    Returns
    -------
    Trace

    References
    ----------
    Hansen & Ostermeier (2001); Hansen (2016), *The CMA evolution strategy: a tutorial*.

    Examples
    --------
    >>> from ce_lib.dfo import make_quadratic, cma_es
    >>> obj = make_quadratic(dim=4, seed=0)
    >>> trace = cma_es(obj, 2000, explore=0.5, n_runs=5, seed=0)
    >>> round(float(trace.gap[:, -1].max()), 4)  # suboptimality after 2,000 samples, worst of 5 runs
    0.0049
    """
    budget, n_runs, _, sigma0 = _setup(obj, budget, n_runs, 1.0, explore)
    factor = check_positive_int(popsize_factor, "popsize_factor")
    lam = factor * (4 + int(3 * np.log(obj.dim)))
    if lam < 6:
        raise ValueError(f"popsize_factor ({factor}) gives a population of {lam} at d = {obj.dim}: the cma package "
                         "samples populations below 6 in mirrored pairs, which cma_es does not reproduce; use "
                         "popsize_factor >= 2")
    if lam > budget:
        raise ValueError(f"budget ({budget}) is below the {lam} samples one iteration of cma_es needs")
    rng = as_rng(seed)
    streams = rng.spawn(n_runs)
    es = _CMAStrategies(np.asarray(obj.start, dtype=float), sigma0[:, 0], lam)
    n_iter = budget // lam
    checks = np.unique(np.round(np.geomspace(1, n_iter, n_checkpoints)).astype(int))
    x = np.tile(np.asarray(obj.start, dtype=float), (n_runs, 1))
    gap0 = obj.gap(x)
    record = [gap0]
    settling = _Settling(gap0, stop_below)
    live = np.arange(n_runs)  # the runs still moving, in the order of es's rows
    rule = stop_rule or _stop_when_all_settled
    k = 0
    for t in range(1, n_iter + 1):
        xi = obj.sample(rng, (n_runs, lam))
        if len(live):
            points = es.ask(np.stack([streams[i].standard_normal((lam, obj.dim)) for i in live]))
            es.tell(obj.loss(points, xi[live]))
            x[live] = es.estimate()
        if t != checks[k]:
            continue
        k += 1
        g = np.where(np.all(np.isfinite(x), axis=1), obj.gap(x), np.inf)
        record.append(g)
        if stop_below is not None:
            settled = settling.update(float(t * lam), g)
            moving = ~settled[live]
            if not moving.all():
                live = live[moving]
                es.keep(moving)
            if rule(float(t * lam), settled, ~np.isfinite(g)):
                break
    samples = lam * np.concatenate([[0], checks[: len(record) - 1]])
    return Trace(samples.astype(float), np.stack(record, axis=1))


def model_based(obj, budget: int, *, n_runs: int = 1, seed: Seed = 0, stop_below: float | None = None,
                growth: float = 1.15) -> Trace:
    """Certainty equivalence with the model known: see the samples, fit, optimize the fit.

    After :math:`N` samples :math:`\\xi_1, \\dots, \\xi_N`, the certainty-equivalent decision is
    the minimizer of the fitted objective,

    .. math:: \\hat x_N = \\arg\\min_x \\frac1N \\sum_{k=1}^N F(x; \\xi_k)

    (the mean target for :class:`StochasticQuadratic`, the empirical-risk minimizer for
    :class:`StochasticLogistic`). Evaluated at :math:`N` on a geometric grid of ratio ``growth``.

    Parameters
    ----------
    obj : StochasticQuadratic or StochasticLogistic
    budget : int
        Largest number of samples per run.
    n_runs : int
    seed : int or numpy.random.Generator
    stop_below : float, optional
        Stop once every run has settled at or below this (see :data:`ce_lib.experiments.HOLD`).
    growth : float
        Ratio between successive sample sizes (> 1).

    Returns
    -------
    Trace

    Examples
    --------
    >>> from ce_lib.dfo import make_quadratic, model_based
    >>> obj = make_quadratic(dim=4, seed=0)
    >>> trace = model_based(obj, 2000, n_runs=5, seed=0)
    >>> round(float(trace.gap[:, -1].max()), 4)  # suboptimality after 2,000 samples, worst of 5 runs
    0.0
    """
    _check_problem(obj)
    budget = check_positive_int(budget, "budget")
    n_runs = check_positive_int(n_runs, "n_runs")
    growth = check_real(growth, "growth", low=1.0, low_open=True)
    rng = as_rng(seed)
    grid = [0]
    while grid[-1] < budget:
        grid.append(min(budget, max(grid[-1] + 1, int(np.ceil(grid[-1] * growth)))))
    x = np.tile(np.asarray(obj.start, dtype=float), (n_runs, 1))
    record = [obj.gap(x)]
    settling = _Settling(record[0], stop_below)
    drawn = obj.sample(rng, (n_runs, 0))
    for n in grid[1:]:
        drawn = np.concatenate([drawn, obj.sample(rng, (n_runs, n - drawn.shape[1]))], axis=1)
        x = obj.fit(drawn, warm=x)
        record.append(obj.gap(x))
        if stop_below is not None and np.all(settling.update(float(n), record[-1])):
            break
    return Trace(np.array(grid[: len(record)], dtype=float), np.stack(record, axis=1))


#: The methods compared in the chapter: name -> (runner, family), the runners being
#: :func:`model_based`, :func:`local_model`, :func:`reinforce`, :func:`random_search` and :func:`cma_es`.
#:
#: :meta hide-value:
METHODS = {
    "model known (CE)": (model_based, "ce"),
    "local model (CE)": (local_model, "ce"),
    "REINFORCE": (reinforce, "rl"),
    "random search (ARS)": (random_search, "rl"),
    "CMA-ES": (cma_es, "rl"),
}
#: The methods of the dimension sweeps. CMA-ES runs in its own sweep over :data:`CMA_DIMS`: its strategy
#: decomposes a d x d covariance every iteration up to d = 64 at least, and at d = 64 the tuned sweep alone
#: (nine settings on eight tuning seeds, then twenty seeds) costs about a minute and a half of one core.
SWEEP_METHODS = ("model known (CE)", "local model (CE)", "REINFORCE", "random search (ARS)")
#: The dimensions of the CMA-ES sweep (a subset of the quadratic sweep's).
CMA_DIMS = (2, 4, 8, 16, 32)

#: Objective builders by name: ``"quadratic"`` is :func:`make_quadratic`, ``"logistic"`` :func:`make_logistic`.
#:
#: :meta hide-value:
PROBLEMS = {"quadratic": make_quadratic, "logistic": make_logistic}


def problem_instance(problem: str, dim: int):
    """The fixed instance of ``problem`` ("quadratic" or "logistic") that the sweeps use at ``dim``."""
    if problem not in PROBLEMS:
        raise ValueError(f"problem must be one of {sorted(PROBLEMS)}, got {problem!r}")
    return PROBLEMS[problem](dim, seed=[dim, 2026])
