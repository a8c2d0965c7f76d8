"""The notat in Word: ``kmf run`` writes ``notat_<T>.docx`` and ``kmf kommune`` writes
``notat_<KODE>_<T>.docx``, each with the text, tabel B1 for its units, the waterfall and the
"Kilde:" line; read back with python-docx."""

from __future__ import annotations

import json
import re
from pathlib import Path

import polars as pl
import pytest
from docx import Document
from typer.testing import CliRunner

import kmf
from kmf.cli import app


def _shown(value: float, scale: float = 1.0) -> str:
    text = f"{value / scale:,.1f}".replace(",", "_").replace(".", ",").replace("_", ".")
    return "0,0" if text == "-0,0" else text


@pytest.fixture(scope="module")
def folders(tmp_path_factory: pytest.TempPathFactory) -> Path:
    root = tmp_path_factory.mktemp("notat")
    runner = CliRunner()
    assert runner.invoke(app, ["run", "--out", str(root / "r")]).exit_code == 0
    done = runner.invoke(app, ["kommune", "851", "--out", str(root / "k")])
    assert done.exit_code == 0, done.output
    return root


def test_kmf_run_writes_the_notat_and_lists_it(folders: Path) -> None:
    path = folders / "r" / "notat_2018.docx"
    assert path.is_file()
    manifest = json.loads((folders / "r" / "manifest.json").read_text(encoding="utf-8"))
    assert "notat_2018.docx" in manifest["filer_skrevet"]
    doc = Document(str(path))
    [table] = doc.tables
    result = kmf.run()
    b1 = result.b1.filter(pl.col("niveau") != "kommune")
    rows = [[c.text for c in row.cells] for row in table.rows]
    assert len(rows) == 1 + b1.height  # a header, Hele landet and the five regions
    by_name = {r[0]: r for r in rows[1:]}
    for unit in b1.to_dicts():
        row = by_name[unit["navn"]]
        assert row[1] == _shown(unit["kmf_budget_kr"], 1e6)
        assert row[2] == _shown(unit["kmf_prognose_kr"], 1e6)
        assert row[3] == _shown(unit["aendring_pct"])
        assert row[4] == _shown(unit["aktivitetseffekt_pct"])
        assert row[7] == _shown(unit["oevrige_pct"])
    texts = [p.text for p in doc.paragraphs]
    assert texts[0] == "Sammenfatning: KMF-prognosen for 2018 sammenlignet med budgettet"
    assert texts[-1].startswith("Kilde: Egne beregninger med kmf")
    assert len(doc.inline_shapes) == 1  # the waterfall
    # the text is the sammenfatning's, paragraph for paragraph
    md = (folders / "r" / "sammenfatning.md").read_text(encoding="utf-8")
    body = [line.removeprefix("- ").removeprefix("## ").removeprefix("# ") for line in
            md.splitlines() if line]  # fmt: skip
    # ... with each number's minus sign as U+2212, which Word never breaks a line after
    assert all(line in [t.replace("\u2212", "-") for t in texts] for line in body)
    assert not [t for t in texts if re.search(r"(^|[\s(:])-\d", t)]
    assert any("\u2212" in t for t in texts)  # the sample's national A is -4,9


def test_kmf_kommune_writes_the_notat_with_the_kommune_s_b1_rows(folders: Path) -> None:
    path = folders / "k" / "notat_851_2018.docx"
    assert path.is_file()
    doc = Document(str(path))
    [table] = doc.tables
    names = [row.cells[0].text for row in table.rows][1:]
    assert names == ["Aalborg", "Region Nordjylland", "Hele landet",
                     "Sammenligningsgruppen (10 kommuner)"]  # fmt: skip
    aalborg = kmf.run().b1.filter(pl.col("kode") == "851").row(0, named=True)
    row = [c.text for c in table.rows[1].cells]
    assert row[1:4] == [_shown(aalborg["kmf_budget_kr"], 1e6),
                        _shown(aalborg["kmf_prognose_kr"], 1e6),
                        _shown(aalborg["aendring_pct"])]  # fmt: skip
    text = "\n".join(p.text for p in doc.paragraphs)
    # the numbers of the text are those of the table, as shown
    assert f"{row[2]} mio. kr." in text and f"{row[1]} mio. kr." in text
    assert f"{_shown(abs(aalborg['aendring_pct']))} pct. over budgettet" in text
    assert doc.paragraphs[-1].text.startswith("Kilde:")
    assert "syntetiske eksempeldata" in doc.paragraphs[-1].text
    assert len(doc.inline_shapes) == 1
