"""The Excel workbook a konsulent sends on: every table laid out like the report (openpyxl).

Values are stored unrounded; number formats show them as the report does. Each table has
its kommune- or regionskode, its unit, and under it the notes a reader needs ("Anm.:") and
the source line ("Kilde:"). Only reads a ``Result``. The sheets and their order are
:func:`sheet_order`: a new sheet is one more entry there.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from functools import partial
from pathlib import Path
from typing import TYPE_CHECKING, Any

import polars as pl
from openpyxl import Workbook
from openpyxl.styles import Alignment
from openpyxl.utils import get_column_letter
from openpyxl.worksheet.worksheet import Worksheet

from kmf import codes
from kmf.compute.decompose import METHODS
from kmf.danish import format_date
from kmf.report import excel_pages
from kmf.report.excel_settlement import settlement_tables
from kmf.report.excel_style import (
    BODY,
    BOLD,
    HEADER_FILL,
    ITALIC,
    LAND_FILL,
    LINE_HEIGHT,
    TITLE_FONT,
    column_width_pt,
    keep_blocks_together,
    notes,
    number,
    number_format,
    print_setup,
    style,
    text,
)
from kmf.report.excel_table import Col, Table
from kmf.report.labels import EFFECTS, MAIN_EFFECTS
from kmf.report.text_sheet import summary_sheet

if TYPE_CHECKING:
    from kmf.result import Result

#: writes one sheet of the workbook
SheetWriter = Callable[[Worksheet, "Result"], None]
HEADER_ROW = 4
CENTRED = Alignment(wrap_text=True, horizontal="center", vertical="center")
CODE_ALIGN = Alignment(horizontal="center")
MIDDLE = Alignment(vertical="center")
INDENT = Alignment(indent=1)


def write_workbook(result: Result, path: Path, images: dict[str, Path] | None = None) -> None:
    """Write ``kmf_dekomponering_<T>.xlsx`` for ``result`` to ``path``. ``images`` are the
    waterfall PNGs already drawn, by B1 code; without them they are drawn here."""
    wb = Workbook()
    wb.remove(wb.active)
    for name, writer in sheet_order(result, images):
        writer(wb.create_sheet(name), result)
    summary_sheet(wb, result, text)  # "Sammenfatning", first: the text in Danish
    wb.save(path)


def sheet_order(
    result: Result, images: dict[str, Path] | None = None
) -> list[tuple[str, SheetWriter]]:
    """Every sheet of the workbook, in order, with the function that writes it."""
    tables = table_sheets(result)
    sheets: list[tuple[str, SheetWriter]] = [
        (name, partial(_table_writer, table)) for name, table in tables.items()
    ]
    return [
        *sheets,
        ("Figurer", excel_pages.figures_sheet),
        ("Vandfald", lambda ws, r: excel_pages.waterfall_sheet(ws, r, images)),
        ("Metode", excel_pages.method_sheet),
        ("Om kørslen", excel_pages.about_sheet),
    ]


def _table_writer(table: Table, ws: Worksheet, _: Result) -> None:
    table_sheet(ws, table)


def _oea(result: Result) -> str:
    return f"ØA{result.aar % 100:02d}"


def _regions_then_land(frame: pl.DataFrame) -> pl.DataFrame:
    """Tabel 1–3 as the report runs them: the regions by code (Nordjylland … Sjælland),
    Hele landet last."""
    return frame.sort(pl.col("niveau") == "land", pl.col("kode"))


def table_sheets(result: Result) -> dict[str, Table]:
    """The table sheets by sheet name: Tabel 1–6, B1–B4 and, with ``metode="alle"``,
    Metoder."""
    oea = _oea(result)
    pct = effect_columns(1)
    source = excel_pages.source_line(result)
    exact = "omraademikseffekt_pct" in result.b1.columns
    land = result.b1.row(0, named=True)["navn"]
    partial = codes.partial_note(result.b1.filter(pl.col("niveau") == "kommune").height)
    order_note = "Regionerne står i analysens rækkefølge med hele landet sidst."
    if partial:  # the sum is of the data's kommuner only
        order_note = f'Regionerne står i analysens rækkefølge med "{land}" sidst. {partial}'

    whole = (
        "Procenterne vises i hele tal som i analysens tabel B1, så de viste effekter summer "
        "ikke altid til den viste ændring; cellerne har de uafrundede værdier, og Tabel 1 og "
        "kommunernes egne rapporter viser én decimal."
    )
    kr_note = (
        "Kolonnerne i mio. kr. er ikke i analysens tabel; de er med, så tallene kan "
        "efterregnes (cellerne har beløbene i kr.)."
    )
    change_note = (
        f"Ændringen er den forventede KMF-afregning {result.aar} (prognosen) minus budgettet "
        f"({oea}) i pct. af budgettet; effekterne er pct.-point af budgettet, og A + B + C + "
        "Øvrige = ændringen."
    )
    ranked = _ranked_note(result)
    if partial:  # tabel 4–6 are empty: they rank all 98 kommuner
        ranked = f"{partial} Tabellen rangerer alle 98 kommuner og er derfor tom."
    rank = [Col("rang", "Rang", 0, 6)]
    tables = {
        "Tabel 1": Table(
            f"Tabel 1. Udvikling i forventet skøn af KMF-afregning ift. {oea} og "
            f"dekomponering af effekterne, regioner og {'i alt' if partial else 'hele landet'}",
            "Pct./pct.-point; mio. kr.",
            _regions_then_land(result.tabel(1)), pct, "Region",
            [f"Anm.: {change_note} {order_note} {kr_note}", source]),
        "Tabel 2": Table(
            "Tabel 2. Antal kommuner, hvor den enkelte effekt udgør mere end 50 pct. af den "
            "samlede ændring", "Antal kommuner", _regions_then_land(result.tabel(2)),
            [Col("antal_kommuner", "Antal kommuner", 0, 11),
             *(Col(e, EFFECTS[e].header, 0, 14) for e in MAIN_EFFECTS)], "Region",
            ["Anm.: Summen af de tre effekter kan godt overstige antallet af kommuner: hvis én "
             "af effekterne trækker modsat den samlede ændring, kan de to andre hver udgøre "
             f"mere end 50 pct. af den, og kommunen tæller da for begge. {order_note}", source]),
        "Tabel 3": Table(
            "Tabel 3. Antal kommuner med negativ og positiv effekt", "Antal kommuner",
            _regions_then_land(result.tabel(3)),
            [Col("antal_kommuner", "Antal kommuner", 0, 11),
             *(Col(f"{e}_{side}", EFFECTS[e].header, 0, 14, group=group)
               for side, group in (("negativ", "Negativt bidrag"),
                                   ("positiv", "Positivt bidrag"))
               for e in MAIN_EFFECTS)], "Region",
            ["Anm.: Negativt bidrag: effekten trækker KMF-afregningen ned ift. budgettet; "
             "positivt bidrag: op. En effekt på præcis 0 tæller i ingen af delene. "
             f"{order_note}", source]),
        "Tabel 4": Table(
            "Tabel 4. De 10 kommuner med den største stigning i forventet KMF-afregning ift. "
            f"{oea}", "Pct./pct.-point; mio. kr.", result.tabel(4), rank + pct, "Kommune",
            [f"Anm.: {ranked} {change_note} {kr_note}", source]),
        "Tabel 5": Table(
            "Tabel 5. De 10 kommuner i midten af fordelingen af ændringen i forventet "
            f"KMF-afregning ift. {oea}", "Pct./pct.-point; mio. kr.", result.tabel(5), rank + pct,
            "Kommune",
            [f"Anm.: {ranked} {_middle_note(result)} {change_note} {kr_note}", source]),
        "Tabel 6": Table(
            f"Tabel 6. De 10 kommuner med det største fald i forventet KMF-afregning ift. {oea}",
            "Pct./pct.-point; mio. kr.", result.tabel(6), rank + pct, "Kommune",
            [f"Anm.: {ranked} Det største fald står nederst. {change_note} {kr_note}",
             source]),
        "B1": Table(
            f"Tabel B1. Udvikling i forventet skøn af KMF-afregning ift. {oea} og "
            "dekomponering af effekterne for de enkelte kommuner", "Pct./pct.-point; mio. kr.",
            result.b1, effect_columns(0, split=exact),
            notes=[f"Anm.: {change_note} {land} øverst, derefter hver region med sine "
                   f"kommuner efter kommunekode. {whole} {kr_note}", source]),
        "B2": Table(
            f"Tabel B2. Ændring i aldersfordelingen af forbruget, {result.aar} ift. {oea}",
            "Pct.-point", result.b2, _share_columns(codes.AGE_GROUPS, codes.AGE_LABELS),
            notes=["Anm.: Ændringen i aldersgruppens andel af produktionsværdien (forbruget) "
                   "fra budget til prognose; hver række summerer til 0. Ej aldersdiff. er "
                   "psykiatrien.", source]),
        "B3": Table(
            "Tabel B3. Ændring i den gennemsnitlige KMF-andel pr. aldersgruppe, "
            f"{result.aar} ift. {oea}", "Pct.-point", result.b3,
            _share_columns(codes.AGE_GROUPS, codes.AGE_LABELS),
            notes=["Anm.: KMF-andelen er KMF-afregningen i pct. af produktionsværdien i "
                   "aldersgruppen; tabellen viser dens ændring fra budget til prognose i "
                   "pct.-point. Tom, hvor aldersgruppen ikke har forbrug i budget eller "
                   "prognose.", source]),
        "B4": Table(
            "Tabel B4. Ændring i forbrugets fordeling på sundhedsområder, "
            f"{result.aar} ift. {oea}", "Pct.-point", result.b4,
            _share_columns(codes.AREAS, codes.AREA_LABELS),
            notes=["Anm.: Ændringen i sundhedsområdets andel af produktionsværdien "
                   "(forbruget) fra budget til prognose; hver række summerer til 0.", source]),
    }  # fmt: skip
    if result.metoder is not None:
        tables["Metoder"] = Table(
            f"Effekterne efter metode, {result.aar} ift. {oea}", "Pct.-point af budgettet",
            result.metoder, _method_columns(result.metoder.columns),
            notes=["Anm.: Hver effekt efter hver metode side om side. Ministeriets metode "
                   "efterlader en rest (Øvrige); lmdi og shapley har ingen rest og deler C i "
                   "C1 (områdemiks) og C2 (KMF-andel). Se arket Metode.", source],
        )  # fmt: skip
    when = "" if result.dato is None else f"prognose pr. {format_date(result.dato)}"
    own = excel_pages.source_text(result.manifest.version, "befolkning", result.manifest.datasaet,
                                  when)  # fmt: skip
    tables.update(population_tables(result, own))
    tables.update(settlement_tables(result, source))
    return tables


#: the citizens' effects (SPEC §9): column stem and header
POPULATION_EFFECTS = (
    ("befolkningseffekt", "Flere/færre borgere"),
    ("demografieffekt", "Alders-\nsammen-\nsætning"),
    ("forbrugseffekt", "Forbrug pr. borger"),
    ("omraademikseffekt", "C1. Områdemiks"),
    ("andelseffekt", "C2. KMF-andel"),
)


def population_tables(result: Result, source: str) -> dict[str, Table]:
    """The sheets "Befolkning" and "Borgere" (SPEC §9), where the run has a population."""
    if result.befolkning is None or result.borger is None:
        return {}
    oea = _oea(result)
    years = f"{result.aar - 2} og {result.aar}"
    return {
        "Befolkning": Table(
            f"Ændringen fra {oea} til prognosen {result.aar} fordelt på flere borgere, "
            "alderssammensætning og forbrug pr. borger",
            "Pct./pct.-point af budgettet; personer; mio. kr.",
            result.befolkning,
            [Col("aendring_pct", "Ændring i alt", 1, 11),
             *(Col(f"{e}_pct", header, 1, 12) for e, header in POPULATION_EFFECTS),
             Col("indbyggere_budget", f"Indbyggere {result.aar - 2}", 0, 13, thousands=True),
             Col("indbyggere_prognose", f"Indbyggere {result.aar}", 0, 13, thousands=True),
             Col("kmf_budget_kr", "Budget, mio. kr.", 1, 12, mio=True),
             Col("kmf_prognose_kr", "Prognose, mio. kr.", 1, 12, mio=True),
             Col("aendring_kr", "Ændring, mio. kr.", 1, 12, mio=True)],
            notes=[f"Anm.: Ændringen fra budget til prognose i pct. af budgettet, delt præcist "
                   "(logaritmisk middelværdi celle for celle) i fem dele, der summerer til "
                   "ændringen: flere eller færre borgere (indbyggertallet), "
                   "alderssammensætningen (aldersgruppernes andel af borgerne), forbruget pr. "
                   "borger i hver aldersgruppe (produktionsværdi pr. indbygger), områdemiksen "
                   "inden for aldersgruppen (C1) og KMF-andelen i cellen (C2). Budgettet "
                   f"bruger befolkningen i {result.aar - 2} (året for budgettets aktivitet), "
                   f"prognosen befolkningen i {result.aar}. Regioner og hele landet er "
                   "summen af kommunerne. Tallene er vist afrundet; cellerne har de "
                   "uafrundede værdier.", source]),
        "Borgere": Table(
            f"KMF pr. indbygger {result.aar} og indeks for alderssammensætningen",
            "Personer; mio. kr.; kr. pr. indbygger; indeks (hele landet = 100)", result.borger,
            [Col("indbyggere", f"Indbyggere {result.aar}", 0, 13, thousands=True),
             Col("kmf_prognose_kr", "Prognose, mio. kr.", 1, 12, mio=True),
             Col("kmf_pr_indbygger_kr", "KMF pr. indbygger, kr.", 0, 13, thousands=True),
             Col("forventet_kmf_kr", "Forventet KMF, mio. kr.", 1, 12, mio=True),
             Col("forventet_pr_indbygger_kr", "Forventet pr. indbygger, kr.", 0, 13,
                 thousands=True),
             Col("indeks", "Indeks", 1, 9)],
            notes=["Anm.: Forventet KMF er det, enheden ville betale, hvis hver af dens borgere "
                   "brugte det samme som landsgennemsnittet for sin aldersgruppe (KMF i "
                   "prognosen pr. indbygger i aldersgruppen for hele landet, psykiatrien pr. "
                   "indbygger i alt). Indeks = prognosen / forventet KMF × 100: over 100 betaler "
                   "enheden mere, end dens alderssammensætning tilsiger; under 100 mindre. "
                   f"Befolkningen er den, datasættet angiver for {result.aar} ({years} bruges "
                   "i arket Befolkning). Regioner: summen af kommunerne.", source]),
    }  # fmt: skip


def _ranked_note(result: Result) -> str:
    count = result.b1.filter(pl.col("niveau") == "kommune").height
    return (
        f"Alle {count} kommuner er rangeret efter ændringen i pct. af budgettet (rang 1 = "
        "største stigning); tabellen står i rangorden med hele landet nederst til "
        "sammenligning."
    )


def _middle_note(result: Result) -> str:
    ranks = result.tabel(5)["rang"].drop_nulls()
    if ranks.is_empty():
        return ""
    return f"Midten er rang {int(ranks.min())}–{int(ranks.max())}."  # type: ignore[arg-type]


def effect_columns(decimals: int, *, split: bool = False) -> list[Col]:
    """The B1 columns; with ``split`` the exact methods' C1 and C2 right after C."""
    c_split = [
        Col("omraademikseffekt_pct", EFFECTS["omraademikseffekt"].name, decimals, 12),
        Col("andelseffekt_pct", EFFECTS["andelseffekt"].name, decimals, 12),
    ]
    kr = [
        ("kmf_budget_kr", "Budget, mio. kr."), ("kmf_prognose_kr", "Prognose, mio. kr."),
        ("aendring_kr", "Ændring, mio. kr."), ("aktivitetseffekt_kr", "A, mio. kr."),
        ("aldersgruppeeffekt_kr", "B, mio. kr."), ("sundhedsomraadeeffekt_kr", "C, mio. kr."),
        ("oevrige_kr", "Øvrige, mio. kr."),
    ]  # fmt: skip
    return [
        Col("aendring_pct", "Ændring i alt", decimals, 11),
        *(Col(f"{e}_pct", EFFECTS[e].header, decimals, 14) for e in MAIN_EFFECTS),
        *(c_split if split else []),
        Col("oevrige_pct", "Øvrige", decimals, 10),
        # in mio. kr. as the texts write them; wide enough for 21.500,0 and its header
        *(Col(name, header, 1, 12, mio=True) for name, header in kr),
    ]


def _method_columns(names: Sequence[str]) -> list[Col]:
    """Per effect, the methods side by side (pct. of the budget)."""
    cols = [Col("aendring_pct", "Ændring i alt", 1, 10)]
    for effect in EFFECTS.values():
        for method, spec in METHODS.items():
            name = f"{effect.column}_pct_{method}"
            if name in names:
                cols.append(Col(name, f"{effect.letter}\n{spec.label}", 1, 11))
    return cols


def _share_columns(keys: Sequence[str], labels: dict[str, str]) -> list[Col]:
    return [Col(k, labels[k], 1, 12) for k in keys]


def _code(row: dict[str, Any]) -> int | None:
    """The kommune- or regionskode as a number (to look up and sort by); none for Hele
    landet."""
    kode = row.get("kode")
    return int(kode) if kode is not None and str(kode).isdigit() else None


def table_sheet(ws: Worksheet, table: Table) -> None:
    """One table: title, unit, header (two rows when columns are grouped), a row per unit
    (regions and Hele landet bold, kommuner indented), then the notes and the source."""
    columns = table.columns
    last = len(columns) + 2
    text(ws, 1, 1, table.title, TITLE_FONT)
    text(ws, 2, 1, table.unit, ITALIC)
    grouped = any(c.group for c in columns)
    header = HEADER_ROW + 1 if grouped else HEADER_ROW
    ws.column_dimensions["A"].width = 7
    # wide enough for the longest name ("Region Nordjylland (2 af 11 kommuner)")
    names = [len(str(n)) for n in table.frame["navn"]] if "navn" in table.frame.columns else []
    ws.column_dimensions["B"].width = max([24, *(n + 2 for n in names)])
    if grouped:
        for j in range(1, last + 1):
            style(ws.cell(row=HEADER_ROW, column=j), BOLD, HEADER_FILL, align=CENTRED)
        _group_headers(ws, columns)
    for j, label in ((1, "Kode"), (2, table.names)):
        text(ws, header, j, label, BOLD, MIDDLE, HEADER_FILL)
    for j, col in enumerate(columns, start=3):
        text(ws, header, j, col.header, BOLD, CENTRED, HEADER_FILL)
        ws.column_dimensions[get_column_letter(j)].width = col.width
    ws.row_dimensions[header].height = 46
    formats = [(col.name, col.decimals, col.thousands, col.mio) for col in columns]
    row_number = header
    # as in the report: Hele landet bold, and a region bold where its kommuner follow it (B1);
    # in a table of regions only (Tabel 1) the regions are plain body rows
    bold = ("land", "region") if _has_kommuner(table.frame) else ("land",)
    for row_number, row in enumerate(table.frame.iter_rows(named=True), start=header + 1):
        level = row.get("niveau")
        font = BOLD if level in bold else None
        fill = LAND_FILL if level == "land" else None
        number(ws, row_number, 1, _code(row), "0", font=font, fill=fill, align=CODE_ALIGN)
        indent = level == "kommune" and "rang" not in row
        text(ws, row_number, 2, row["navn"], font or BODY, INDENT if indent else None, fill)
        if indent:
            ws.row_dimensions[row_number].outlineLevel = 1
        for j, (key, decimals, thousands, mio) in enumerate(formats, start=3):
            value = row.get(key)
            number(ws, row_number, j, value, number_format(value, decimals, thousands, mio),
                   font=font, fill=fill)  # fmt: skip
    widths = [ws.column_dimensions[get_column_letter(j)].width for j in range(1, last + 1)]
    notes(ws, row_number + 2, table.notes, sum(widths), last)
    ws.freeze_panes = ws.cell(row=header + 1, column=3)
    # the wide tables (B1, Tabel 1 and 4–6 with their kr.) across, the narrow ones upright
    landscape = len(columns) > 8
    print_setup(ws, f"{HEADER_ROW}:{header}", landscape=landscape)
    repeated = sum(
        ws.row_dimensions[r].height or LINE_HEIGHT for r in range(HEADER_ROW, header + 1)
    )
    keep_blocks_together(ws, [header + 1 + i for i in _block_starts(table.frame)], row_number,
                         sum(column_width_pt(w) for w in widths), repeated, landscape)  # fmt: skip


def _block_starts(frame: pl.DataFrame) -> list[int]:
    """The rows (0-based) where a block begins that a printed page should not split: Hele
    landet with what follows it (a date of a track), and each region with its kommuner."""
    if "niveau" not in frame.columns or frame.height == 0:
        return [0] if frame.height else []
    levels = frame["niveau"].to_list()
    kommuner = "kommune" in levels
    return [
        i for i, level in enumerate(levels)
        if i == 0 or level == "land"
        or (kommuner and level == "region" and levels[i - 1] != "land")
    ]  # fmt: skip


def _has_kommuner(frame: pl.DataFrame) -> bool:
    return "niveau" in frame.columns and (frame["niveau"] == "kommune").any()


def _group_headers(ws: Worksheet, columns: list[Col]) -> None:
    """The row above the headers: each group's name over its columns, merged."""
    done: set[str] = set()
    for j, col in enumerate(columns, start=3):
        if col.group and col.group not in done:
            done.add(col.group)
            span = sum(1 for c in columns if c.group == col.group)
            text(ws, HEADER_ROW, j, col.group, BOLD, CENTRED, HEADER_FILL)
            ws.merge_cells(start_row=HEADER_ROW, start_column=j, end_row=HEADER_ROW,
                           end_column=j + span - 1)  # fmt: skip
