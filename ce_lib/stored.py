"""Stored runs: long computations made once, kept in ``ce_lib/data`` with what made them, and refused
when that has changed.

Some experiments cost more than a chapter may take to execute (the deep-RL agents of
:ref:`ch-deep-rl`, the PPO runs of :ref:`ch-ppo`). Such a study runs them once with a command
(``python -m ce_lib.studies.<chapter> generate``) and stores, in one JSON file, the runs together with

- ``settings``: everything the study's runs depend on besides the code (its settings, budgets,
  targets, evaluation protocol), as JSON;
- ``versions``: the versions of the libraries that compute them;
- ``numerics``: the numerical mode of :mod:`ce_lib.numerics` they were made in, the processor, and
  the fingerprints of its arithmetic (:func:`arithmetic`);
- ``command``: the command that remakes them.

:func:`load` refuses a file whose settings differ from the current ones, naming what changed and the
command to run; :func:`exact_rerun_expected` says whether rerunning a stored run here must give its
numbers bit for bit. Each study's tests rerun the start of stored runs and compare: that is what ties
the stored numbers to the code.
"""
from __future__ import annotations

import json
import os
import tempfile
from importlib import resources
from pathlib import Path

import numpy as np

__all__ = ["jsonable", "decode", "differences", "versions", "numerics_record", "write", "load",
           "exact_rerun_expected", "check_output_path", "generate_args", "generate_cli", "KERNELS",
           "REFERENCE_ARITHMETIC", "arithmetic", "processor"]

#: The kinds of computation whose arithmetic a stored run can depend on, each fingerprinted by a short
#: run of the library's own learner (:func:`arithmetic`): ``"mlp"`` -- eight PPO updates of a small
#: actor-critic on CartPole (one thread); ``"transformer"`` -- fifteen pretraining steps of the reasoning
#: chapter's transformer (two threads: batched matrix products, attention, GELU, layer norm).
KERNELS = ("mlp", "transformer")

#: The fingerprints on the processors that made the book's stored runs, in the reproducible mode with
#: torch 2.13.0 and numpy 2.4.6 (``tests/test_numerics.py`` requires them wherever they are expected).
REFERENCE_ARITHMETIC = {"mlp": "4300cbb57abc8da8", "transformer": "681b6a57a1bd1f20"}

_ARITHMETIC: dict = {}


def _fingerprint(*arrays) -> str:
    import hashlib

    h = hashlib.sha256()
    for a in arrays:
        h.update(np.ascontiguousarray(np.asarray(a, dtype=np.float64)).tobytes())
    return h.hexdigest()[:16]


def arithmetic(kernels=KERNELS) -> dict:
    """Fingerprints of how this process rounds each kind of computation in ``kernels`` (see :data:`KERNELS`).

    Two processors whose fingerprints agree gave the same bits on those computations; where they differ,
    a stored run that uses such kernels cannot be made again bit for bit here, whatever the numerical mode
    (the pinned mode of :mod:`ce_lib.numerics` removes the instruction-set differences it knows of, and an
    AMD EPYC processor was seen to round the transformer's training differently from the Intel ones that
    made the stored runs all the same). Computed once per process (about 3 seconds for ``"mlp"``).
    """
    from importlib import import_module

    from .experiments import torch_threads

    if isinstance(kernels, str) or not isinstance(kernels, (tuple, list)) or not kernels \
            or any(k not in KERNELS for k in kernels):
        raise ValueError(f"kernels must be a non-empty tuple of names from {KERNELS}, got {kernels!r}")
    for k in kernels:
        if k in _ARITHMETIC:
            continue
        # The learners are imported by name, here only: they sit above this module, and the fingerprint is
        # a property of the processor, not of a chapter's results -- a static import would make the book
        # re-execute every chapter with stored runs whenever a learner is edited.
        if k == "mlp":
            ppo = import_module("ce_lib.ppo")

            with torch_threads(1):
                res = ppo.train("CartPole-v1", 2048, 0, ppo.PPOConfig())
            _ARITHMETIC[k] = _fingerprint(res.returns, *[p.detach().numpy() for p in res.model.parameters()])
        else:
            reasoning = import_module("ce_lib.reasoning")

            pre = reasoning.pretrain(reasoning.AdditionTask(n_digits=2), [0], steps=15, n_threads=2)
            _ARITHMETIC[k] = _fingerprint(pre.loss, *[p.detach().numpy() for p in pre.model.parameters()])
    return {k: _ARITHMETIC[k] for k in kernels}


def processor() -> str:
    """The processor's model name (Linux: from ``/proc/cpuinfo``), for the record beside stored runs."""
    import platform

    try:
        for line in Path("/proc/cpuinfo").read_text().splitlines():
            if line.startswith("model name"):
                return line.split(":", 1)[1].strip()
    except OSError:
        pass
    return platform.processor() or platform.machine() or "unknown"


def jsonable(x):
    """``x`` with numpy numbers and arrays as Python numbers and lists, tuples as lists, and non-finite
    floats as the strings ``"inf"``, ``"-inf"`` and ``"nan"`` (JSON has none)."""
    if isinstance(x, np.ndarray):
        return jsonable(x.tolist())
    if isinstance(x, np.generic):
        return jsonable(x.item())
    if isinstance(x, float) and not np.isfinite(x):
        return "nan" if np.isnan(x) else ("inf" if x > 0 else "-inf")
    if isinstance(x, dict):
        return {str(k): jsonable(v) for k, v in x.items()}
    if isinstance(x, (list, tuple)):
        return [jsonable(v) for v in x]
    return x


_SPECIAL = {"inf": np.inf, "-inf": -np.inf, "nan": np.nan}


def decode(x):
    """The inverse of :func:`jsonable` for the non-finite floats (containers come back as dicts and lists)."""
    if isinstance(x, str) and x in _SPECIAL:
        return _SPECIAL[x]
    if isinstance(x, dict):
        return {k: decode(v) for k, v in x.items()}
    if isinstance(x, list):
        return [decode(v) for v in x]
    return x


def differences(stored, current, where: str = "settings") -> list[str]:
    """Where two JSON values differ, as dotted paths (``settings.tasks.Pendulum-v1``)."""
    if isinstance(stored, dict) and isinstance(current, dict):
        out = []
        for k in sorted(set(stored) | set(current)):
            out += differences(stored.get(k), current.get(k), f"{where}.{k}")
        return out
    return [] if stored == current else [where]


def versions(packages=("torch", "gymnasium", "numpy")) -> dict:
    """The installed versions of ``packages`` (importable module names), by name."""
    from importlib.metadata import PackageNotFoundError, version

    if isinstance(packages, str) or not isinstance(packages, (tuple, list)) or not all(
            isinstance(p, str) for p in packages):
        raise TypeError(f"packages must be a tuple or list of package names, got {packages!r}")
    names = {"stable_baselines3": "stable-baselines3"}
    out = {}
    for p in packages:
        try:
            out[names.get(p, p)] = version(names.get(p, p))
        except PackageNotFoundError:
            raise ValueError(f"packages: {p!r} is not installed") from None
    return out


def numerics_record() -> dict:
    """The numerical mode in force (see :mod:`ce_lib.numerics`), the processor and the fingerprints of its
    arithmetic (:func:`arithmetic`), as stored beside the runs."""
    from . import numerics

    mode = numerics.status()
    return {"mode": mode.mode, "reproducible": mode.reproducible, "paths": mode.paths, "processor": processor(),
            "arithmetic": arithmetic()}


def check_output_path(path) -> Path:
    """``path`` as a :class:`~pathlib.Path` once its folder exists and is writable -- checked before
    hours of runs, not after."""
    if not isinstance(path, (str, os.PathLike)):
        raise TypeError(f"path must be a file path, got {type(path).__name__}")
    folder = Path(path).resolve().parent
    if not folder.is_dir() or not os.access(folder, os.W_OK):
        raise ValueError(f"path: the folder {str(folder)!r} does not exist or is not writable")
    return Path(path)


def write(path, *, settings: dict, runs: dict, command: str, packages=("torch", "gymnasium", "numpy")) -> dict:
    """Write ``runs`` with ``settings``, the versions of ``packages``, the numerical mode and
    ``command`` to ``path`` as JSON, whole or not at all (a temporary file renamed into place).
    Returns what was written, as :func:`load` would read it back."""
    path = check_output_path(path)
    for name, value in (("settings", settings), ("runs", runs)):
        if not isinstance(value, dict):
            raise TypeError(f"{name} must be a dict, got {type(value).__name__}")
        try:
            json.dumps(jsonable(value))
        except (TypeError, ValueError) as err:
            raise TypeError(f"{name} must hold only numbers, strings, lists and dicts: {err}") from None
    if not isinstance(command, str) or not command.strip():
        raise ValueError(f"command must be the command that remakes the runs, got {command!r}")
    data = jsonable({"settings": settings, "versions": versions(packages), "numerics": numerics_record(),
                     "command": command, "runs": runs})
    fd, tmp = tempfile.mkstemp(dir=path.resolve().parent, prefix=".tmp-", suffix=".json")
    try:
        with os.fdopen(fd, "w") as f:
            json.dump(data, f, indent=None, separators=(",", ":"), sort_keys=True)
            f.write("\n")
        os.chmod(tmp, 0o644)  # mkstemp makes the file private; the stored runs are for everyone
        os.replace(tmp, path)
    except BaseException:
        Path(tmp).unlink(missing_ok=True)
        raise
    return decode(data)


def load(name: str, settings: dict, command: str, path=None, what: str = "stored runs") -> dict:
    """The stored file ``ce_lib/data/<name>`` (or ``path``), checked against the current ``settings``:
    a ``ValueError`` names what changed since the runs were made and says to remake them with ``command``."""
    if not isinstance(name, str) or not name:
        raise TypeError(f"name must be a file name inside ce_lib/data, got {name!r}")
    if not isinstance(settings, dict):
        raise TypeError(f"settings must be a dict, got {type(settings).__name__}")
    if path is None:
        file = resources.files("ce_lib").joinpath("data", name)
        if not file.is_file():
            raise ValueError(f"name: there is no stored file {name!r} in ce_lib/data; make it with `{command}`")
    else:
        if not isinstance(path, (str, os.PathLike)):
            raise TypeError(f"path must be a file path or None, got {type(path).__name__}")
        file = Path(path)
        if not file.is_file():
            raise ValueError(f"path: there is no file {str(path)!r}")
    try:
        data = json.loads(file.read_text())
    except json.JSONDecodeError as err:
        raise ValueError(f"{'path' if path is not None else 'name'}: the file is not JSON ({err})") from None
    if not isinstance(data, dict) or "runs" not in data:
        raise ValueError(f"{'path' if path is not None else 'name'}: the file holds no stored runs")
    changed = differences(data.get("settings"), json.loads(json.dumps(jsonable(settings))))
    if changed:
        raise ValueError(f"the {what} were made with other settings than ce_lib's current ones ("
                         + ", ".join(changed[:8]) + (", ..." if len(changed) > 8 else "") + " changed); "
                         f"regenerate them with `{command}`")
    return decode(data)


def exact_rerun_expected(data: dict, packages=("torch", "gymnasium", "numpy"), kernels=KERNELS) -> tuple[bool, str]:
    """Whether rerunning a stored run here must give its numbers bit for bit, and why (or why not).

    Bit-identity holds when the runs were made in ce_lib's reproducible numerical mode, this process
    runs in it too, the versions of ``packages`` are the same, and this processor rounds the kinds of
    computation the runs use (``kernels``, see :data:`KERNELS`) as the one that made them did
    (:func:`arithmetic`). Runs made in the native mode were made on one processor's own arithmetic:
    another processor can differ in the last bits and, from there, in the whole run.
    """
    from . import numerics

    if not isinstance(data, dict):
        raise TypeError(f"data must be the dict that load returns, got {type(data).__name__}")
    if isinstance(kernels, str) or not isinstance(kernels, (tuple, list)) or not kernels \
            or any(k not in KERNELS for k in kernels):
        raise ValueError(f"kernels must be a non-empty tuple of names from {KERNELS}, got {kernels!r}")
    made, now = data.get("numerics"), numerics.status()
    if not made or made.get("mode") != "reproducible" or not made.get("reproducible"):
        return False, ("the stored runs were made on one processor's own arithmetic (no reproducible numerical "
                       "mode recorded); this run: " + now.describe())
    if not now.reproducible:
        return False, "this process is not in the reproducible numerical mode: " + now.describe()
    if data.get("versions") != versions(packages):
        return False, f"library versions differ: stored {data.get('versions')}, here {versions(packages)}"
    there = made.get("arithmetic") or {}
    missing = [k for k in kernels if k not in there]
    if missing:
        return False, f"the stored runs do not record how their processor rounds {', '.join(missing)} computations"
    here = arithmetic(kernels)
    differ = [k for k in kernels if here[k] != there[k]]
    if differ:
        return False, (f"this processor ({processor()}) rounds {' and '.join(differ)} computations differently from "
                       f"the one that made the stored runs ({made.get('processor', 'not recorded')}), although both run "
                       f"in the reproducible mode (fingerprints {', '.join(f'{here[k]} here, {there[k]} there' for k in differ)}): "
                       f"the runs are read, not made again bit for bit, on this processor")
    return True, "same numerical mode, library versions and arithmetic: " + now.describe()


def generate_args(path, n_jobs, name: str) -> tuple[Path, int]:
    """A study's ``generate(path, n_jobs)`` arguments, checked before any run: ``path`` (default: the
    library's own ``ce_lib/data/<name>``) in a writable folder, ``n_jobs`` a positive count or -1."""
    if path is None:
        path = Path(__file__).parent / "data" / name
    path = check_output_path(path)
    if isinstance(n_jobs, bool) or not isinstance(n_jobs, int) or n_jobs == 0 or n_jobs < -1:
        raise ValueError(f"n_jobs must be a positive integer or -1 (all cores), got {n_jobs!r}")
    return path, n_jobs


def generate_cli(argv, *, prog: str, what: str, name: str, generate, extra: dict | None = None) -> None:
    """The command line ``python -m <prog> generate [--out PATH] [--jobs N]`` of a study that stores runs:
    the arguments are checked first (errors name ``--out`` and ``--jobs``), then ``generate(out, jobs)``
    makes ``what`` and writes them. A study with more stored files gives each its own command in
    ``extra``: ``{command: (what, name, generate)}``."""
    import argparse
    import re

    commands = {"generate": (what, name, generate), **(extra or {})}
    parser = argparse.ArgumentParser(prog=prog, description=f"Make {what} and store them.")
    sub = parser.add_subparsers(dest="command", required=True)
    for command, (w, n, _) in commands.items():
        g = sub.add_parser(command, help=f"make {w} and write the JSON file")
        g.add_argument("--out", default=None, help=f"where to write (default: ce_lib/data/{n})")
        g.add_argument("--jobs", type=int, default=2, help="processes (-1: all cores)")
    args = parser.parse_args(argv)
    _, n, make = commands[args.command]
    try:
        generate_args(args.out, args.jobs, n)
    except (ValueError, TypeError) as err:  # named as the caller wrote them, before any run
        parser.error(re.sub(r"^(path|n_jobs)\b", lambda m: {"path": "--out", "n_jobs": "--jobs"}[m.group(1)], str(err)))
    make(args.out, args.jobs)
