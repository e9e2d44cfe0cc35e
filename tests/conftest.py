import sys
from pathlib import Path

import pytest

# First, as every chapter does: pins numpy's and torch's arithmetic (ce_lib.numerics) for this process
# and the processes it starts (the book build's kernels among them).
import ce_lib  # noqa: F401, E402

ROOT = Path(__file__).resolve().parents[1]


@pytest.fixture()
def tmp_cache(tmp_path, monkeypatch):
    """A private result cache for one test."""
    folder = tmp_path / "cache"
    monkeypatch.setenv("CE_LIB_CACHE", str(folder))
    return folder


@pytest.fixture(scope="session")
def root() -> Path:
    return ROOT


@pytest.fixture(scope="session")
def python() -> str:
    return sys.executable
