"""Reruns write the same bytes: every command's tables are identical from run to run, and
whatever the order of the input rows or how they are split over files (the sums over a
region's or the country's cells are taken in a fixed order)."""

from __future__ import annotations

import io
import random
import shutil
from pathlib import Path

import polars as pl
import pytest
from typer.testing import CliRunner

import kmf
from kmf.cli import app


def _csv(frame: pl.DataFrame) -> bytes:
    buffer = io.BytesIO()
    frame.write_csv(buffer)
    return buffer.getvalue()


def _every_table(source: Path) -> dict[str, bytes]:
    """The CSV bytes of every table of run, spor, historik and kommune on ``source``."""
    data = kmf.load(source)
    result = kmf.run(data)
    out = {f"run/{name}": _csv(t) for name, t in result.named_tables().items()}
    out |= {f"spor/{name}": _csv(t) for name, t in kmf.spor(data).named_tables().items()}
    out |= {f"historik/{name}": _csv(t) for name, t in kmf.historik(data).named_tables().items()}
    report = kmf.kommune(result, 851).tabeller
    for name in ("overblik", "bidrag", "fordelinger", "prognosespor", "historik"):
        table = getattr(report, name)
        if table is not None:
            out[f"kommune/{name}"] = _csv(table)
    return out


@pytest.fixture(scope="module")
def variants(tmp_path_factory: pytest.TempPathFactory) -> dict[str, Path]:
    """The sample, its rows shuffled in one CSV, and shuffled again over three Parquet files."""
    sample = kmf.sample_dataset()
    rows = pl.read_csv(sample / "aktivitet.csv", infer_schema_length=0)
    order = list(range(rows.height))
    random.Random(18).shuffle(order)
    shuffled = rows[order]
    out = {"sample": sample}
    for name in ("shuffled", "split"):
        folder = tmp_path_factory.mktemp(name)
        for extra in sample.iterdir():  # budget, kmf.toml, befolkning: all but the activity
            if extra.is_file() and not extra.name.startswith("aktivitet"):
                shutil.copy(extra, folder / extra.name)
        out[name] = folder
    shuffled.write_csv(out["shuffled"] / "aktivitet.csv")
    parts = out["split"] / "aktivitet"
    parts.mkdir()
    again = shuffled.sample(fraction=1.0, shuffle=True, seed=7)
    cut = [0, again.height // 5, again.height // 2, again.height]
    for i in range(3):
        again[cut[i] : cut[i + 1]].write_parquet(parts / f"del_{i}.parquet")
    return out


def test_every_command_gives_the_same_bytes_run_after_run(variants: dict[str, Path]) -> None:
    first = _every_table(variants["sample"])
    assert {"run/tabel_b2", "spor/tabel_spor", "historik/tabel_historik", "kommune/bidrag"} <= set(
        first
    )
    for _ in range(3):
        again = _every_table(variants["sample"])
        assert [n for n in first if again[n] != first[n]] == []


@pytest.mark.parametrize("variant", ["shuffled", "split"])
def test_the_order_and_split_of_the_rows_change_no_byte(
    variants: dict[str, Path], variant: str
) -> None:
    first = _every_table(variants["sample"])
    other = _every_table(variants[variant])
    assert set(other) == set(first)
    assert [n for n in first if other[n] != first[n]] == []


def test_the_cli_writes_the_same_csv_bytes_twice(tmp_path: Path) -> None:
    runner = CliRunner()
    written = []
    for i in range(2):
        out = tmp_path / f"ud{i}"
        done = runner.invoke(app, ["run", "--out", str(out)])
        assert done.exit_code == 0, done.output
        written.append({p.name: p.read_bytes() for p in sorted(out.glob("tabel_*.csv"))})
    assert len(written[0]) >= 10
    assert written[0] == written[1]


def test_a_fixed_sum_is_the_same_in_any_order() -> None:
    """The sums over a group (a region's, the country's cells) sort their terms first: in any
    order of the rows the same numbers give the same bits, where a plain sum does not."""
    from kmf.compute.decompose import fixed_sum

    values = [1e16, 1.0, -1e16, 1.0, 3.0, 2.5e15, -2.5e15, 0.1]
    fixed, plain = set(), set()
    rng = random.Random(3)
    for _ in range(40):
        rng.shuffle(values)
        frame = pl.DataFrame({"g": [1] * len(values), "x": values})
        fixed.add(frame.group_by("g").agg(fixed_sum("x"))["x"][0])
        plain.add(frame.group_by("g").agg(pl.col("x").sum())["x"][0])
        fixed.add(frame.select(fixed_sum("x").over("g"))["x"][0])
    assert len(fixed) == 1
    assert len(plain) > 1  # the order matters to a plain float sum
