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


def cma_es(obj, budget: int, *, explore, popsize_factor: int = 1, n_runs: int = 1, seed: Seed = 0,
           stop_below: float | None = None, stop_rule: StopRule | None = None, n_checkpoints: int = 120) -> Trace:
    """CMA-ES as a value-only search: Hansen's reference implementation (the ``cma`` package), told
    only :math:`F(x; \\xi)` of the points it samples.

    Each iteration asks the evolution strategy for :math:`\\lambda` points (one fresh sample each), tells it
    their values, and reports the mean of its search distribution, the strategy's estimate of the
    minimizer. The population is :math:`\\lambda = f\\,(4 + \\lfloor 3 \\ln d \\rfloor)`, ``popsize_factor``
    times the package's default (larger populations are the documented remedy for noisy objectives), and
    the initial step size :math:`\\sigma_0` is ``explore``. The package's termination criteria are
    switched off (the budget decides), and each run draws its normal variates from its own generator
    split from ``seed`` (the package's ``randn`` option), so nothing touches numpy's global state.

    Parameters
    ----------
    obj : StochasticQuadratic or StochasticLogistic
    budget : int
        Samples allowed per run.
    explore : float or array of shape (n_runs,)
        Initial step size :math:`\\sigma_0`.
    popsize_factor : int
        Population size as a multiple of the default.
    n_runs, seed, stop_below, stop_rule
        As in :func:`reinforce`; runs advance in lockstep, one strategy object each.

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
    import cma

    budget, n_runs, _, sigma0 = _setup(obj, budget, n_runs, 1.0, explore)
    factor = check_positive_int(popsize_factor, "popsize_factor")
    lam = factor * (4 + int(3 * np.log(obj.dim)))
    if lam > budget:
        raise ValueError(f"budget ({budget}) is below the {lam} samples one iteration of cma_es needs")
    rng = as_rng(seed)
    opts = {"popsize": lam, "seed": float("nan"), "verbose": -9, "verb_log": 0, "verb_disp": 0,
            "tolfun": 0, "tolfunhist": 0, "tolfunrel": 0, "tolx": 0, "tolstagnation": int(1e12),
            "tolflatfitness": int(1e12), "tolconditioncov": np.inf, "maxiter": np.inf, "maxfevals": np.inf}

    def normals(g):
        return lambda n, d: g.standard_normal((n, d))

    strategies = [cma.CMAEvolutionStrategy(np.asarray(obj.start, dtype=float), float(sigma0[i, 0]),
                                           {**opts, "randn": normals(g)}) for i, g in enumerate(rng.spawn(n_runs))]
    n_iter = budget // lam
    checks = np.unique(np.round(np.geomspace(1, n_iter, n_checkpoints)).astype(int))
    x = np.tile(np.asarray(obj.start, dtype=float), (n_runs, 1))
    gap0 = obj.gap(x)
    record = [gap0]
    settling = _Settling(gap0, stop_below)
    done = np.zeros(n_runs, dtype=bool)  # settled runs are frozen: their count can no longer change
    rule = stop_rule or _stop_when_all_settled
    k = 0
    for t in range(1, n_iter + 1):
        xi = obj.sample(rng, (n_runs, lam))
        for i in np.flatnonzero(~done):
            X = np.asarray(strategies[i].ask())
            strategies[i].tell(X, obj.loss(X, xi[i]))
            x[i] = strategies[i].mean
        if t != checks[k]:
            continue
        k += 1
        g = np.where(np.all(np.isfinite(x), axis=1), obj.gap(x), np.inf)
        record.append(g)
        if stop_below is not None:
            settled = settling.update(float(t * lam), g)
            done = settled.copy()
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
#: The methods of the dimension sweeps. CMA-ES runs in its own sweep over :data:`CMA_DIMS`: the reference
#: implementation steps one run at a time in Python (several milliseconds per iteration at d = 32, with
#: its covariance update and decompositions), and at d = 128 one run to the budget takes minutes.
SWEEP_METHODS = ("model known (CE)", "local model (CE)", "REINFORCE", "random search (ARS)")
#: The dimensions of the CMA-ES sweep (a subset of the quadratic sweep's).
CMA_DIMS = (2, 4, 8, 16)

#: Objective builders by name: ``"quadratic"`` is :func:`make_quadratic`, ``"logistic"`` :func:`make_logistic`.
#:
#: :meta hide-value:
PROBLEMS = {"quadratic": make_quadratic, "logistic": make_logistic}


def problem_instance(problem: str, dim: int):
    """The fixed instance of ``problem`` ("quadratic" or "logistic") that the sweeps use at ``dim``."""
    if problem not in PROBLEMS:
        raise ValueError(f"problem must be one of {sorted(PROBLEMS)}, got {problem!r}")
    return PROBLEMS[problem](dim, seed=[dim, 2026])
