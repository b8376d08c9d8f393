"""Charts that tell the truth, checked on the data they plot: a cluster that has left is not
drawn at 0 %, the funding mix says what it averages over, no money is white, money axes
start at zero, and a scenario keeps its colour from chart to chart."""

from __future__ import annotations

import re
from pathlib import Path

import numpy as np
import pandas as pd
import pytest
from conftest import BASELINE, invoke
from matplotlib.colors import to_hex

from scenarios.analysis.paired import paired_brief, yearly_changes
from scenarios.core.labels import label
from scenarios.folders.run_folder import RunFolder
from scenarios.present import run_charts
from scenarios.present.colours import BASELINE_COLOUR, scenario_colours
from scenarios.present.difference_charts import (
    difference_figure,
    draw_brief_bars,
    plot_differences,
)
from scenarios.present.pyplot import plt
from scenarios.present.run_charts import (
    RUN_PLOTS,
    RunCharts,
    arena_heatmap_figure,
    chart_context,
    draw_run_chart,
    funding_mix_figure,
    overlay_figure,
    regional_share_figure,
)

GONE = "tourism"
GONE_FROM = 2020


@pytest.fixture(scope="module")
def runs(tmp_path_factory: pytest.TempPathFactory) -> tuple[RunFolder, RunFolder]:
    root = tmp_path_factory.mktemp("charts")
    folders = []
    cut = ("--set", "name=cut", "--set", "base_funding.default.values.2019=1.0")
    for name, extra in (("baseline", ()), ("cut", cut)):
        out = root / name
        result = invoke(
            "run", str(BASELINE), "--out", str(out), "--runs", "6", "--horizon", "2021",
            "--no-plots", *extra,
        )  # fmt: skip
        assert result.exit_code == 0, result.output
        folders.append(RunFolder.open(out, "test"))
    return folders[0], folders[1]


@pytest.fixture
def left_summary(runs) -> pd.DataFrame:
    """The baseline's summary as if ``GONE`` had left in every run from ``GONE_FROM``: its
    P50 share is then 0 (no income), which is what must not be drawn."""
    summary = runs[0].summary.copy()
    gone = (summary.cluster == GONE) & (summary.year >= GONE_FROM)
    summary.loc[gone & (summary.metric == "closed"), ["p10", "p50", "p90", "mean"]] = 1.0
    share = gone & (summary.metric == "regional_share")
    summary.loc[share, ["p10", "p50", "p90", "mean"]] = 0.0
    return summary


def _line(ax: plt.Axes, name: str) -> tuple[np.ndarray, np.ndarray]:
    found = [line for line in ax.get_lines() if line.get_label() == name]
    assert len(found) == 1, [line.get_label() for line in ax.get_lines()]
    return np.asarray(found[0].get_xdata(), float), np.asarray(found[0].get_ydata(), float)


def test_a_cluster_that_has_left_is_not_drawn_at_zero_share(runs, left_summary) -> None:
    ctx = chart_context(runs[0])
    name = ctx.names[GONE]
    figure = regional_share_figure(left_summary, ctx)
    years, share = _line(figure.axes[0], name)
    after = years >= GONE_FROM
    assert np.isnan(share[after]).all(), "drawn after it left"
    assert np.isfinite(share[~after]).all() and (share[~after] > 0).all()
    marks = [line for line in figure.axes[0].get_lines() if line.get_marker() == "x"]
    colour = next(
        line.get_color() for line in figure.axes[0].get_lines() if line.get_label() == name
    )
    ours = [line for line in marks if line.get_color() == colour]  # other clusters may leave too
    assert len(ours) == 1 and list(ours[0].get_xdata()) == [GONE_FROM - 1]
    assert [line.get_label() for line in marks].count(label("left_marker")) == 1  # one legend entry
    plt.close(figure)
    # the overlay of scenarios: the same cluster in the scenario where it has left
    overlay = overlay_figure(
        {"baseline": runs[0].summary, "left": left_summary}, "regional_share", ctx
    )
    panel = next(ax for ax in overlay.axes if ax.get_title() == name)
    years, share = _line(panel, "left")
    assert np.isnan(share[years >= GONE_FROM]).all()
    assert np.isfinite(_line(panel, "baseline")[1]).all()
    plt.close(overlay)


def test_the_funding_mix_says_what_it_averages_over(runs, left_summary) -> None:
    ctx = chart_context(runs[0])
    figure = funding_mix_figure(left_summary, ctx)
    assert "mean over all runs" in figure._suptitle.get_text()
    assert "a cluster that has left counts as 0" in figure._suptitle.get_text()
    panel = next(ax for ax in figure.axes if ax.get_title().startswith(ctx.names[GONE]))
    assert "left in 100 % of runs by 2021" in panel.get_title()
    assert all(ax.get_ylim()[0] == 0 for ax in figure.axes if ax.has_data())
    plt.close(figure)


def test_no_arena_money_is_white_on_a_scale_from_zero(runs) -> None:
    summary = runs[0].summary.copy()
    summary.loc[summary.metric == "arena_income", ["p10", "p50", "p90", "mean"]] = 0.0
    none = runs[0].area_money * 0.0
    figure = arena_heatmap_figure(summary, none, chart_context(runs[0]))
    images = [image for ax in figure.axes for image in ax.get_images()]
    assert len(images) == 2
    for image in images:
        low, high = image.norm.vmin, image.norm.vmax
        assert low == 0 and high > 0
        assert to_hex(image.cmap(image.norm(0.0))) == "#ffffff"
    texts = [t.get_text() for ax in figure.axes for t in ax.texts]
    assert texts.count(label("no_arena_money")) == 2
    plt.close(figure)
    # with money, 0 is still white and the top of the scale is the most paid
    real = arena_heatmap_figure(runs[0].summary, runs[0].area_money, chart_context(runs[0]))
    image = real.axes[0].get_images()[0]
    assert to_hex(image.cmap(image.norm(0.0))) == "#ffffff"
    assert image.norm.vmax == pytest.approx(float(np.nanmax(image.get_array())))
    plt.close(real)


def test_money_axes_start_at_zero(runs) -> None:
    ctx = chart_context(runs[0])
    summaries = {"baseline": runs[0].summary, "cut": runs[1].summary}
    for metric in ("total_income", "arena_income", "members", "reserves"):
        figure = overlay_figure(summaries, metric, ctx)
        lows = [ax.get_ylim()[0] for ax in figure.axes if ax.has_data()]
        assert lows and all(low <= 0 for low in lows), metric
        if metric != "reserves":  # reserves can go below zero; the rest cannot
            assert all(low == 0 for low in lows), metric
        plt.close(figure)


def test_a_scenario_keeps_its_colour_from_one_comparison_to_the_next() -> None:
    alone = scenario_colours(["baseline", "faster_taper"])
    others = scenario_colours(["baseline", "no_arena", "downturn_2020", "faster_taper"])
    reordered = scenario_colours(["baseline", "faster_taper", "no_arena", "downturn_2020"])
    assert alone["faster_taper"] == reordered["faster_taper"]
    assert others["no_arena"] == reordered["no_arena"]
    six = ["base", *(f"scenario_{k}" for k in range(6))]
    assert len(set(scenario_colours(six).values())) == 7  # distinct while the palette lasts
    assert scenario_colours(["no_arena", "baseline"])["no_arena"] == BASELINE_COLOUR


def test_a_scenario_keeps_its_colour_in_every_chart(runs) -> None:
    names = ["baseline", "cut"]
    colours = scenario_colours(names)
    assert colours["baseline"] == BASELINE_COLOUR and len(set(colours.values())) == 2
    ctx = chart_context(runs[0])
    overlay = overlay_figure(
        dict(zip(names, (r.summary for r in runs), strict=True)), "members", ctx
    )
    for name in names:
        assert to_hex(_colour(overlay.axes[0], name)) == colours[name]
    plt.close(overlay)
    changes = {"cut": yearly_changes(runs[0].yearly_table, runs[1].yearly_table, "members")}
    difference = difference_figure(changes, "members", "baseline", ctx)
    assert to_hex(_colour(difference.axes[0], "cut")) == colours["cut"]
    plt.close(difference)
    brief = paired_brief(list(runs), names)
    figure, ax = plt.subplots()
    draw_brief_bars(ax, brief, ctx.names, "en")
    assert {to_hex(bar.get_facecolor()) for bar in ax.patches} == {colours["cut"]}
    plt.close(figure)


def _colour(ax: plt.Axes, name: str) -> str:
    return next(line.get_color() for line in ax.get_lines() if line.get_label() == name)


def test_difference_chart_draws_the_paired_change(runs) -> None:
    """The cut scenario pays 0.4 MSEK less base to each open cluster in 2019 (1.0 against
    1.4): the difference chart's line is the run-by-run mean, its band the P10-P90."""
    ctx = chart_context(runs[0])
    changes = {"cut": yearly_changes(runs[0].yearly_table, runs[1].yearly_table, "regional_money")}
    figure = difference_figure(changes, "regional_money", "baseline", ctx)
    together = next(ax for ax in figure.axes if ax.get_title() == label("all_programme"))
    years, delta = _line(together, "cut")
    base = pd.read_csv(runs[0].path / "yearly.csv")
    cut = pd.read_csv(runs[1].path / "yearly.csv")
    paid = [
        frame.assign(paid=frame.regional_base + frame.arena_income)
        .groupby(["year", "run"])
        .paid.sum()
        for frame in (base, cut)
    ]
    expected = (paid[1] - paid[0]).groupby("year").mean()
    assert np.allclose(delta, expected.reindex(years).to_numpy(), atol=1e-5)
    assert delta[list(years).index(2019)] < -2.0, "the cut shows in 2019"
    band = together.collections[0].get_paths()[0].vertices
    assert band[:, 1].min() <= delta.min() + 1e-9 and band[:, 1].max() >= delta.max() - 1e-9
    plt.close(figure)


def test_the_brief_chart_band_may_miss_the_mean(runs) -> None:
    """A skewed change has its mean outside its P10-P90; the bar chart draws both."""
    brief = paired_brief(list(runs), ["baseline", "cut"])
    found = brief.changes[next(key for key in brief.changes if key[0] == "cut")]
    found.delta[0] = found.delta_p90[0] + 1.0  # the mean above the band
    figure, ax = plt.subplots()
    draw_brief_bars(ax, brief, chart_context(runs[0]).names, "en")
    assert ax.patches[0].get_height() == pytest.approx(found.delta[0])
    plt.close(figure)


def _tick_texts(figure: plt.Figure) -> list[str]:
    figure.canvas.draw()
    return [
        tick.get_text()
        for ax in figure.axes
        for tick in (*ax.get_xticklabels(), *ax.get_yticklabels())
    ]


def test_swedish_charts_write_numbers_with_decimal_commas(runs, tmp_path, monkeypatch) -> None:
    """``--lang sv``: a run's charts, the comparison's difference chart and the brief's bars
    write 2,5 where English writes 2.5 (as explore, optimise and backtest charts do)."""
    drawn: dict[str, list[str]] = {}

    def keep_ticks(figure: plt.Figure, target) -> None:
        drawn[Path(target).stem] = _tick_texts(figure)
        plt.close(figure)

    monkeypatch.setattr(run_charts, "save_png", keep_ticks)
    for lang in ("en", "sv"):
        charts = RunCharts.of(runs[0], lang)
        for name in RUN_PLOTS:
            draw_run_chart(charts, name, tmp_path / f"{name}_{lang}.png")
        ctx = chart_context(runs[0], lang)
        changes = {"cut": yearly_changes(runs[0].yearly_table, runs[1].yearly_table, "members")}
        plot_differences(changes, "members", "baseline", ctx, tmp_path / f"difference_{lang}.png")
        figure, ax = plt.subplots()
        draw_brief_bars(ax, paired_brief(list(runs), ["baseline", "cut"]), ctx.names, lang)
        drawn[f"brief_{lang}"] = _tick_texts(figure)
        plt.close(figure)
    for name in [*RUN_PLOTS, "difference", "brief"]:
        english, swedish = drawn[f"{name}_en"], drawn[f"{name}_sv"]
        assert not [t for t in swedish if re.search(r"\d\.\d", t)], (name, swedish)
        commas = [t for t in english if re.search(r"\d\.\d", t)]
        assert [t.replace(".", ",") for t in commas] == [
            t for t in swedish if re.search(r"\d,\d", t)
        ], name
    assert any("," in t for name in RUN_PLOTS for t in drawn[f"{name}_sv"]), "some decimals"
