"""One plotting style for the whole book.

Certainty-equivalence methods are drawn in cool colours (blues and greens), reinforcement-learning
methods in warm colours (oranges, reds, purples), and a method keeps its colour on every page: the
colour is looked up by name in :data:`METHOD_COLORS`, or derived from the name's hash within its
family for a name the table does not know yet. Curves are medians over seeds with a shaded band
(a quantile range or a bootstrap interval), never a single run.
"""

from __future__ import annotations

import hashlib
from contextlib import contextmanager
from typing import Iterator, NamedTuple

import matplotlib as mpl
import numpy as np

from .experiments import as_float_array, bootstrap_median, censor

__all__ = [
    "CE_PALETTE",
    "COLUMN_PX",
    "FIGURE_MIME",
    "Legibility",
    "METHOD_COLORS",
    "MIN_SCALE",
    "MIN_TEXT_PX",
    "RL_PALETTE",
    "REFERENCE_COLOR",
    "book_style",
    "color_for",
    "figure_legibility",
    "median_band",
    "plot_median_band",
    "plot_scaling",
]

#: Cool colours for certainty-equivalence (model-based) methods.
CE_PALETTE = ("#1f5fa8", "#2a9d8f", "#4cb3d4", "#0b3d6b", "#6a9f3a", "#5e7fd6", "#1b6e4c")
#: Warm colours for reinforcement-learning (model-free, guess-and-check) methods.
RL_PALETTE = ("#d1495b", "#f28e2b", "#b5651d", "#8e3b8e", "#e15759", "#c99a1e")
#: Neutral colour for references (oracles, lower bounds, theory lines).
REFERENCE_COLOR = "#555555"

#: Fixed colours of the methods the book uses, so that a method looks the same on every page.
METHOD_COLORS = {
    # certainty equivalence
    "model known (CE)": CE_PALETTE[0],
    "local model (CE)": CE_PALETTE[1],
    "nominal CE": CE_PALETTE[0],
    "robust CE": CE_PALETTE[1],
    "robust static gain": CE_PALETTE[2],
    "plan on the data's graph": CE_PALETTE[0],
    "sequence model as a model": CE_PALETTE[1],
    "decision transformer": RL_PALETTE[1],
    "UCB": CE_PALETTE[1],
    "Thompson sampling": CE_PALETTE[2],
    "KL-UCB": CE_PALETTE[4],
    "greedy": CE_PALETTE[5],
    "epsilon-greedy": CE_PALETTE[6],
    "plug-in model (CE)": CE_PALETTE[0],
    "CE + optimism": CE_PALETTE[1],
    "CE without optimism": CE_PALETTE[5],
    "CE, structured linear model": CE_PALETTE[0],
    "CE, generic linear model": CE_PALETTE[1],
    "CE, known features + value iteration": CE_PALETTE[0],
    "CE, learned model + MPC": CE_PALETTE[0],
    "CE, learned dynamics + known reward + MPC": CE_PALETTE[1],
    # reinforcement learning
    "greedy least squares": CE_PALETTE[5],
    "LinUCB": CE_PALETTE[1],
    "linear Thompson sampling": CE_PALETTE[2],
    "REINFORCE": RL_PALETTE[0],
    "softmax policy gradient": RL_PALETTE[0],
    "random search (ARS)": RL_PALETTE[1],
    "policy gradient": RL_PALETTE[0],
    "gradient bandit": RL_PALETTE[0],
    "Q-learning": RL_PALETTE[3],
    "PPO": RL_PALETTE[2],
    "SAC": RL_PALETTE[0],
    "TD3": RL_PALETTE[5],
    "DQN": RL_PALETTE[3],
    "no clipping": RL_PALETTE[0],
    "no critic": RL_PALETTE[3],
    "entropy bonus 0.01": RL_PALETTE[1],
    "no advantage normalization": RL_PALETTE[5],
    "LSPI": RL_PALETTE[3],
    "Tsallis-INF": RL_PALETTE[1],
    "EXP3": RL_PALETTE[2],
    "CMA-ES": RL_PALETTE[3],
    "variance-reduced Q-learning": RL_PALETTE[1],
    "optimistic Q-learning": RL_PALETTE[1],
    "natural policy gradient": RL_PALETTE[5],
    "random search (ARS V2-t)": RL_PALETTE[2],
    "fitted Q-iteration": RL_PALETTE[3],
    # reasoning models
    "GRPO-style RL": RL_PALETTE[0],
    "rejection-sampling fine-tuning": CE_PALETTE[1],
    "fine-tuning on program traces": CE_PALETTE[3],
    "power sampling (importance resampling)": CE_PALETTE[0],
    "power sampling, 8 draws": CE_PALETTE[0],
    "power sampling (MCMC), proposal T = 1": CE_PALETTE[2],
    "power sampling (MCMC), proposal T = 0.25": CE_PALETTE[5],
    "best-of-n with the verifier": CE_PALETTE[4],
}

_FAMILIES = {"ce": CE_PALETTE, "rl": RL_PALETTE}


def color_for(name: str, family: str) -> str:
    """Colour of a method: fixed by name when known, else stable within its family's palette.

    Parameters
    ----------
    name : str
        The method's display name.
    family : {"ce", "rl", "reference"}
        Certainty equivalence, reinforcement learning, or a reference line.

    Returns
    -------
    str
        A hex colour.
    """
    if family not in (*_FAMILIES, "reference"):
        raise ValueError(f"family must be 'ce', 'rl' or 'reference', got {family!r}")
    if not isinstance(name, str):
        raise TypeError(f"name must be a method's name (a string), got {name!r}")
    if not name.strip():
        raise ValueError("name must not be empty")
    if family == "reference":
        return REFERENCE_COLOR
    if name in METHOD_COLORS and METHOD_COLORS[name] in _FAMILIES[family]:
        return METHOD_COLORS[name]
    palette = _FAMILIES[family]
    digest = int(hashlib.md5(name.encode()).hexdigest(), 16)
    return palette[digest % len(palette)]


#: Width of the book's text column at a 1280 px wide window, in CSS pixels: a figure wider than
#: this is shrunk to fit, and its text with it.
COLUMN_PX = 690
#: Smallest allowed ratio of displayed to drawn width (a figure drawn twice as wide as the column
#: is shown at half size: the book's multi-panel figures used to be shown at 57-63%).
MIN_SCALE = 0.8
#: Smallest allowed height of any text in a figure as the reader sees it, in CSS pixels (the book's
#: body text is 16 px; below 10 px a legend is hard to read).
MIN_TEXT_PX = 10.0
#: MIME type of the legibility record that :func:`book_style` adds to each figure's output in a
#: notebook, beside the image; the book's renderer ignores it and ``tests/test_book.py`` reads it.
FIGURE_MIME = "application/vnd.ce-lib.figure+json"


class Legibility(NamedTuple):
    """How large a figure and its smallest text appear in the book's text column."""

    width_px: float  # width of the saved image (tight bounding box and its padding), pixels
    scale: float  # displayed width / saved width: min(1, COLUMN_PX / width_px)
    min_font_pt: float  # smallest font size of any visible, non-empty text, points (nan: no text)
    min_text_px: float  # that text's height on screen: min_font_pt * dpi / 72 * scale


def figure_legibility(fig, *, column_px: float = COLUMN_PX, dpi: float | None = None) -> Legibility:
    """Measure how a figure will look once the book shrinks it to the text column.

    The image is saved with a tight bounding box at ``dpi`` (the figure's own by default, as the
    notebook's inline backend does) and shown at most ``column_px`` wide, so a text of ``f``
    points appears

    .. math:: h = f \\cdot \\frac{\\mathrm{dpi}}{72} \\cdot \\min\\left(1, \\frac{w_{\\mathrm{column}}}{w_{\\mathrm{image}}}\\right)

    pixels high. Used by :func:`book_style` and by the book's tests (every chapter's figures).

    Parameters
    ----------
    fig : matplotlib.figure.Figure
    column_px : float
        Width of the text column, CSS pixels.
    dpi : float, optional
        Resolution of the saved image; ``fig.dpi`` when omitted.

    Returns
    -------
    Legibility
    """
    from matplotlib.figure import Figure
    from matplotlib.text import Text

    if not isinstance(fig, Figure):
        raise TypeError(f"fig must be a matplotlib Figure, got {type(fig).__name__}")
    def positive(x, name):
        if isinstance(x, bool) or not isinstance(x, (int, float, np.integer, np.floating)) or not (
                np.isfinite(x) and x > 0):
            raise ValueError(f"{name} must be a positive number, got {x!r}")
        return float(x)

    column_px = positive(column_px, "column_px")
    dpi = positive(fig.dpi if dpi is None else dpi, "dpi")
    renderer = fig.canvas.get_renderer()
    width_in = fig.get_tightbbox(renderer).width + 2 * float(mpl.rcParams["savefig.pad_inches"])
    width_px = width_in * dpi
    scale = min(1.0, column_px / width_px)
    sizes, stack = [], [fig]
    while stack:  # walk the artist tree, skipping everything under a hidden artist
        artist = stack.pop()
        if not artist.get_visible():
            continue
        if isinstance(artist, Text) and artist.get_text().strip():
            sizes.append(artist.get_fontsize())
        stack.extend(artist.get_children())
    min_pt = float(min(sizes)) if sizes else float("nan")  # no text: nothing to read, and no pass
    return Legibility(float(width_px), float(scale), min_pt, float(min_pt * dpi / 72.0 * scale))


def _legibility_record(fig):
    """IPython formatter for :data:`FIGURE_MIME`: the :class:`Legibility` of a figure made in
    :func:`book_style`, as a dict (``None`` for any other figure, which then gets no record)."""
    if not getattr(fig, "_ce_lib_book_style", False):
        return None
    return figure_legibility(fig)._asdict()


def track_figure(fig) -> None:
    """``figure.hooks`` entry of :func:`book_style`: mark the figure, and in a notebook kernel make sure
    that displaying a figure adds its legibility record to the same output as its image.

    The record is one more MIME type of the image's own output (Jupyter, Colab and the book show only
    the image): a separate output beside it would become a second figure in the book, with the
    caption repeated and the figures misnumbered.
    """
    fig._ce_lib_book_style = True
    try:
        from IPython import get_ipython
    except ImportError:  # pragma: no cover - IPython is a dependency of the book, not of ce_lib
        return
    ip = get_ipython()
    if ip is None or not hasattr(ip, "kernel"):
        return
    formatters = ip.display_formatter.formatters
    if FIGURE_MIME not in formatters:
        from IPython.core.formatters import BaseFormatter
        from traitlets import ObjectName, Unicode

        class _LegibilityFormatter(BaseFormatter):
            format_type = Unicode(FIGURE_MIME)
            _return_type = dict
            print_method = ObjectName("_repr_ce_lib_legibility_")

        formatters[FIGURE_MIME] = _LegibilityFormatter(parent=ip.display_formatter)
    from matplotlib.figure import Figure

    formatters[FIGURE_MIME].for_type(Figure, _legibility_record)


@contextmanager
def book_style() -> Iterator[None]:
    """Context manager with the book's matplotlib settings (sizes, grid, no top/right spines).

    Figures created inside it are drawn at 110 dpi; in a notebook kernel each one's output also
    carries a :class:`Legibility` record beside its image (MIME type :data:`FIGURE_MIME`), which the
    book's tests hold to :data:`MIN_SCALE` and :data:`MIN_TEXT_PX`.
    """
    rc = {
        "figure.hooks": ["ce_lib.plotting:track_figure"],
        "figure.figsize": (7.0, 4.2),
        "figure.dpi": 110,
        "savefig.dpi": 110,
        "axes.grid": True,
        "grid.alpha": 0.3,
        "axes.spines.top": False,
        "axes.spines.right": False,
        "axes.titlesize": 11,
        "axes.labelsize": 10,
        "legend.fontsize": 9,
        "legend.frameon": False,
        "lines.linewidth": 2.0,
        "font.family": "DejaVu Sans",
    }
    with mpl.rc_context(rc):
        yield


def median_band(curves, *, band: tuple[float, float] = (0.25, 0.75)):
    """Median and a quantile band across seeds, ignoring runs that are ``nan`` at a point.

    Parameters
    ----------
    curves : array_like, shape (n_seeds, T)
    band : (float, float)
        Lower and upper quantiles of the shaded band.

    Returns
    -------
    (median, lo, hi) : tuple of numpy.ndarray, each of shape (T,)
    """
    y = as_float_array(curves, "curves")
    if y.ndim != 2:
        raise ValueError(f"curves must be 2-d (n_seeds, T), got shape {y.shape}")
    if y.shape[0] == 0:
        raise ValueError("curves must hold at least one run (one row)")
    if (isinstance(band, (str, bytes)) or not hasattr(band, "__len__") or len(band) != 2 or not all(
            isinstance(q, (int, float, np.integer, np.floating)) and not isinstance(q, bool) for q in band)):
        raise TypeError(f"band must be two quantiles (lo, hi), got {band!r}")
    q_lo, q_hi = band
    if not (0.0 <= q_lo < q_hi <= 1.0):
        raise ValueError(f"band must be two quantiles 0 <= lo < hi <= 1, got {band}")
    return (np.nanmedian(y, axis=0), np.nanquantile(y, q_lo, axis=0), np.nanquantile(y, q_hi, axis=0))


def plot_median_band(ax, x, curves, *, name: str, family: str, band=(0.25, 0.75), lo=None,
                     hi=None, marker: str | None = None, linestyle: str = "-", **kwargs):
    """Draw the median over seeds as a line and the spread as a shaded band.

    Either pass ``curves`` of shape (n_seeds, T) (the band is a quantile range), or pass the median
    as ``curves`` of shape (T,) together with ``lo`` and ``hi`` (for example a bootstrap interval).

    Returns
    -------
    matplotlib.lines.Line2D
        The median line (its label is ``name``).
    """
    from matplotlib.axes import Axes

    if not isinstance(ax, Axes):
        raise TypeError(f"ax must be a matplotlib Axes, got {type(ax).__name__}")
    x = as_float_array(x, "x")
    if not np.all(np.isfinite(x)):
        raise ValueError("x must be finite")
    y = as_float_array(curves, "curves")
    if lo is None and hi is None:
        med, lo, hi = median_band(y, band=band)
    elif lo is not None and hi is not None:
        med = y
        lo, hi = as_float_array(lo, "lo"), as_float_array(hi, "hi")
        for label, arr in (("lo", lo), ("hi", hi)):
            if arr.shape != med.shape:
                raise ValueError(f"{label} must have the shape of the median curve {med.shape}, got {arr.shape}")
    else:
        raise ValueError("pass both lo and hi, or neither")
    if med.shape != x.shape:
        raise ValueError(f"x has shape {x.shape} but the curves have length {med.shape}")
    color = color_for(name, family)
    (line,) = ax.plot(x, med, color=color, label=name, marker=marker, linestyle=linestyle, **kwargs)
    ax.fill_between(x, lo, hi, color=color, alpha=0.18, linewidth=0)
    return line



def plot_scaling(ax, xs, hits: dict, families: dict, *, budgets=None, level: float = 0.95,
                 marker: str = "o"):
    """Samples-to-target against a size (dimension, horizon...), one line per method.

    Draws, for each method, the median over seeds with its bootstrap confidence band on log-log
    axes. A seed that missed (``inf``) counts at its budget.

    Parameters
    ----------
    ax : matplotlib.axes.Axes
    xs : array_like, shape (D,)
    hits : dict
        Method name -> array of shape (D, n_seeds).
    families : dict
        Method name -> "ce" or "rl".
    budgets : array_like, shape (D,), optional
        Needed when some seed missed.
    level : float
        Coverage of the bands.
    """
    xs = as_float_array(xs, "xs")
    if not isinstance(hits, dict):
        raise TypeError(f"hits must be a dict: method name -> array of shape (D, n_seeds), got {type(hits).__name__}")
    if not isinstance(families, dict):
        raise TypeError(f"families must be a dict: method name -> 'ce' or 'rl', got {type(families).__name__}")
    if budgets is not None:
        budgets = as_float_array(budgets, "budgets")
        if budgets.shape != xs.shape:
            raise ValueError(f"budgets must have one entry per x ({xs.size}), got shape {budgets.shape}")
    for name, h in hits.items():
        h = as_float_array(h, f"hits[{name!r}]")
        if h.ndim != 2 or h.shape[0] != xs.size:
            raise ValueError(f"hits[{name!r}] must have {xs.size} rows, got shape {h.shape}")
        if name not in families:
            raise ValueError(f"families has no family for {name!r}")
        if budgets is not None:
            h = censor(h, budgets[:, None])
        elif not np.all(np.isfinite(h)):
            raise ValueError(f"hits[{name!r}] has misses (inf): pass budgets to count them at the budget")
        ivs = [bootstrap_median(row, level=level) for row in h]
        med = np.array([iv.median for iv in ivs])
        lo = np.array([iv.lo for iv in ivs])
        hi = np.array([iv.hi for iv in ivs])
        plot_median_band(ax, xs, med, lo=lo, hi=hi, name=name, family=families[name], marker=marker)
    ax.set_xscale("log", base=2)
    ax.set_yscale("log")
