"""The chapters' studies, and the one registry of the book's chapters.

The library (``ce_lib.<setting>``) holds problems, environments and learners a student can reuse.
Each chapter's *study* -- its settings, grids, experiments, headline records and the numbers its
prose glues -- is a module here, named after the chapter's file (``chapters/05_lqr.md`` ->
``ce_lib.studies.lqr``). Studies import the library, never the other way round, and one study
imports another only in reading order (the robust-control study uses the LQR chapter's problems,
the deep-RL study the PPO chapter's runs).

:data:`CHAPTERS` is the only list of the chapters that report results: the scoreboard, the tests
and the README's checks read it. Adding a chapter means its ``.md`` file, a line in ``_toc.yml``, its
study (with a ``headline(n_seeds=None)`` returning scoreboard records), optionally a library module
with tests, and one line here.
"""
from __future__ import annotations

import importlib
from typing import Callable, NamedTuple

__all__ = ["Chapter", "CHAPTERS", "chapter", "headline_function"]


class Chapter(NamedTuple):
    """One chapter of the book that reports results on the scoreboard."""

    key: str  # the scoreboard's name of the chapter ("lqr"), used in records and on the command line
    number: int  # its number in the book
    title: str  # what a reader sees in tables (the chapter's own title, shortened)
    file: str  # its file in chapters/, without ".md" ("05_lqr")
    study: str  # its study, a module of ce_lib.studies ("lqr"); it defines headline(n_seeds=None)


CHAPTERS = (
    Chapter("dfo", 1, "Derivative-free optimization", "01_dfo", "dfo"),
    Chapter("bandits", 2, "Multi-armed bandits", "02_bandits", "bandits"),
    Chapter("contextual", 3, "Contextual bandits", "03_contextual_bandits", "contextual_bandits"),
    Chapter("mdp", 4, "Tabular MDPs", "04_mdps", "mdps"),
    Chapter("lqr", 5, "LQR", "05_lqr", "lqr"),
    Chapter("robust", 6, "Robust CE control", "06_robust_control", "robust_control"),
    Chapter("ppo", 7, "PPO and CE on CartPole and Pendulum", "07_ppo", "ppo"),
    Chapter("deep_rl", 8, "The strongest agents against a learned model", "08_deep_rl", "deep_rl"),
    Chapter("dt", 9, "Decision transformers", "09_decision_transformers", "decision_transformers"),
    Chapter("reasoning", 10, "Reasoning models", "10_reasoning", "reasoning"),
    Chapter("checkers", 11, "Checkers: PPO against search with the rules, given or learned", "11_checkers", "checkers"),
)
"""The chapters with results, in reading order (see the source for the entries).

:meta hide-value:
"""


def chapter(key: str) -> Chapter:
    """The registry's entry for the chapter named ``key`` (``"lqr"``)."""
    for c in CHAPTERS:
        if c.key == key:
            return c
    raise ValueError(f"key must be one of {[c.key for c in CHAPTERS]}, got {key!r}")


def headline_function(key: str) -> Callable[..., list]:
    """The ``headline(n_seeds=None)`` function of chapter ``key``'s study (imported when asked)."""
    return importlib.import_module(f"{__name__}.{chapter(key).study}").headline
