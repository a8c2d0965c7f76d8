"""Figures: structure and bar heights (not pixels), on the hand-worked example."""

from __future__ import annotations

from datetime import date
from pathlib import Path

import polars as pl
import pytest
from matplotlib.figure import Figure
from matplotlib.transforms import Bbox
from PIL import Image
from typer.testing import CliRunner

import kmf
from kmf.cli import app
from kmf.figures import kommune_overview, report_figure, unit_row, waterfall
from kmf.report.figures import title_of
from tests.factory import write_dataset
from tests.test_hand_worked import AAL, BUDGET, KBH, ROWS


@pytest.fixture(scope="module")
def folder(tmp_path_factory: pytest.TempPathFactory) -> Path:
    return write_dataset(tmp_path_factory.mktemp("fig"), ROWS, BUDGET)


@pytest.fixture(scope="module")
def result(folder: Path) -> kmf.Result:
    return kmf.run(folder, aar=2020)


@pytest.fixture(scope="module")
def sample() -> kmf.Result:
    return kmf.run(kmf.sample_dataset())


def bar_heights(figure: Figure) -> list[float]:
    return [patch.get_height() for patch in figure.axes[0].patches]


def test_figur_1_shows_b2_for_the_country(result: kmf.Result) -> None:
    figure = report_figure(result, 1)
    ax = figure.axes[0]
    assert title_of(figure) == "Figur 1. Ændring i aldersfordelingen af forbruget"
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


def extents(figure: Figure) -> dict[str, Bbox]:
    """Where the title, the subtitle and the axes are drawn (in pixels)."""
    figure.canvas.draw()
    ax = figure.axes[0]
    found = {t.get_gid(): t.get_window_extent() for t in ax.texts if t.get_gid()}
    return {**found, "axes": ax.get_tightbbox(), "plot": ax.get_window_extent()}


def assert_titles_clear(figure: Figure) -> None:
    box = extents(figure)
    assert box["title"].y0 >= box["subtitle"].y1  # the title above the grey line
    assert box["subtitle"].y0 >= box["plot"].y1  # the grey line above the plot
    assert box["title"].y1 <= figure.bbox.y1  # inside the figure


@pytest.mark.parametrize("number", [1, 2, 3])
def test_report_figures_titles_do_not_overlap(result: kmf.Result, number: int) -> None:
    assert_titles_clear(report_figure(result, number))


def test_figur_2_ticks_are_exact_with_one_decimal(sample: kmf.Result) -> None:
    figure = report_figure(sample, 2)
    figure.canvas.draw()
    ax = figure.axes[0]
    ticks = [t for t in ax.get_yticks() if ax.get_ylim()[0] <= t <= ax.get_ylim()[1]]
    assert len(ticks) >= 3
    assert all(abs(t * 10 - round(t * 10)) < 1e-9 for t in ticks)  # 0,2 not 0,25
    labels = [t.get_text() for t in ax.get_yticklabels()]
    assert not any(label in ("-0,0", "-0") for label in labels)


def test_waterfall_steps_are_the_effects_in_pct_of_the_budget(result: kmf.Result) -> None:
    figure = waterfall(unit_row(result, 851))
    heights = bar_heights(figure)
    # budget = 100 and prognose first, then the steps A, B, C, Øvrige in pct.-point
    assert heights[:2] == pytest.approx([100, 100 * AAL["Kf"] / AAL["Kb"]])
    assert heights[2:6] == pytest.approx([100 * AAL[k] / AAL["Kb"] for k in "ABCO"])
    assert title_of(figure) == "Aalborg: fra budget til prognosen"
    dated = waterfall(unit_row(result, 851), aar=2018, dato=date(2018, 9, 10))
    assert title_of(dated) == "Aalborg: fra budget 2018 til prognosen pr. 10. september 2018"
    assert_titles_clear(figure)
    # −75 pct. of the budget: the axis starts at 0, so no break mark
    assert figure.axes[0].get_ylim()[0] == 0
    assert not [a for a in figure.axes[0].get_children()
                if a.get_gid() == "break" and a.get_visible()]  # fmt: skip


def test_waterfall_takes_a_dict_or_a_one_row_frame(result: kmf.Result) -> None:
    from_dict = bar_heights(waterfall(unit_row(result, 101)))
    from_frame = bar_heights(waterfall(result.b1.filter(pl.col("kode") == "101")))
    assert from_dict == from_frame


def test_waterfall_draws_into_a_given_axes(result: kmf.Result) -> None:
    grid = Figure(figsize=(12, 4))
    left, right = grid.subplots(1, 2)
    assert waterfall(unit_row(result, 851), ax=right) is grid
    assert len(right.patches) == 6 and not left.patches


def test_waterfall_of_hele_landet_breaks_its_axis_and_shows_the_amounts(
    sample: kmf.Result,
) -> None:
    land = unit_row(sample, "DK")
    figure = waterfall(land)
    ax = figure.axes[0]
    bottom = ax.get_ylim()[0]
    # the levels lie between 90 and 100 (change −0,1 pct.): the axis is cut, and says so
    assert 0 < bottom < 100 + land["aendring_pct"] - 3
    marks = [a for a in ax.get_children() if a.get_gid() == "break" and a.get_visible()]
    assert len(marks) == 4  # a gap in the budget and the prognose bar, two slashes
    texts = [t.get_text() for t in ax.texts]

    def mio(kr: float) -> str:
        return (
            f"{kr / 1e6:,.1f}".replace(",", "_").replace(".", ",").replace("_", ".") + " mio. kr."
        )

    assert f"100,0\n{mio(land['kmf_budget_kr'])}" in texts
    prognose = f"{100 + land['aendring_pct']:.1f}".replace(".", ",")
    assert f"{prognose}\n{mio(land['kmf_prognose_kr'])}" in texts
    activity = f"{land['aktivitetseffekt_pct']:.1f}".replace(".", ",")
    assert activity in texts and activity.startswith("-")
    assert_titles_clear(figure)


def test_unit_row_of_an_unknown_kommune(result: kmf.Result) -> None:
    with pytest.raises(KeyError):
        unit_row(result, 147)


def test_overview_sorts_kommuner_by_change(result: kmf.Result) -> None:
    figure = kommune_overview(result)
    ticks = [t.get_text() for t in figure.axes[0].get_xticklabels()]
    # Aalborg −146/380 = −38 % falls more than København −335/940 = −36 %
    assert ticks == ["Aalborg", "København"]
    assert KBH["d"] / KBH["Kb"] > AAL["d"] / AAL["Kb"]


def test_run_writes_the_report_figures_and_the_waterfalls(
    result: kmf.Result, tmp_path: Path
) -> None:
    result.write(tmp_path / "ud")
    units = result.b1.filter(pl.col("niveau") != "kommune")["kode"].to_list()
    assert "DK" in units and len(units) >= 2  # Hele landet and the regions of the data
    names = ["figur_1.png", "figur_2.png", "figur_3.png", *(f"vandfald_{k}.png" for k in units)]
    for name in names:
        assert (tmp_path / "ud" / name).read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"
    assert sorted(p.name for p in (tmp_path / "ud").glob("*.png")) == sorted(names)
    # a palette of at most 64 colours keeps the files (and the workbook holding them) small
    with Image.open(tmp_path / "ud" / "vandfald_DK.png") as png:
        assert png.mode == "P" and len(png.getcolors(256) or []) <= 64
        assert png.size == (1200, 675)  # 8 × 4.5 inches at 150 dpi


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


def _subtitle(figure: Figure) -> str:
    return next(t.get_text() for t in figure.axes[0].texts if t.get_text().startswith("Budget ="))


def test_a_waterfall_whose_labels_miss_the_change_says_they_are_rounded() -> None:
    effects = ("aktivitetseffekt", "aldersgruppeeffekt", "sundhedsomraadeeffekt", "oevrige")

    def row(a: float, b: float, c: float) -> dict[str, object]:
        # Øvrige is the rest: the four effects sum to the change, -7,58 (shown -7,6)
        values = dict(zip(effects, (a, b, c, -7.58 - a - b - c), strict=True))
        return {"navn": "Region X", "kmf_budget_kr": 3e9, "kmf_prognose_kr": 3e9 * 0.9242,
                "aendring_pct": -7.58, **{f"{e}_pct": v for e, v in values.items()}}  # fmt: skip

    # Øvrige -7,58 + 12,66 - 1,56 - 2,76 = 0,76: labels -12,7 + 1,6 + 2,8 + 0,8 = -7,5
    assert _subtitle(waterfall(row(-12.66, 1.56, 2.76))).endswith(
        "af budgettet, afrundet hver for sig"
    )
    # Øvrige -7,58 + 12,70 - 1,56 - 2,84 = 0,72: labels -12,7 + 1,6 + 2,8 + 0,7 = -7,6
    assert _subtitle(waterfall(row(-12.70, 1.56, 2.84))) == (
        "Budget = 100. Ændring -7,6 pct.; effekterne i pct.-point af budgettet"
    )
