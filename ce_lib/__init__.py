"""ce_lib: certainty equivalence versus reinforcement learning, measured.

The library behind the executable book. One module per setting (``ce_lib.dfo``, ...) with its
problems, environments and learners, plus the shared experiment machinery
(:mod:`ce_lib.experiments`), plotting style (:mod:`ce_lib.plotting`) and the scoreboard
(:mod:`ce_lib.scoreboard`, also ``python -m ce_lib scoreboard``). Each chapter's study -- its
settings and experiments -- is a module of :mod:`ce_lib.studies`, which also holds the one registry
of the chapters.

Importing ce_lib pins numpy's and torch's arithmetic to paths that every x86-64 processor runs the
same way (:mod:`ce_lib.numerics`), so that the same seeds give the same numbers on any machine:
import it before numpy and torch compute anything.
"""

import warnings as _warnings

from . import numerics as _numerics

__version__ = "0.1.0"

_mode = _numerics.pin()
if _mode.mode == "reproducible" and not _mode.reproducible:
    _warnings.warn(f"ce_lib: results may differ from other machines' in the last bits ({_mode.describe()}); "
                   "import ce_lib before numpy and torch compute anything", RuntimeWarning, stacklevel=2)
