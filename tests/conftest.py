import sys
from pathlib import Path

import pytest

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
