"""The Excel workbook a konsulent sends on: every table laid out like the report (openpyxl).

Values are stored unrounded; number formats show them as the report does. Only reads a
``Result``.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Any

from openpyxl import Workbook
from openpyxl.cell.cell import ILLEGAL_CHARACTERS_RE
from openpyxl.chart import BarChart, Reference
from openpyxl.styles import Alignment, Font, PatternFill
from openpyxl.utils import get_column_letter
from openpyxl.worksheet.worksheet import Worksheet

from kmf import codes
from kmf.decompose import METHODS
from kmf.report.labels import EFFECTS, FIGURES, MAIN_EFFECTS
from kmf.report.text_sheet import summary_sheet

if TYPE_CHECKING:
    from kmf.result import Result

WHOLE = "0;[Red]-0"
ONE_DECIMAL = "0.0;[Red]-0.0"
KR = "#,##0;[Red]-#,##0"
COUNT = "0"

TITLE_FONT = Font(bold=True, size=13)
BOLD = Font(bold=True)
HEADER_FILL = PatternFill("solid", fgColor="DDE5F0")
LAND_FILL = PatternFill("solid", fgColor="F2F2F2")


@dataclass(frozen=True)
class Col:
    """A column of a sheet: the frame's column, its Danish header, format and width."""

    name: str
    header: str
    fmt: str | None = None
    width: float = 13


def write_workbook(result: Result, path: Path) -> None:
    """Write ``kmf_dekomponering_<T>.xlsx`` for ``result`` to ``path``."""
    wb = Workbook()
    wb.remove(wb.active)
    oea = f"ØA{result.aar % 100:02d}"
    b1_columns = _effect_columns(WHOLE, split="omraademikseffekt_pct" in result.b1.columns)
    effect_cols_1dec = _effect_columns(ONE_DECIMAL)
    rank = [Col("rang", "Rang", COUNT, 7)]
    sheets: list[tuple[str, str, str, Any, list[Col]]] = [
        ("Tabel 1", f"Tabel 1. Udvikling i forventet skøn af KMF-afregning ift. {oea} og "
         "dekomponering af effekterne, regioner og hele landet", "Pct./pct.-point",
         result.tabel(1), effect_cols_1dec),
        ("Tabel 2", "Tabel 2. Antal kommuner, hvor den enkelte effekt udgør mere end 50 pct. "
         "af den samlede ændring", "Antal kommuner", result.tabel(2), _count_columns_2()),
        ("Tabel 3", "Tabel 3. Antal kommuner med negativ og positiv effekt", "Antal kommuner",
         result.tabel(3), _count_columns_3()),
        ("Tabel 4", "Tabel 4. De 10 kommuner med den største stigning i forventet "
         f"KMF-afregning ift. {oea}", "Pct./pct.-point", result.tabel(4),
         rank + effect_cols_1dec),
        ("Tabel 5", "Tabel 5. De 10 kommuner i midten af fordelingen af ændringen i forventet "
         f"KMF-afregning ift. {oea}", "Pct./pct.-point", result.tabel(5),
         rank + effect_cols_1dec),
        ("Tabel 6", "Tabel 6. De 10 kommuner med det største fald i forventet KMF-afregning "
         f"ift. {oea}", "Pct./pct.-point", result.tabel(6), rank + effect_cols_1dec),
        ("B1", f"Tabel B1. Udvikling i forventet skøn af KMF-afregning ift. {oea} og "
         "dekomponering af effekterne for de enkelte kommuner", "Pct./pct.-point", result.b1,
         b1_columns),
        ("B2", f"Tabel B2. Ændring i aldersfordelingen af forbruget, {result.aar} ift. {oea}",
         "Pct.-point", result.b2, _share_columns(codes.AGE_GROUPS, codes.AGE_LABELS)),
        ("B3", "Tabel B3. Ændring i den gennemsnitlige KMF-andel pr. aldersgruppe, "
         f"{result.aar} ift. {oea}", "Pct.-point", result.b3,
         _share_columns(codes.AGE_GROUPS, codes.AGE_LABELS)),
        ("B4", "Tabel B4. Ændring i forbrugets fordeling på sundhedsområder, "
         f"{result.aar} ift. {oea}", "Pct.-point", result.b4,
         _share_columns(codes.AREAS, codes.AREA_LABELS)),
    ]  # fmt: skip
    if result.metoder is not None:
        sheets.append(
            ("Metoder", f"Effekterne efter metode, {result.aar} ift. {oea}",
             "Pct.-point af budgettet", result.metoder, _method_columns(result.metoder.columns))
        )  # fmt: skip
    for name, title, unit, frame, columns in sheets:
        _table_sheet(wb.create_sheet(name), title, unit, frame.to_dicts(), columns)
    _figures_sheet(wb.create_sheet("Figurer"), result, oea)
    _method_sheet(wb.create_sheet("Metode"), result)
    _about_sheet(wb.create_sheet("Om kørslen"), result)
    summary_sheet(wb, result, _text)  # "Sammenfatning", first: the text in Danish
    wb.save(path)


def _effect_columns(pct_format: str, *, split: bool = False) -> list[Col]:
    """The B1 columns; with ``split`` the exact methods' C1 and C2 right after C."""
    c_split = [
        Col("omraademikseffekt_pct", "C1. Områdemiks", pct_format, 12),
        Col("andelseffekt_pct", "C2. KMF-andel", pct_format, 12),
    ]
    return [
        Col("aendring_pct", "Ændring i alt", pct_format, 11),
        *(Col(f"{e}_pct", EFFECTS[e].header, pct_format, 13) for e in MAIN_EFFECTS),
        *(c_split if split else []),
        Col("oevrige_pct", "Øvrige", pct_format, 9),
        Col("kmf_budget_kr", "Budget, kr.", KR, 16),
        Col("kmf_prognose_kr", "Prognose, kr.", KR, 16),
        Col("aendring_kr", "Ændring, kr.", KR, 15),
        Col("aktivitetseffekt_kr", "A, kr.", KR, 15),
        Col("aldersgruppeeffekt_kr", "B, kr.", KR, 15),
        Col("sundhedsomraadeeffekt_kr", "C, kr.", KR, 15),
        Col("oevrige_kr", "Øvrige, kr.", KR, 14),
    ]


METHOD_LABELS = {name: method.label for name, method in METHODS.items()}


def _method_columns(names: Sequence[str]) -> list[Col]:
    """Per effect, the methods side by side (pct. of the budget)."""
    cols = [Col("aendring_pct", "Ændring i alt", ONE_DECIMAL, 10)]
    for effect, label in ((e.column, e.letter) for e in EFFECTS.values()):
        for method, method_label in METHOD_LABELS.items():
            name = f"{effect}_pct_{method}"
            if name in names:
                cols.append(Col(name, f"{label}\n{method_label}", ONE_DECIMAL, 11))
    return cols


def _share_columns(keys: Sequence[str], labels: dict[str, str]) -> list[Col]:
    return [Col(k, labels[k], ONE_DECIMAL, 12) for k in keys]


def _count_columns_2() -> list[Col]:
    return [
        Col("antal_kommuner", "Antal kommuner", COUNT, 10),
        *(Col(e, EFFECTS[e].header, COUNT, 13) for e in MAIN_EFFECTS),
    ]


def _count_columns_3() -> list[Col]:
    cols = [Col("antal_kommuner", "Antal kommuner", COUNT, 10)]
    for key, label in ((e, EFFECTS[e].letter) for e in MAIN_EFFECTS):
        cols.append(Col(f"{key}_negativ", f"{label} negativ", COUNT, 10))
        cols.append(Col(f"{key}_positiv", f"{label} positiv", COUNT, 10))
    return cols


def _text(ws: Worksheet, row: int, col: int, value: str | None) -> Any:
    """A text cell that Excel never reads as a formula; control characters, which a
    workbook cannot hold, are shown as '?'."""
    if value is not None:
        value = ILLEGAL_CHARACTERS_RE.sub("?", value)
    cell = ws.cell(row=row, column=col, value=value)
    if value is not None:
        cell.data_type = "s"
        if value[:1] in ("=", "+", "-", "@"):
            cell.quotePrefix = True
    return cell


def _table_sheet(
    ws: Worksheet, title: str, unit: str, rows: list[dict[str, Any]], columns: list[Col]
) -> None:
    _text(ws, 1, 1, title).font = TITLE_FONT
    _text(ws, 2, 1, unit).font = Font(italic=True)
    header_row = 4
    _text(ws, header_row, 1, "Kommune/region").font = BOLD
    ws.column_dimensions["A"].width = 26
    for j, col in enumerate(columns, start=2):
        cell = _text(ws, header_row, j, col.header)
        cell.font = BOLD
        cell.alignment = Alignment(wrap_text=True, horizontal="center", vertical="center")
        ws.column_dimensions[get_column_letter(j)].width = col.width
    for j in range(1, len(columns) + 2):
        ws.cell(row=header_row, column=j).fill = HEADER_FILL
    ws.row_dimensions[header_row].height = 46
    for i, row in enumerate(rows, start=header_row + 1):
        level = row.get("niveau")
        name = _text(ws, i, 1, row["navn"])
        if level == "kommune":
            name.alignment = Alignment(indent=1)
            ws.row_dimensions[i].outlineLevel = 1
        for j, col in enumerate(columns, start=2):
            cell = ws.cell(row=i, column=j, value=row.get(col.name))
            if col.fmt:
                cell.number_format = col.fmt
        if level in ("land", "region"):
            for j in range(1, len(columns) + 2):
                ws.cell(row=i, column=j).font = BOLD
                if level == "land":
                    ws.cell(row=i, column=j).fill = LAND_FILL
    ws.freeze_panes = ws.cell(row=header_row + 1, column=2)
    _print_setup(ws, header_row)


def _print_setup(ws: Worksheet, header_row: int) -> None:
    """Landscape, one page wide, the header repeated on every printed page."""
    ws.page_setup.orientation = "landscape"
    ws.page_setup.paperSize = ws.PAPERSIZE_A4
    ws.sheet_properties.pageSetUpPr.fitToPage = True
    ws.page_setup.fitToWidth = 1
    ws.page_setup.fitToHeight = 0
    ws.print_title_rows = f"{header_row}:{header_row}"


def _figures_sheet(ws: Worksheet, result: Result, oea: str) -> None:
    """Figur 1–3 as native Excel bar charts over a small data block for Hele landet."""
    land = {
        "b2": result.b2.row(0, named=True),
        "b3": result.b3.row(0, named=True),
        "b4": result.b4.row(0, named=True),
    }
    _text(ws, 1, 1, f"Figur 1–3. Hele landet, {result.aar} ift. {oea}").font = TITLE_FONT
    figures = [(f.title, f.table, f.keys, f.labels) for f in FIGURES.values()]
    ws.column_dimensions["A"].width = 18
    ws.column_dimensions["B"].width = 14
    top = 3
    for title, key, keys, labels in figures:
        _text(ws, top, 1, title).font = BOLD
        _text(ws, top + 1, 1, "")
        _text(ws, top + 1, 2, "Pct.-point").font = BOLD
        for i, k in enumerate(keys, start=top + 2):
            _text(ws, i, 1, labels[k])
            ws.cell(row=i, column=2, value=land[key][k]).number_format = ONE_DECIMAL
        chart = BarChart()
        chart.type = "col"
        chart.title = title
        chart.y_axis.title = "Pct.-point"
        chart.legend = None
        chart.x_axis.delete = False
        chart.y_axis.delete = False
        chart.x_axis.tickLblPos = "low"  # labels below negative bars
        data = Reference(ws, min_col=2, min_row=top + 1, max_row=top + 1 + len(keys))
        cats = Reference(ws, min_col=1, min_row=top + 2, max_row=top + 1 + len(keys))
        chart.add_data(data, titles_from_data=True)
        chart.set_categories(cats)
        chart.height, chart.width = 7.5, 15
        ws.add_chart(chart, f"D{top}")
        top += 16
    _print_setup(ws, 1)


METHOD_TEXT = [
    ("Hvad tabellerne viser", True),
    ("Afvigelsen mellem den forventede KMF-afregning (prognosen) og budgettet (niveauet i "
     "økonomiaftalen, ØA) deles op i tre effekter og en rest. Alle beløb er i kr.; procenterne "
     "er i forhold til budgettet.", False),
    ("Prognosen", True),
    ("Kommunens efterregistreringsfaktor f = KMF i sidste års endelige opgørelse / KMF i "
     "sidste års foreløbige opgørelse. Prognosen er årets foreløbige opgørelse ganget med f "
     "(både produktionsværdi og KMF, så KMF-andelen holdes).", False),
    ("Budgettet", True),
    ("Aktiviteten to år før budgetåret (endelig opgørelse i budgetårets takster) skaleres, så "
     "den rammer budgettet. Et landsbudget fordeles på kommunerne efter deres KMF i det år.",
     False),
    ("Faktorerne", True),
    ("KMF = P · Σ w·s, hvor P er produktionsværdien, w aldersgruppernes andel af P og s "
     "KMF-andelen i hver aldersgruppe. Psykiatri er sin egen gruppe (ej aldersdiff.).", False),
    ("A. Aktivitetseffekt", True),
    ("Prognosen minus prognosen med budgettets produktionsværdi: hvad ændret aktivitet "
     "(omfanget af sundhedsforbruget) betyder.", False),
    ("B. Aldersgruppeeffekt", True),
    ("Prognosen minus prognosen med budgettets aldersfordeling: hvad det betyder, at forbruget "
     "flytter mellem aldersgrupper med forskellig KMF-andel (højere for 0-2, 65-79 og 80+ "
     "årige).", False),
    ("C. Sundhedsområdeeffekt", True),
    ("Prognosen minus prognosen med budgettets KMF-andele pr. aldersgruppe: hvad det betyder, "
     "at forbruget flytter mellem sundhedsområder (fx somatik og almen praksis) og at "
     "KMF-andelen ændres inden for områderne.", False),
    ("Øvrige", True),
    ("Samspillet mellem effekterne: det, der er tilbage, så A + B + C + Øvrige = ændringen.",
     False),
    ("Metoderne", True),
    ("ministeriet (standard): som i analysen 2018. Hver effekt måles ved at holde én faktor på "
     "budgetniveau og de andre på prognoseniveau. Brug den, når tallene skal kunne "
     "sammenlignes med ministeriets analyse. Den efterlader en rest (Øvrige).", False),
    ("lmdi: logaritmisk middelværdi-dekomponering (LMDI-I) celle for celle. Effekterne summer "
     "præcist til ændringen (Øvrige = 0), og sundhedsområdeeffekten deles i C1 "
     "(områdemiks: forbruget flytter mellem områder inden for aldersgruppen) og C2 "
     "(KMF-andel: takster, lofter og regler ændrer andelen inden for cellen). Brug den, når "
     "der ikke må være en uforklaret rest.", False),
    ("shapley: gennemsnittet over alle 24 rækkefølger, faktorerne kan ændres i. Også præcis "
     "og med C1 og C2; den mest symmetriske fordeling af samspillet. Brug den, når "
     "fordelingen af samspillet skal være neutral.", False),
    ("alle: tabellerne efter ministeriets metode og et ark 'Metoder', hvor hver effekt står "
     "efter alle tre metoder side om side, så man kan se, hvor meget valget betyder.", False),
    ("Regioner og hele landet", True),
    ("Kommunernes beløb lægges sammen og divideres med det samlede budget. Tabel B2–B4 for "
     "regioner og hele landet regnes på kommunernes summerede celler.", False),
    ("Tabel 2–6", True),
    ("Tabel 2 tæller kommuner, hvor en effekt er over 50 pct. af den samlede ændring (en "
     "kommune kan tælle for to effekter). Tabel 3 tæller kommuner med negativ og positiv "
     "effekt. Tabel 4–6 viser de 10 kommuner med størst stigning, de 10 i midten og de 10 med "
     "størst fald, målt i pct. af budgettet.", False),
]  # fmt: skip


def _method_sheet(ws: Worksheet, result: Result) -> None:
    _text(ws, 1, 1, f"Metode: {result.metode}").font = TITLE_FONT
    ws.column_dimensions["A"].width = 110
    for i, (text, heading) in enumerate(METHOD_TEXT, start=3):
        cell = _text(ws, i, 1, text)
        cell.alignment = Alignment(wrap_text=True, vertical="top")
        if heading:
            cell.font = BOLD


def _about_sheet(ws: Worksheet, result: Result) -> None:
    m = result.manifest
    _text(ws, 1, 1, "Om kørslen").font = TITLE_FONT
    facts = [
        ("Program", f"kmf {m.version}"),
        ("Metode", m.metode),
        ("Budgetår", m.aar),
        ("Titel", result.titel or ""),
        ("Datasæt", m.datasaet or "tabeller givet fra Python"),
        ("Budget", m.budget),
        ("Kommuner", m.kommuner),
        ("Rækker, der ikke bruges", m.raekker_ikke_brugt),
        ("Psykiatrirækker lagt i ej aldersdiff.", m.psykiatri_flyttet_til_ej_aldersdiff),
    ]
    for i, (key, value) in enumerate(facts, start=3):
        _text(ws, i, 1, key).font = BOLD
        if isinstance(value, str):
            _text(ws, i, 2, value)
        else:
            ws.cell(row=i, column=2, value=value)
    top = len(facts) + 5
    headers = ["Tabel", "Fil", "sha256", "Rækker læst", "Rækker brugt"]
    for j, header in enumerate(headers, start=1):
        _text(ws, top, j, header).font = BOLD
    for i, f in enumerate(m.filer, start=top + 1):
        _text(ws, i, 1, f.tabel)
        _text(ws, i, 2, f.fil)
        _text(ws, i, 3, f.sha256)
        ws.cell(row=i, column=4, value=f.raekker_laest).number_format = KR
        if f.raekker_brugt is not None:
            ws.cell(row=i, column=5, value=f.raekker_brugt).number_format = KR
    for col, width in zip("ABCDE", (34, 40, 66, 13, 13), strict=True):
        ws.column_dimensions[col].width = width
