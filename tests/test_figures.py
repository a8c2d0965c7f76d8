"""Figures: structure and bar heights (not pixels), on the hand-worked example."""

from __future__ import annotations

from pathlib import Path

import pytest
from matplotlib.figure import Figure
from typer.testing import CliRunner

import kmf
from kmf.cli import app
from kmf.figures import kommune_overview, report_figure, waterfall
from tests.factory import write_dataset
from tests.test_hand_worked import AAL, BUDGET, KBH, ROWS


@pytest.fixture(scope="module")
def folder(tmp_path_factory: pytest.TempPathFactory) -> Path:
    return write_dataset(tmp_path_factory.mktemp("fig"), ROWS, BUDGET)


@pytest.fixture(scope="module")
def result(folder: Path) -> kmf.Result:
    return kmf.run(folder, aar=2020)


def bar_heights(figure: Figure) -> list[float]:
    return [patch.get_height() for patch in figure.axes[0].patches]


def test_figur_1_shows_b2_for_the_country(result: kmf.Result) -> None:
    figure = report_figure(result, 1)
    ax = figure.axes[0]
    assert ax.get_title(loc="left") == "Figur 1. Ændring i aldersfordelingen af forbruget"
    assert [t.get_text() for t in ax.get_xticklabels()] == [
        "0-2 årige", "3-64 årige", "65-79 årige", "80+ årige", "Ej aldersdiff."]  # fmt: skip
    # 3-64 in the country: forecast 1460 of 2860, budget 3600 of 5900 (test_hand_worked)
    assert bar_heights(figure)[1] == pytest.approx(100 * (1460 / 2860 - 3600 / 5900))
    assert "," in ax.yaxis.get_major_formatter()(0.5, 0)  # decimal comma


def test_figur_2_marks_undefined_shares(result: kmf.Result) -> None:
    figure = report_figure(result, 2)
    labels = [t.get_text() for t in figure.axes[0].texts]
    # 0-2 has no budget production value in the country: no bar, a dash for its value
    assert bar_heights(figure)[0] == 0
    assert labels[0] == "–"
    # 80+ only in København: forecast 275/550, budget 240/600 → 10,0 pct.-point
    assert labels[3] == "10,0"


def test_waterfall_steps_are_the_effects_in_millions(result: kmf.Result) -> None:
    figure = waterfall(result, 851)
    heights = bar_heights(figure)
    assert heights[0] == pytest.approx(AAL["Kb"] / 1e6)
    assert heights[1:5] == pytest.approx([AAL[k] / 1e6 for k in ("A", "B", "C", "O")])
    assert heights[5] == pytest.approx(AAL["Kf"] / 1e6)
    assert "Aalborg" in figure.axes[0].get_title(loc="left")


def test_waterfall_of_an_unknown_kommune(result: kmf.Result) -> None:
    with pytest.raises(KeyError):
        waterfall(result, 147)


def test_overview_sorts_kommuner_by_change(result: kmf.Result) -> None:
    figure = kommune_overview(result)
    ticks = [t.get_text() for t in figure.axes[0].get_xticklabels()]
    # Aalborg −146/380 = −38 % falls more than København −335/940 = −36 %
    assert ticks == ["Aalborg", "København"]
    assert KBH["d"] / KBH["Kb"] > AAL["d"] / AAL["Kb"]


def test_run_writes_the_report_figures(result: kmf.Result, tmp_path: Path) -> None:
    result.write(tmp_path / "ud")
    for name in ("figur_1.png", "figur_2.png", "figur_3.png"):
        assert (tmp_path / "ud" / name).read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"


def test_cli_figur_for_one_kommune(folder: Path, tmp_path: Path) -> None:
    target = tmp_path / "vandfald.png"
    done = CliRunner().invoke(
        app, ["figur", str(folder), "--kommune", "101", "--aar", "2020", "--out", str(target)]
    )
    assert done.exit_code == 0, done.output
    assert target.read_bytes()[:4] == b"\x89PNG"
    unknown = CliRunner().invoke(app, ["figur", str(folder), "--kommune", "147"])
    assert unknown.exit_code == 2
    assert "147" in unknown.stderr
