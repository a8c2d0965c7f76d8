"""``kmf.validate``: the library's check of a dataset, which ``kmf validate`` prints. The
numbers are counted here from the rows the test writes, not by kmf."""

from __future__ import annotations

import csv
import dataclasses
from datetime import date
from pathlib import Path

import pytest
from typer.testing import CliRunner

import kmf
from kmf.cli import app
from kmf.io import sample_dataset
from tests.factory import random_rows, write_dataset

T = 2018
KOMMUNER = [101, 147, 851]


def per_kommune_budget(rows: list[dict], year: int) -> list[dict]:
    base = {k: sum(r["kmf"] for r in rows if r["kommunekode"] == k and r["aar"] == year - 2
                   and r["takstaar"] == year) for k in KOMMUNER}  # fmt: skip
    return [{"aar": year, "kommunekode": k, "kmf_budget_kr": round(v * 1.03)}
            for k, v in base.items()]  # fmt: skip


@pytest.fixture(scope="module")
def rows() -> list[dict]:
    return random_rows(KOMMUNER, T, seed=11)  # the four cuts of T and one unused cut


@pytest.fixture(scope="module")
def folder(tmp_path_factory: pytest.TempPathFactory, rows: list[dict]) -> Path:
    return write_dataset(tmp_path_factory.mktemp("v"), rows, per_kommune_budget(rows, T))


def test_validate_says_what_a_run_would_use(folder: Path, rows: list[dict]) -> None:
    check = kmf.validate(folder)
    assert isinstance(check, kmf.Validation)
    assert check.aar == T and check.dato is None and check.datoer_uden_grundlag == ()
    assert check.kommuner == 3 and check.budget_pr_kommune
    budget = per_kommune_budget(rows, T)
    assert check.budget_kr == pytest.approx(sum(b["kmf_budget_kr"] for b in budget), abs=0.5)
    # the unused cut (T−2 endelig in T−2 takster) is read but not used
    unused = sum(1 for r in rows if r["aar"] == T - 2 and r["takstaar"] == T - 2)
    assert unused > 0
    activity = next(f for f in check.filer if f.tabel == "aktivitet")
    assert (activity.navn, activity.raekker, activity.raekker_brugt) == (
        "aktivitet.csv",
        len(rows),
        len(rows) - unused,
    )
    assert check.aktivitetsraekker == len(rows)
    assert check.aktivitetsraekker_brugt == len(rows) - unused
    budget_file = next(f for f in check.filer if f.tabel == "budget")
    assert (budget_file.raekker, budget_file.raekker_brugt) == (3, 3)
    assert check.aarene == (T - 2, T - 1, T)
    assert check.opgoerelser.height == 5
    assert int(check.opgoerelser["rows"].sum()) == len(rows)
    assert "i orden til budgetår 2018" in repr(check)
    # the loaded dataset can be handed on, so it is read once
    assert kmf.run(check.datasaet).aar == T


def test_validate_is_frozen_and_public() -> None:
    assert "validate" in kmf.__all__ and "Validation" in kmf.__all__
    assert dataclasses.is_dataclass(kmf.Validation)
    check = kmf.validate()
    with pytest.raises(dataclasses.FrozenInstanceError):
        check.aar = 2019  # type: ignore[misc]


def test_validate_the_sample_by_its_own_file() -> None:
    # the sample is dated: a run uses the latest date of T with every cut (SPEC §7)
    with (sample_dataset() / "aktivitet.csv").open(encoding="utf-8") as fh:
        activity = list(csv.DictReader(fh))
    with (sample_dataset() / "budget.csv").open(encoding="utf-8") as fh:
        budget = {int(r["aar"]): float(r["kmf_budget_kr"]) for r in csv.DictReader(fh)}
    check = kmf.validate()
    t_dates = sorted({r["opgoerelsesdato"] for r in activity
                      if r["aar"] == "2018" and r["opgoerelse"] == "foreloebig"})  # fmt: skip
    assert check.aar == 2018
    assert check.dato == date.fromisoformat(t_dates[-1])
    assert check.budget_kr == pytest.approx(budget[2018])
    assert check.kommuner == 98
    assert check.aktivitetsraekker == len(activity)
    assert check.aarene == tuple(sorted({int(r["aar"]) for r in activity}))
    # an earlier date, the first with T−1 endelig out by then: its rows, not the latest's
    settled = min(
        r["opgoerelsesdato"]
        for r in activity
        if (r["aar"], r["opgoerelse"], r["takstaar"]) == ("2017", "endelig", "2017")
    )
    first = next(d for d in t_dates if d >= settled)
    assert first != t_dates[-1]
    early = kmf.validate(dato=first)
    assert early.dato == date.fromisoformat(first)
    assert 0 < early.aktivitetsraekker_brugt < early.aktivitetsraekker


def test_validate_from_data_frames_and_for_a_year(rows: list[dict]) -> None:
    import polars as pl

    from tests.factory import frame

    check = kmf.validate(
        {"aktivitet": frame(rows), "budget": pl.DataFrame(per_kommune_budget(rows, T))}, aar=T
    )
    assert check.aar == T and check.kommuner == 3
    assert [f.tabel for f in check.filer] == ["aktivitet", "budget"]


def test_validate_stops_as_a_run_would(folder: Path) -> None:
    with pytest.raises(kmf.DataError, match="2030"):
        kmf.validate(folder, aar=2030)


def test_the_command_prints_the_verbs_result(folder: Path, rows: list[dict]) -> None:
    done = CliRunner().invoke(app, ["validate", str(folder)])
    assert done.exit_code == 0, done.output
    unused = sum(1 for r in rows if r["aar"] == T - 2 and r["takstaar"] == T - 2)
    used, total = len(rows) - unused, len(rows)
    assert f"{used} af {total} aktivitetsrækker bruges." in done.stdout
    assert "Datasættet er i orden til budgetår 2018: 3 kommuner." in done.stdout
    assert "Budget 2018 (summen af kommunernes): " in done.stdout
    for line in done.stdout.splitlines():
        assert len(line) <= 80, line
