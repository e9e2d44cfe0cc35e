"""ce_lib.stored: what a stored file holds, how it refuses a change, and that it is written whole."""
import json

import numpy as np
import pytest

from ce_lib import numerics, stored


def test_jsonable_and_decode_round_trip_non_finite_numbers_and_arrays():
    x = {"a": np.array([1.5, np.inf]), "b": (np.int64(3), -np.inf, float("nan")), 4: np.float64(2.25)}
    back = stored.decode(json.loads(json.dumps(stored.jsonable(x))))
    assert back["a"] == [1.5, np.inf] and back["4"] == 2.25
    assert back["b"][:2] == [3, -np.inf] and np.isnan(back["b"][2])


def test_differences_name_dotted_paths():
    assert stored.differences({"a": {"b": 1, "c": 2}}, {"a": {"b": 1, "c": 3}, "d": 0}) == ["settings.a.c", "settings.d"]
    assert stored.differences({"a": [1, 2]}, {"a": [1, 2]}) == []


def test_write_then_load_and_a_changed_setting_is_refused_naming_it_and_the_command(tmp_path):
    path = tmp_path / "runs.json"
    settings = {"budget": 100, "grid": [1, 2]}
    written = stored.write(path, settings=settings, runs={"0": {"hit": np.inf, "curve": np.arange(3.0)}},
                           command="make runs")
    loaded = stored.load("unused", settings, "make runs", path)
    assert loaded == written and loaded["runs"]["0"]["hit"] == np.inf
    assert loaded["numerics"]["mode"] == numerics.status().mode
    with pytest.raises(ValueError, match=r"settings\.budget changed.*`make runs`"):
        stored.load("unused", {**settings, "budget": 101}, "make runs", path)


def test_a_write_that_fails_leaves_nothing_behind(tmp_path):
    with pytest.raises(TypeError, match="runs must hold only"):
        stored.write(tmp_path / "runs.json", settings={}, runs={"x": object()}, command="c")
    assert list(tmp_path.iterdir()) == []


def test_a_rerun_is_exact_only_under_the_recorded_mode_versions_and_arithmetic():
    here = stored.arithmetic()
    made = {"mode": "reproducible", "reproducible": True, "paths": {}, "arithmetic": here}
    assert stored.exact_rerun_expected({"numerics": None})[0] is False
    exact, why = stored.exact_rerun_expected({"numerics": made, "versions": stored.versions()})
    assert exact == numerics.status().reproducible, why
    exact, why = stored.exact_rerun_expected({"numerics": made, "versions": {"torch": "0.0"}})
    assert not exact and "versions differ" in why
    # another processor's rounding of one kind of computation: exact only for runs that do not use it
    other = {**made, "arithmetic": {**here, "transformer": "0" * 16}, "processor": "Some CPU"}
    exact, why = stored.exact_rerun_expected({"numerics": other, "versions": stored.versions()})
    assert not exact and "rounds transformer computations differently" in why and "Some CPU" in why
    assert stored.exact_rerun_expected({"numerics": other, "versions": stored.versions()}, kernels=("mlp",))[0] \
        == numerics.status().reproducible
    # runs that do not record their arithmetic are not claimed to be exact
    old = {k: v for k, v in made.items() if k != "arithmetic"}
    exact, why = stored.exact_rerun_expected({"numerics": old, "versions": stored.versions()})
    assert not exact and "do not record" in why


def test_the_arithmetic_fingerprints_are_stable_and_checked():
    assert stored.arithmetic(("transformer",)) == {"transformer": stored.arithmetic()["transformer"]}
    assert set(stored.REFERENCE_ARITHMETIC) == set(stored.KERNELS)
    for bad in ("mlp", (), ("gpu",), None):
        with pytest.raises(ValueError, match="kernels"):
            stored.arithmetic(bad)
        with pytest.raises(ValueError, match="kernels"):
            stored.exact_rerun_expected({"numerics": None}, kernels=bad)
    assert isinstance(stored.processor(), str) and stored.processor()
