"""The workbook's pages that are not tables: Figur 1–3 as native charts, the waterfalls of
Hele landet and the regions, the method box, and "Om kørslen" (what was run on what).
"""

from __future__ import annotations

import io
from datetime import date
from pathlib import Path
from typing import TYPE_CHECKING, Any

from openpyxl.chart import BarChart, Reference
from openpyxl.drawing.image import Image
from openpyxl.styles import Alignment
from openpyxl.worksheet.worksheet import Worksheet

from kmf.danish import format_date, format_dates
from kmf.io.sample import is_sample
from kmf.report.excel_style import (
    BOLD,
    SMALL,
    TITLE_FONT,
    chart_axes,
    notes,
    number,
    number_format,
    page_break,
    paragraph,
    print_setup,
    text,
)
from kmf.report.labels import FIGURES
from kmf.report.unused import unused_cuts

if TYPE_CHECKING:
    from kmf.result import Result

#: rows a chart or a waterfall takes on the sheet, the gap included
FIGURE_ROWS = 18
WATERFALL_ROWS = 20
WATERFALL_PX = (640, 360)  # the PNG's 8 × 4.5 inches
SAMPLE_LABEL = "eksempeldata, der følger med kmf"
FRAMES_LABEL = "tabeller givet fra Python"
LEFT = Alignment(horizontal="left")


def dataset_label(result: Result) -> str:
    """The dataset as a reader should read it: the bundled sample by that name, not by the
    folder it happens to be installed in."""
    return dataset_name(result.manifest.datasaet)


def dataset_name(datasaet: str | None) -> str:
    """:func:`dataset_label` of a manifest's ``datasaet`` (a path, or None for frames)."""
    if datasaet is None:
        return FRAMES_LABEL
    return SAMPLE_LABEL if is_sample(datasaet) else datasaet


def source_line(result: Result) -> str:
    """The "Kilde:" line under every table: whose numbers these are and how they are made
    (the report's line names the ministry; these are computed by kmf from the user's data)."""
    when = "" if result.dato is None else f"prognose pr. {format_date(result.dato)}"
    return source_text(result.manifest.version, result.metode, result.manifest.datasaet, when)


def source_text(version: str, metode: str, datasaet: str | None, when: str = "") -> str:
    """:func:`source_line` from its parts; ``when`` says the date(s) of the forecast(s)."""
    how = (
        "Sundheds- og Ældreministeriets metode" if metode == "ministeriet" else f"metoden {metode}"
    )
    name = dataset_name(datasaet)
    data = name if name in (SAMPLE_LABEL, FRAMES_LABEL) else f"datasættet {Path(name).name}"
    when = f", {when}" if when else ""
    return f"Kilde: Egne beregninger med kmf {version} efter {how}; {data}{when}."


def figures_sheet(ws: Worksheet, result: Result) -> None:
    """Figur 1–3 as native Excel bar charts, each beside its data block for Hele landet;
    no text runs under a chart, and the three share one printed page."""
    tables = {"b2": result.b2, "b3": result.b3, "b4": result.b4}
    oea = f"ØA{result.aar % 100:02d}"
    land = result.b1.row(0, named=True)["navn"]  # "I alt, N kommuner" for part of the country
    text(ws, 1, 1, f"Figur 1–3. {land}, {result.aar} ift. {oea}", TITLE_FONT)
    ws.column_dimensions["A"].width = 16
    ws.column_dimensions["B"].width = 11
    ws.column_dimensions["C"].width = 2
    top = 3
    for figure, spec in FIGURES.items():
        land = tables[spec.table].row(0, named=True)
        text(ws, top, 1, f"Figur {figure}", BOLD)
        text(ws, top, 2, "Pct.-point", BOLD)
        for i, key in enumerate(spec.keys, start=top + 1):
            text(ws, i, 1, spec.labels[key])
            number(ws, i, 2, land[key], number_format(land[key], 1))
        chart = BarChart()
        chart.type = "col"
        chart_axes(chart, spec.title, "Pct.-point")
        chart.y_axis.majorGridlines = None
        chart.legend = None
        data = Reference(ws, min_col=2, min_row=top, max_row=top + len(spec.keys))
        cats = Reference(ws, min_col=1, min_row=top + 1, max_row=top + len(spec.keys))
        chart.add_data(data, titles_from_data=True)
        chart.set_categories(cats)
        chart.height, chart.width = 8, 17.5
        ws.add_chart(chart, f"D{top}")
        top += FIGURE_ROWS
    notes(ws, top, [source_line(result)], 16 + 11 + 2 + 80, 12)
    print_setup(ws, None, landscape=False)
    ws.page_setup.fitToHeight = 1  # the three figures on one page: none left alone


def waterfall_sheet(ws: Worksheet, result: Result, images: dict[str, Path] | None) -> None:
    """The waterfall of Hele landet and of each region (the PNGs of the output folder),
    two to a printed page."""
    from kmf.report.figures import DPI, waterfall, waterfall_units

    units = waterfall_units(result)
    land = result.b1.row(0, named=True)["navn"]
    text(ws, 1, 1, f"Fra budget til prognose {result.aar}: {land} og regionerne",
         TITLE_FONT)  # fmt: skip
    text(ws, 2, 1, "Pct. af budgettet (budget = 100); effekterne i pct.-point af budgettet")
    top = 4
    for i, unit in enumerate(units):
        path = images.get(unit["kode"]) if images else None
        if path is not None:
            source = io.BytesIO(path.read_bytes())  # a file PIL would leave open
        else:
            source = io.BytesIO()
            waterfall(unit, aar=result.aar, dato=result.dato).savefig(source, format="png", dpi=DPI)
        image = Image(source)
        image.width, image.height = WATERFALL_PX
        ws.add_image(image, f"A{top}")
        if i % 2 == 1 and i < len(units) - 1:
            page_break(ws, top + WATERFALL_ROWS - 2)
        top += WATERFALL_ROWS
    notes(ws, top, [source_line(result)], 100, 10)
    print_setup(ws, None, landscape=False)


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
    ("befolkning (kræver befolkningstal): LMDI celle for celle med fem faktorer: antal borgere, "
     "aldersgruppens andel af borgerne, forbrug pr. borger i aldersgruppen, områdemiks og "
     "KMF-andel. Præcis; i tabel B1 er A = flere borgere + forbrug pr. borger og B = "
     "alderssammensætningen. Brug den, når spørgsmålet er: skyldes afvigelsen flere borgere, "
     "en ældre befolkning eller et større forbrug pr. borger?", False),
    ("alle: tabellerne efter ministeriets metode og et ark 'Metoder', hvor hver effekt står "
     "efter alle metoderne side om side, så man kan se, hvor meget valget betyder.", False),
    ("Borgerne", True),
    ("Har datasættet befolkningstal (befolkning.csv), får projektmappen arkene Befolkning og "
     "Borgere, uanset metode. Befolkning deler ændringen efter metoden befolkning. Borgere "
     "viser KMF pr. indbygger og et indeks: KMF i prognosen mod det, enheden ville betale, "
     "hvis hver borger brugte det samme som landsgennemsnittet for sin aldersgruppe (hele "
     "landet = 100).", False),
    ("Regioner og hele landet", True),
    ("Kommunernes beløb lægges sammen og divideres med det samlede budget. Tabel B2–B4 for "
     "regioner og hele landet regnes på kommunernes summerede celler.", False),
    ("Tabel 2–6", True),
    ("Tabel 2 tæller kommuner, hvor en effekt er over 50 pct. af den samlede ændring (en "
     "kommune kan tælle for to effekter). Tabel 3 tæller kommuner med negativ og positiv "
     "effekt. Tabel 4–6 viser de 10 kommuner med størst stigning, de 10 i midten og de 10 med "
     "størst fald, målt i pct. af budgettet.", False),
]  # fmt: skip

METHOD_WIDTH = 72


def method_sheet(ws: Worksheet, result: Result) -> None:
    """The method box: headings and wrapped paragraphs on a portrait page, every row tall
    enough for its lines."""
    text(ws, 1, 1, f"Metode: {result.metode}", TITLE_FONT)
    ws.column_dimensions["A"].width = METHOD_WIDTH
    row = 3
    for value, heading in METHOD_TEXT:
        if heading:
            row += 1  # a blank line before each heading
            text(ws, row, 1, value, BOLD)
        else:
            paragraph(ws, row, value, METHOD_WIDTH)
        row += 1
    notes(ws, row + 1, [source_line(result)], METHOD_WIDTH, 1)
    print_setup(ws, None, landscape=False)
    ws.page_setup.fitToHeight = 1  # one page, like the report's method box


def about_facts(result: Result) -> list[tuple[str, Any]]:
    """The facts of "Om kørslen", one (label, value) per line: a new fact is one more
    entry."""
    m = result.manifest
    return [
        ("Program", f"kmf {m.version}"),
        ("Metode", m.metode),
        ("Budgetår", str(m.aar)),
        ("Titel", result.titel or ""),
        ("Datasæt", dataset_label(result)),
        ("Budget", m.budget),
        ("Kommuner", m.kommuner),
        ("Rækker, der ikke bruges", m.raekker_ikke_brugt),
        # which cuts those rows are, and why the run leaves them out
        *((f"  {u.cut}", u.said) for u in unused_cuts(m.aar, m.opgoerelser)),
        ("Psykiatrirækker lagt i ej aldersdiff.", m.psykiatri_flyttet_til_ej_aldersdiff),
        # dated data: the forecast's date and the later dates that lack a cut
        *(
            [
                ("Opgørelsesdato", date.fromisoformat(m.opgoerelsesdato)),
                (
                    "Senere datoer uden grundlag",
                    format_dates([date.fromisoformat(d) for d in m.datoer_uden_grundlag])
                    or "ingen",
                ),
            ]
            if m.opgoerelsesdato is not None
            else []
        ),
        # part of the country, unusual changes: said on the run's own page
        *(("Bemærk", note) for note in m.bemaerkninger),
    ]


def files_table(ws: Worksheet, top: int, files: list[dict[str, Any]], *, used: bool) -> None:
    """The input files of a manifest (its ``filer``) from row ``top``: table, file, rows read
    (and, with ``used``, rows used) and sha256, set a little apart from the numbers."""
    headers = ["Tabel", "Fil", "Rækker læst", *(["Rækker brugt"] if used else []), "sha256"]
    for j, header in enumerate(headers, start=1):
        text(ws, top, j, header, BOLD, SHA_ALIGN if header == "sha256" else None)
    for i, f in enumerate(files, start=top + 1):
        text(ws, i, 1, f["tabel"])
        text(ws, i, 2, f["fil"])
        if f["tabel"] != "kmf.toml":  # a settings file has no rows to count
            number(ws, i, 3, f["raekker_laest"], "#,##0")
        if used and f.get("raekker_brugt") is not None:
            number(ws, i, 4, f["raekker_brugt"], "#,##0")
        text(ws, i, len(headers), f["sha256"], SMALL, SHA_ALIGN)


SHA_ALIGN = Alignment(horizontal="left", indent=2)
ABOUT_WIDTHS = (34, 30, 14, 14, 58)
TOP = Alignment(vertical="top")
#: a value of "Om kørslen" longer than this (characters) wraps over columns B–E
ABOUT_LINE = 100


def about_sheet(ws: Worksheet, result: Result) -> None:
    """What was run on what, on one printed page: the facts, then each input file with
    its rows and sha256."""
    text(ws, 1, 1, "Om kørslen", TITLE_FONT)
    facts = about_facts(result)
    for i, (key, value) in enumerate(facts, start=3):
        text(ws, i, 1, key, BOLD, TOP)
        if isinstance(value, str) and len(value) > ABOUT_LINE:
            # a long value (why rows are not used) wraps over the columns beside it
            paragraph(ws, i, value, sum(ABOUT_WIDTHS[1:]), 5, first_col=2)
        elif isinstance(value, str):
            text(ws, i, 2, value)
        else:
            number(ws, i, 2, value, number_format(value, 0, True), align=LEFT)
    files_table(ws, len(facts) + 4, result.manifest.as_json()["filer"], used=True)
    for col, width in zip("ABCDE", ABOUT_WIDTHS, strict=True):
        ws.column_dimensions[col].width = width
    print_setup(ws, None)
    ws.page_setup.fitToHeight = 1
