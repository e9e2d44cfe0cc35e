"""ce_lib: certainty equivalence versus reinforcement learning, measured.

The library behind the executable book. One module per setting (``ce_lib.dfo``, ...), plus the
shared experiment machinery (:mod:`ce_lib.experiments`), plotting style (:mod:`ce_lib.plotting`)
and the scoreboard (:mod:`ce_lib.scoreboard`, also ``python -m ce_lib scoreboard``).
"""

__version__ = "0.1.0"
