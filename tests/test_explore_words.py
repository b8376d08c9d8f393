"""explore in plain words: a warning, with the samples to ask for, when the sample is too
small to rank the inputs (on Ishigami: at N = 16, not at N = 1024)."""

from __future__ import annotations

import math
import re
from pathlib import Path
from types import SimpleNamespace

import numpy as np
import pandas as pd
import pytest
from conftest import BASELINE, invoke
from test_explore import Ishigami, Linear, analytic_experiment, quiet
from test_outputs_read_back import TINY_EXPERIMENT

from scenarios.analysis.discovery import cut_share, real_restrictions
from scenarios.analysis.sample_size import suggested_samples
from scenarios.core.labels import input_label
from scenarios.folders.explore_folder import ExploreFolder
from scenarios.present.explore_charts import scatter_figure, sensitivity_figure
from scenarios.present.explore_text import describe_explore
from scenarios.present.html import explore_sections
from scenarios.present.pyplot import plt
from scenarios.studies.explore import execute_explore

WARNING = "too few samples to rank these inputs"


def _explore(tmp_path: Path, samples: int) -> str:
    ranges = {f"x{i}": (-math.pi, math.pi) for i in (1, 2, 3)}
    experiment = analytic_experiment(tmp_path, "sobol", samples, ranges)
    folder = execute_explore(experiment, quiet(tmp_path / f"n{samples}"), model=Ishigami())
    return describe_explore(ExploreFolder.open(folder))


def test_a_small_sample_is_named_and_a_large_one_is_not(tmp_path: Path) -> None:
    small = _explore(tmp_path, 16)
    assert WARNING in small
    assert "x1" in small and "±" in small, "the numbers stay, below the words"
    suggested = int(small.split("try samples = ")[1].split()[0])
    assert suggested >= 256 and suggested & (suggested - 1) == 0, suggested
    assert WARNING not in _explore(tmp_path, 1024)


def test_suggested_samples_on_hand_numbers() -> None:
    # intervals a tenth of the largest index: enough
    assert suggested_samples(np.array([0.6, 0.4, 0.2]), np.array([0.05, 0.06, 0.03]), 512) is None
    # intervals as wide as the indices: 16 × (0.8 / 0.1)² = 1024
    assert suggested_samples(np.array([1.0, 0.5]), np.array([0.8, 0.5]), 16) == 1024
    # narrow intervals, but S1 above ST beyond its interval: noise all the same
    found = suggested_samples(
        np.array([0.6, 0.1]), np.array([0.05, 0.02]), 64, np.array([0.3, 0.4])
    )
    assert found is not None and found >= 128
    assert suggested_samples(np.zeros(3), np.zeros(3), 16) is None


def test_a_prim_box_lists_only_real_restrictions() -> None:
    restricted = [
        ("members.churn", 0.0801, 0.2, 0.08, 0.2),  # trims 0.2 % of the range: nothing
        ("arena.budget", 2.0, 10.0, 0.0, 10.0),  # leaves out a fifth: real
        ("fees", 0.0, 0.99, 0.0, 1.0),  # leaves out 1 %: nothing
        ("reserves", 0.1, 0.9, 0.0, 1.0),  # both ends, 20 %: real
    ]
    kept = real_restrictions(restricted)
    assert [r[0] for r in kept] == ["arena.budget", "reserves"]
    assert cut_share(2.0, 10.0, 0.0, 10.0) == pytest.approx(0.2)
    assert cut_share(0.0, 1.0, 1.0, 1.0) == 0.0  # a fixed input is not restricted


def _folder_with_box(restricted: list) -> SimpleNamespace:
    """An explore folder with a PRIM box and no ranking, as describe_explore reads it."""
    return SimpleNamespace(
        manifest={
            "points": 10,
            "replications": 1,
            "experiment": {"discover": {"outcome": "y", "above": 1.0}, "samples": 8},
        },
        design="lhs",
        input_labels={},
        outcomes=pd.DataFrame({"outcome": []}),
        calibration=None,
        not_ruled_out=None,
        chosen_box=lambda: (pd.Series({"coverage": 0.8, "density": 0.9}), restricted),
    )


def test_describe_explore_names_only_real_restrictions() -> None:
    both = _folder_with_box([("a", 0.001, 1.0, 0.0, 1.0), ("b", 0.5, 1.0, 0.0, 1.0)])
    text = describe_explore(both)
    assert "  b in [0.5, 1]" in text and "  a in" not in text
    assert "restricting nothing" in describe_explore(
        _folder_with_box([("a", 0.001, 1.0, 0.0, 1.0)])
    )


@pytest.mark.parametrize(
    ("key", "shown"),
    [
        ("clusters.*.private_income", "private income (every cluster)"),
        ("base_funding.overrides.iuc_syd.to_value", "base funding to value (iuc syd)"),
        ("base_funding.default.values.2021", "base funding 2021"),
        ("members.churn", "members churn"),
        ("x1", "x1"),
    ],
)
def test_inputs_are_named_for_readers(key: str, shown: str) -> None:
    assert input_label(key) == shown


def test_explore_text_names_inputs_for_readers(tmp_path: Path) -> None:
    ranges = {"clusters.*.private_income": (0.0, 1.0), "members.churn": (0.0, 1.0)}
    experiment = analytic_experiment(tmp_path, "morris", 8, ranges)
    model = Linear({"clusters.*.private_income": 2.0, "members.churn": 1.0})
    folder = execute_explore(experiment, quiet(tmp_path / "out"), model=model)
    text = describe_explore(ExploreFolder.open(folder))
    assert "private income (every cluster)" in text and "clusters.*" not in text


def test_explore_speaks_swedish_with_decimal_commas(tmp_path: Path) -> None:
    path = tmp_path / "tiny.toml"
    path.write_text(TINY_EXPERIMENT.format(base=BASELINE.as_posix()), encoding="utf-8")
    out = tmp_path / "out"
    result = invoke("explore", str(path), "--out", str(out), "--no-plots", "--lang", "sv")
    assert result.exit_code == 0, result.output
    assert "2 punkter × 2 upprepningar (grid); indata rangordnade efter S1:" in result.output
    assert re.search(r"members churn \d,\d\d$", result.output, re.MULTILINE), result.output
    assert "replications" not in result.output and "ranked by" not in result.output
    box = describe_explore(_folder_with_box([("b", 0.5, 1.0, 0.0, 1.0)]), "sv")
    assert "box med täckning 0,80, täthet 0,90" in box and "b i [0,5; 1] (av [0; 1])" in box
    assert "coverage" not in box and "restricting" not in box
    assert "--lang [en|sv]" in invoke("explore", "--help").output


def _morris_folder(tmp_path: Path) -> ExploreFolder:
    experiment = analytic_experiment(tmp_path, "morris", 8, {"x1": (0.0, 1.0), "x2": (0.0, 1.0)})
    model = Linear({"x1": 2.0, "x2": 0.5})
    return ExploreFolder.open(execute_explore(experiment, quiet(tmp_path / "out"), model=model))


def test_explore_charts_in_swedish(tmp_path: Path) -> None:
    folder = _morris_folder(tmp_path)
    figure = sensitivity_figure(folder, "y", "sv")
    ax = figure.axes[0]
    assert ax.get_title().startswith("morris: vad som driver y")
    assert ax.get_xlabel() == "Morris μ* (y per indataintervall), 95 % KI"
    legend = {text.get_text() for text in ax.get_legend().get_texts()}
    assert legend == {"μ*", "σ (samspel, icke-linjäritet)"}
    figure.canvas.draw()
    ticks = [tick.get_text() for tick in ax.get_xticklabels()]
    assert any("," in t for t in ticks) and not any("." in t for t in ticks), ticks
    plt.close(figure)
    scatter = scatter_figure(folder, "y", "sv")
    assert scatter.get_suptitle() == "morris: y mot de viktigaste indata"
    assert scatter.axes[0].get_ylabel().endswith("över upprepningarna)")
    plt.close(scatter)
    english = sensitivity_figure(folder, "y")
    assert english.axes[0].get_title().startswith("morris: what drives y")
    plt.close(english)


def test_the_reports_explore_section_in_swedish(tmp_path: Path) -> None:
    (section,) = explore_sections([_morris_folder(tmp_path)], "sv")
    assert section.ranking.head == [
        "utfall",
        "rang",
        "indata",
        "mu_star",
        "95 % KI",
        "S1",
        "anmärkning",
    ]
    assert re.fullmatch(r"\d,\d{3}", section.ranking.rows[0][3].text)
    assert section.summary.startswith("24 punkter × 1 upprepningar (morris)"), section.summary
