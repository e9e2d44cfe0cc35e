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


def test_legibility_measures_the_shown_size_of_the_smallest_text():
    with plotting.book_style():
        fig, ax = plt.subplots(figsize=(10, 4))
        ax.plot([0, 1], [0, 1], label="a line")
        ax.legend(fontsize=7)
        ax.set_title("big title", fontsize=14)
    got = plotting.figure_legibility(fig)
    assert got.min_font_pt == 7
    assert 900 < got.width_px <= 10 * 110 + 22  # tight box of a 10-inch figure at 110 dpi, plus padding
    assert got.scale == pytest.approx(plotting.COLUMN_PX / got.width_px)
    assert got.min_text_px == pytest.approx(7 * 110 / 72 * got.scale)
    assert got.scale < plotting.MIN_SCALE and got.min_text_px < plotting.MIN_TEXT_PX  # the kind of figure the book avoids
    narrow = plotting.figure_legibility(fig, column_px=5000)
    assert narrow.scale == 1.0 and narrow.min_text_px == pytest.approx(7 * 110 / 72)
    assert plotting.figure_legibility(fig, dpi=220).width_px == pytest.approx(2 * got.width_px, rel=0.01)
    ax.get_legend().set_visible(False)  # hidden text does not count
    assert plotting.figure_legibility(fig).min_font_pt > 7
    plt.close(fig)
    with pytest.raises(TypeError, match="fig"):
        plotting.figure_legibility(ax)
    with pytest.raises(ValueError, match="column_px"):
        plotting.figure_legibility(fig, column_px=0)
    with pytest.raises(ValueError, match="dpi"):
        plotting.figure_legibility(fig, dpi=float("nan"))
    with pytest.raises(ValueError, match="column_px"):
        plotting.figure_legibility(fig, column_px="wide")


def test_book_style_marks_its_figures_and_only_those():
    with plotting.book_style():
        assert plotting.mpl.rcParams["figure.hooks"] == ["ce_lib.plotting:track_figure"]
        fig, _ = plt.subplots()
        other = plt.figure()
    plain = plt.figure()
    assert plotting.mpl.rcParams["figure.hooks"] == []  # only figures made in the style are tracked
    assert plotting._legibility_record(fig) == plotting.figure_legibility(fig)._asdict()
    assert plotting._legibility_record(other) is not None and plotting._legibility_record(plain) is None
    for f in (fig, other, plain):
        plt.close(f)


def test_a_kernel_shows_a_book_style_figure_as_one_output_with_its_record():
    """The record rides in the image's own output: a second output would be a second figure in the book."""
    pytest.importorskip("ipykernel")
    from IPython.core.interactiveshell import InteractiveShell

    from IPython.core.pylabtools import select_figure_formats

    shell = InteractiveShell.instance()
    shell.kernel = object()  # track_figure acts only in a kernel
    select_figure_formats(shell, {"png"})  # as the inline backend does
    try:
        import matplotlib.pyplot as plt

        with plotting.book_style():
            fig, ax = plt.subplots()
            ax.plot([0, 1], [1, 0], label="a line")
            ax.set_title("a title")
        data, _ = shell.display_formatter.format(fig)
        assert "image/png" in data and plotting.FIGURE_MIME in data
        assert data[plotting.FIGURE_MIME] == plotting.figure_legibility(fig)._asdict()
        plain = plt.figure()
        data, _ = shell.display_formatter.format(plain)
        assert plotting.FIGURE_MIME not in data  # a figure drawn outside book_style gets no record
        plt.close(fig)
        plt.close(plain)
    finally:
        del shell.kernel
        InteractiveShell.clear_instance()


def test_a_figure_without_text_has_no_legible_size_to_pass_a_threshold():
    import math

    import matplotlib.pyplot as plt

    fig = plt.figure()
    got = plotting.figure_legibility(fig)
    assert math.isnan(got.min_font_pt) and math.isnan(got.min_text_px)
    assert not got.min_text_px >= plotting.MIN_TEXT_PX  # the book's check cannot pass on it
    plt.close(fig)
