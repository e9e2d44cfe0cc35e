import matplotlib

matplotlib.use("Agg")

import matplotlib.pyplot as plt  # noqa: E402
import numpy as np  # noqa: E402
import pytest  # noqa: E402

from ce_lib import plotting  # noqa: E402


def test_colors_are_fixed_per_method_and_per_family():
    assert plotting.color_for("REINFORCE", "rl") == plotting.METHOD_COLORS["REINFORCE"]
    new = plotting.color_for("some new CE method", "ce")
    assert new in plotting.CE_PALETTE and new == plotting.color_for("some new CE method", "ce")
    assert plotting.color_for("some new RL method", "rl") in plotting.RL_PALETTE
    assert not set(plotting.CE_PALETTE) & set(plotting.RL_PALETTE)
    for name, color in plotting.METHOD_COLORS.items():
        assert color in plotting.CE_PALETTE + plotting.RL_PALETTE, name
    with pytest.raises(ValueError, match="family"):
        plotting.color_for("x", "bayes")


def test_median_band_is_a_quantile_band():
    curves = np.array([[1.0, 2.0], [2.0, 4.0], [3.0, 6.0]])
    med, lo, hi = plotting.median_band(curves, band=(0.0, 1.0))
    np.testing.assert_array_equal(med, [2.0, 4.0])
    np.testing.assert_array_equal(lo, [1.0, 2.0])
    np.testing.assert_array_equal(hi, [3.0, 6.0])
    with pytest.raises(ValueError, match="curves"):
        plotting.median_band([1.0, 2.0])
    with pytest.raises(ValueError, match="band"):
        plotting.median_band(curves, band=(0.9, 0.1))


def test_plot_median_band_and_scaling_draw_labelled_lines():
    with plotting.book_style():
        fig, ax = plt.subplots()
        line = plotting.plot_median_band(ax, [1, 2, 3], np.ones((4, 3)), name="REINFORCE", family="rl")
        assert line.get_label() == "REINFORCE"
        assert matplotlib.colors.same_color(line.get_color(), plotting.METHOD_COLORS["REINFORCE"])
        hits = {"UCB": np.array([[1.0, 2.0, np.inf], [4.0, 5.0, 6.0]])}
        plotting.plot_scaling(ax, [2, 4], hits, {"UCB": "ce"}, budgets=[10, 10])
        assert ax.get_xscale() == "log" and ax.get_yscale() == "log"
        assert [ln.get_label() for ln in ax.get_lines()] == ["REINFORCE", "UCB"]
        with pytest.raises(ValueError, match="rows"):
            plotting.plot_scaling(ax, [2, 4, 8], hits, {"UCB": "ce"})
        with pytest.raises(ValueError, match="lo and hi"):
            plotting.plot_median_band(ax, [1, 2], [1.0, 2.0], lo=[0, 0], name="x", family="ce")
        plt.close(fig)
