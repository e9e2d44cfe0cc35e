"""The same seeds give the same numbers across x86-64 processors: one numerical mode for ce_lib.

numpy and torch pick their arithmetic by the processor they run on. MKL (torch's matrix products)
dispatches on the instruction set and on the vendor; torch's own kernels (``ATen``) and oneDNN
(some of torch's element-wise and neural-network operations) are compiled once per instruction set
and chosen at run time; numpy has AVX-512 versions of ``exp``, ``log``, ``tanh``, ... that round
differently from the AVX2 ones; OpenBLAS (numpy's and scipy's linear algebra) picks kernels by the
processor's family. Each choice moves the last bits of a result, and an RL run is chaotic: one bit
in one matrix product changes an action a few hundred steps later, and from there the whole run.

Importing ``ce_lib`` therefore pins every one of these choices to a path that every x86-64
processor with AVX2 and FMA runs the same way (Intel since 2013, AMD since 2015):

- MKL, torch's BLAS: ``MKL_CBWR=COMPATIBLE``, the one branch Intel documents as reproducible on
  Intel *and* non-Intel processors;
- torch's own kernels: ``ATEN_CPU_CAPABILITY=avx2``, their AVX2 build, also on AVX-512 machines;
- oneDNN (GELU, for one): ``ONEDNN_MAX_CPU_ISA=AVX2``;
- numpy's own loops: ``NPY_DISABLE_CPU_FEATURES`` names its AVX-512 targets (on machines that have
  them), so that the AVX2 loops run;
- OpenBLAS, numpy's and scipy's linear algebra: ``OPENBLAS_CORETYPE=Haswell``, its AVX2 kernels;
  and ``OPENBLAS_NUM_THREADS=1``. An OpenBLAS started with one thread adds a long matrix product (a
  least-squares fit's normal equations over a few thousand rows, for one) in another order than one
  started with several -- even when the latter is later limited to one thread -- so without this pin
  the last bits followed the machine's number of cores: the process's own OpenBLAS starts with one
  thread per core, and joblib's workers with the cores divided by the workers.

Results then depend on the seeds and the library versions, not on the processor or its number of
cores -- the instruction-set paths checked across
Intel processors with and without AVX-512. One exception is known: an AMD EPYC processor (Zen, AVX2)
gives the same bits for the PPO and stable-baselines3 runs and numpy's functions, but not for the
reasoning chapter's transformer, with every path above in force (the kernel responsible is not yet
found). :func:`ce_lib.stored.arithmetic` fingerprints both kinds of computation, and stored runs are
claimed to come back bit for bit only where the fingerprints agree. They can still
depend on the number of threads where a function leaves that to the caller (``n_threads``);
the book's experiments fix it. On ARM (Apple silicon, Graviton) torch uses another BLAS and none
of this applies: numbers there may differ in the last bits, and from there in a whole RL run.

The mode is set in environment variables when ``ce_lib`` is imported, so it reaches every
process started afterwards (joblib's workers; under the tests, the book build's notebook kernels), and
it takes effect in this process as long as numpy and torch have not done their first computation
yet: import ``ce_lib`` first. :func:`status` says what is in force and why not, when it is not.
``CE_LIB_NUMERICS=native`` (set before importing ce_lib) leaves every library on its fastest
path for this processor: faster on AVX-512 machines, and not reproducible across processors.
"""

from __future__ import annotations

import ctypes
import os
import sys
from importlib import metadata
from pathlib import Path
from typing import NamedTuple

__all__ = ["MODE_VARIABLE", "SETTINGS", "NumericalMode", "pin", "status", "wanted"]

#: Environment variable choosing the mode: ``reproducible`` (the default) or ``native``.
MODE_VARIABLE = "CE_LIB_NUMERICS"

#: The settings of the reproducible mode (numpy's list of disabled features is added where the
#: processor has AVX-512, in the spelling of the installed numpy).
SETTINGS = {
    "MKL_CBWR": "COMPATIBLE",
    "ATEN_CPU_CAPABILITY": "avx2",
    "ONEDNN_MAX_CPU_ISA": "AVX2",
    "OPENBLAS_CORETYPE": "Haswell",
    "OPENBLAS_NUM_THREADS": "1",
}

# MKL's branch codes (mkl_cbwr.h): what mkl_cbwr_get(MKL_CBWR_BRANCH) returns.
_MKL_BRANCHES = {1: "OFF", 2: "AUTO", 3: "COMPATIBLE", 4: "SSE2", 6: "SSSE3", 7: "SSE4_1", 8: "SSE4_2",
                 9: "AVX", 10: "AVX2", 12: "AVX512", 14: "AVX512_E1"}
_MKL_COMPATIBLE = 3


class NumericalMode(NamedTuple):
    """What :func:`status` found: the mode asked for and whether every library follows it."""

    mode: str  #: "reproducible" or "native", from ``CE_LIB_NUMERICS``
    reproducible: bool  #: True when every path below is the pinned one (or not loaded yet)
    paths: dict  #: library -> the path it uses (or will use once loaded)
    problems: tuple  #: one sentence per library that is not on the pinned path, and why

    def describe(self) -> str:
        """One line for a log or a test message."""
        head = f"numerics {self.mode}: " + ", ".join(f"{k} {v}" for k, v in self.paths.items())
        return head + ("" if not self.problems else " -- not reproducible: " + "; ".join(self.problems))


def _cpu_flags() -> set[str] | None:
    """The processor's feature flags (Linux), or None where they cannot be read."""
    try:
        for line in Path("/proc/cpuinfo").read_text().splitlines():
            if line.startswith("flags"):
                return set(line.split(":", 1)[1].split())
    except OSError:
        return None
    return None


def _numpy_avx512_features() -> str:
    """numpy's names for its AVX-512 dispatch targets, in the installed numpy's spelling."""
    try:
        major, minor = (int(p) for p in metadata.version("numpy").split(".")[:2])
    except (metadata.PackageNotFoundError, ValueError):
        return ""
    if (major, minor) >= (2, 4):
        return "X86_V4 AVX512_ICL AVX512_SPR"
    return "AVX512F AVX512CD AVX512_SKX AVX512_CLX AVX512_CNL AVX512_ICL AVX512_SPR"


def _mode() -> str:
    mode = os.environ.get(MODE_VARIABLE, "reproducible").strip().lower() or "reproducible"
    if mode not in ("reproducible", "native"):
        raise ValueError(f"{MODE_VARIABLE} must be 'reproducible' or 'native', got {mode!r}")
    return mode


def wanted() -> dict:
    """The environment the reproducible mode sets on this processor (empty in native mode)."""
    if _mode() == "native":
        return {}
    flags = _cpu_flags()
    if flags is not None and not {"avx2", "fma"} <= flags:
        # No AVX2: forcing AVX2 code would crash or be ignored. MKL's COMPATIBLE branch and OpenBLAS's one
        # thread still hold.
        return {k: SETTINGS[k] for k in ("MKL_CBWR", "OPENBLAS_NUM_THREADS")}
    out = dict(SETTINGS)
    if flags is not None and "avx512f" in flags and _numpy_avx512_features():
        out["NPY_DISABLE_CPU_FEATURES"] = _numpy_avx512_features()
    return out


def _mkl_library():
    """torch's MKL (linked into libtorch_cpu), or None where torch has none (e.g. on ARM)."""
    torch = sys.modules.get("torch")
    if torch is None:
        return None
    for name in ("libtorch_cpu.so", "libtorch_cpu.dylib"):
        path = Path(torch.__file__).parent / "lib" / name
        if path.exists():
            try:
                lib = ctypes.CDLL(str(path))
                lib.mkl_serv_cbwr_get  # noqa: B018 - raises AttributeError when MKL is absent
                return lib
            except (OSError, AttributeError):
                return None
    return None


def _openblas_info() -> list[dict]:
    """threadpoolctl's reading of every OpenBLAS loaded in this process (numpy's, scipy's), or []."""
    try:
        from threadpoolctl import threadpool_info
    except ImportError:
        return []
    return [info for info in threadpool_info() if info.get("internal_api") == "openblas"]


def _openblas_kernel() -> str:
    """The kernel family numpy's OpenBLAS runs (threadpoolctl's reading), or 'unknown'."""
    for info in _openblas_info():
        if "numpy" in info.get("filepath", ""):
            return str(info.get("architecture", "unknown"))
    return "unknown"


def _openblas_threads() -> str:
    """The threads the loaded OpenBLAS libraries start their products with (the largest), or 'unknown'."""
    counts = [int(info["num_threads"]) for info in _openblas_info() if "num_threads" in info]
    return str(max(counts)) if counts else "unknown"


def pin() -> NumericalMode:
    """Put numpy, OpenBLAS, MKL, ATen and oneDNN on the reproducible path (called on import).

    Sets the environment (for this process and every process it starts) and, where torch is
    already imported, asks MKL for its COMPATIBLE branch directly. Libraries that have already
    done their first computation keep the path they chose; :func:`status` names them.
    """
    env = wanted()
    os.environ.update(env)
    lib = _mkl_library()
    if lib is not None and "MKL_CBWR" in env:
        lib.mkl_serv_cbwr_set(_MKL_COMPATIBLE)  # refused (harmlessly) once MKL has started
    return status()


def status() -> NumericalMode:
    """The numerical paths in force in this process, and whether they are the pinned ones."""
    mode, env = _mode(), wanted()
    paths, problems = {}, []

    def check(lib, actual, pinned, why_not):
        paths[lib] = actual
        if mode == "reproducible" and pinned is not None and actual != pinned:
            problems.append(f"{lib} uses {actual}, not {pinned}: {why_not}")

    late = "it was initialized before ce_lib was imported"
    torch = sys.modules.get("torch")
    lib = _mkl_library()
    if lib is not None:
        branch = _MKL_BRANCHES.get(lib.mkl_serv_cbwr_get(1), "other")
        check("MKL", branch, env.get("MKL_CBWR"), late)
    else:
        paths["MKL"] = "not loaded" if torch is None else "absent"
    if torch is not None:
        check("ATen", torch.backends.cpu.get_cpu_capability(), env.get("ATEN_CPU_CAPABILITY", "").upper() or None, late)
    else:
        paths["ATen"] = "not loaded"
    paths["oneDNN"] = os.environ.get("ONEDNN_MAX_CPU_ISA", "processor's best")
    np_mod = sys.modules.get("numpy")
    if np_mod is not None and "NPY_DISABLE_CPU_FEATURES" in env:
        try:
            from numpy._core._multiarray_umath import __cpu_features__ as feats
        except ImportError:  # numpy < 2
            from numpy.core._multiarray_umath import __cpu_features__ as feats
        on = [f for f in env["NPY_DISABLE_CPU_FEATURES"].split() if feats.get(f)]
        check("numpy", "AVX-512 loops" if on else "AVX2 loops", "AVX2 loops", late)
    else:
        paths["numpy"] = "not loaded" if np_mod is None else "processor's best"
    if np_mod is not None:
        check("OpenBLAS", _openblas_kernel(), env.get("OPENBLAS_CORETYPE"), late)
        check("OpenBLAS threads", _openblas_threads(), env.get("OPENBLAS_NUM_THREADS"),
              "it was started before ce_lib was imported, or its threads were set since")
    else:
        paths["OpenBLAS"] = paths["OpenBLAS threads"] = "not loaded"
    if mode == "reproducible" and "ATEN_CPU_CAPABILITY" not in env:
        problems.append("this processor has no AVX2: only MKL's branch and OpenBLAS's threads are pinned")
    return NumericalMode(mode, mode == "reproducible" and not problems, paths, tuple(problems))
