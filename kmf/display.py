"""How a ``Result`` shows itself in Python and Jupyter: a short summary, and B1 for Hele
landet and the regions as a small HTML table formatted like the report (kr. with thousands
dots, pct. with one decimal and a decimal comma). ``vis(frame)`` shows any table so."""

from __future__ import annotations

import html
from datetime import date

import polars as pl

from kmf import codes
from kmf.danish import format_date, format_mio, format_number, format_pct

# (column, header) of the B1 overview; with the exact methods C1 and C2 come after C
_COLUMNS: tuple[tuple[str, str], ...] = (
    ("kmf_budget_kr", "Budget, mio. kr."),
    ("kmf_prognose_kr", "Prognose, mio. kr."),
    ("aendring_pct", "Ændring, pct."),
    ("aktivitetseffekt_pct", "A. Aktivitet"),
    ("aldersgruppeeffekt_pct", "B. Aldersgrupper"),
    ("sundhedsomraadeeffekt_pct", "C. Sundhedsområder"),
    ("omraademikseffekt_pct", "C1. Områdemiks"),
    ("andelseffekt_pct", "C2. KMF-andel"),
    ("oevrige_pct", "Øvrige"),
)


# the report's headers for the columns of the tables; other columns keep their names
_HEADERS: dict[str, str] = {
    "niveau": "Niveau",
    "kode": "Kode",
    "navn": "Navn",
    "region": "Region",
    "kmf_budget_kr": "Budget, kr.",
    "kmf_prognose_kr": "Prognose, kr.",
    "aendring_kr": "Ændring, kr.",
    **{c.replace("_pct", "_kr"): f"{h}, kr." for c, h in _COLUMNS if c.endswith("effekt_pct")},
    "oevrige_kr": "Øvrige, kr.",
    **{c: h for c, h in _COLUMNS if c.endswith("_pct")},
    **codes.AGE_LABELS,
    **codes.AREA_LABELS,
    # the track, its accuracy and the history (kmf.spor, kmf.historik)
    "opgoerelsesdato": "Opgørelsesdato",
    "aar": "Budgetår",
    "rang": "Rang",
    "kmf_endelig_kr": "Endelig, kr.",
    "fejl_pct": "Afvigelse fra endelig, pct.",
    "land_fejl_pct": "Hele landet, afvigelse, pct.",
    "kommuner_mae_pct": "Kommuner, gns. afvigelse (abs.), pct.",
    "kommuner_median_abs_pct": "Kommuner, median afvigelse (abs.), pct.",
    "kommuner_max_abs_pct": "Kommuner, største afvigelse (abs.), pct.",
    "andel_kommuner_inden_for_2pct": "Kommuner inden for 2 pct., andel i pct.",
    # the citizens (SPEC §9)
    "indbyggere_budget": "Indbyggere, budget",
    "indbyggere_prognose": "Indbyggere, prognose",
    "indbyggere": "Indbyggere",
    "befolkningseffekt_kr": "Flere/færre borgere, kr.",
    "demografieffekt_kr": "Alderssammensætning, kr.",
    "forbrugseffekt_kr": "Forbrug pr. borger, kr.",
    "befolkningseffekt_pct": "Flere/færre borgere",
    "demografieffekt_pct": "Alderssammensætning",
    "forbrugseffekt_pct": "Forbrug pr. borger",
    "kmf_pr_indbygger_kr": "KMF pr. indbygger, kr.",
    "forventet_kmf_kr": "Forventet KMF, kr.",
    "forventet_pr_indbygger_kr": "Forventet pr. indbygger, kr.",
    "indeks": "Indeks",
}

# (column, header, decimals, from which table) of the citizens' overview
_POPULATION: tuple[tuple[str, str, int, str], ...] = (
    ("befolkningseffekt_pct", "Flere/færre borgere", 1, "befolkning"),
    ("demografieffekt_pct", "Alderssammensætning", 1, "befolkning"),
    ("forbrugseffekt_pct", "Forbrug pr. borger", 1, "befolkning"),
    ("kmf_pr_indbygger_kr", "KMF pr. indbygger, kr.", 0, "borger"),
    ("indeks", "Indeks", 1, "borger"),
)


class Vis:
    """A table shown the Danish way in Jupyter (``vis(frame)``); ``.frame`` is the data."""

    def __init__(self, frame: pl.DataFrame, decimals: int) -> None:
        self.frame, self.decimals = frame, decimals

    def __repr__(self) -> str:
        return repr(self.frame)

    def _repr_html_(self) -> str:
        numeric = {c for c, kind in self.frame.schema.items() if kind.is_numeric()}
        head = "".join(
            f"<th style='text-align:{'right' if c in numeric else 'left'}'>"
            f"{html.escape(_HEADERS.get(c, c))}</th>"
            for c in self.frame.columns
        )
        body = []
        for row in self.frame.iter_rows(named=True):
            cells = "".join(
                f"<td style='text-align:{'right' if c in numeric else 'left'}'>"
                f"{html.escape(self._text(c, v))}</td>"
                for c, v in row.items()
            )
            body.append(f"<tr>{cells}</tr>")
        return f"<table><thead><tr>{head}</tr></thead><tbody>{''.join(body)}</tbody></table>"

    def _text(self, column: str, value: object) -> str:
        if value is None:
            return ""
        if isinstance(value, float):
            # kr. amounts whole, with thousands dots; pct. and shares with ``decimals``
            return format_number(value, 0 if column.endswith("_kr") else self.decimals)
        return str(value)


def vis(frame: pl.DataFrame, decimaler: int = 1) -> Vis:
    """Show ``frame`` in Jupyter as the report does: decimal comma, thousands dots, kr. in
    whole kroner and other numbers with ``decimaler`` decimals. The data are not changed."""
    return Vis(frame, decimaler)


def _cell(column: str, value: float | None) -> str:
    if value is None:
        return ""
    return format_number(value / 1e6 if column.endswith("_kr") else value, 1)


def overview_html(
    b1: pl.DataFrame, aar: int, metode: str, kommuner: int, dato: date | None = None
) -> str:
    """B1 for Hele landet and the regions as an HTML table, with a caption (naming the
    forecast date where there is one) and a line on where to find the rest."""
    columns = [(c, h) for c, h in _COLUMNS if c in b1.columns]
    rows = b1.filter(pl.col("niveau") != "kommune")
    head = "".join(f"<th style='text-align:right'>{html.escape(h)}</th>" for _, h in columns)
    body = []
    for row in rows.iter_rows(named=True):
        name = html.escape(str(row["navn"]))
        if row["niveau"] == "land":
            name = f"<b>{name}</b>"
        cells = "".join(f"<td style='text-align:right'>{_cell(c, row[c])}</td>" for c, _ in columns)
        body.append(f"<tr><td style='text-align:left'>{name}</td>{cells}</tr>")
    caption = (
        f"KMF, budgetår {aar}{'' if dato is None else f', prognosen pr. {format_date(dato)}'}: "
        "ændring fra budget til prognose og effekterne i pct. af "
        f"budgettet (metode {html.escape(metode)})"
    )
    return (
        "<div><table>"
        f"<caption style='text-align:left'><b>{caption}</b></caption>"
        f"<thead><tr><th style='text-align:left'></th>{head}</tr></thead>"
        f"<tbody>{''.join(body)}</tbody></table>"
        f"<p><small>{kommuner} kommuner. Alle tabeller: <code>.b1</code> … <code>.b4</code>, "
        "<code>.tabel(1)</code> … <code>.tabel(6)</code> eller "
        '<code>.tabel("B1")</code> (polars DataFrames).</small></p></div>'
    )


def population_html(befolkning: pl.DataFrame, borger: pl.DataFrame) -> str:
    """The citizens (SPEC §9) for Hele landet and the regions: the change's part from more
    citizens, the age structure and use per citizen (pct.-point of the budget), KMF per
    citizen in whole kr. and the indeks with one decimal."""
    frames = {"befolkning": befolkning.filter(pl.col("niveau") != "kommune"),
              "borger": borger.filter(pl.col("niveau") != "kommune")}  # fmt: skip
    head = "".join(
        f"<th style='text-align:right'>{html.escape(h)}</th>" for _, h, _, _ in _POPULATION
    )
    body = []
    for i, row in enumerate(frames["befolkning"].iter_rows(named=True)):
        other = frames["borger"].row(i, named=True)
        name = html.escape(str(row["navn"]))
        if row["niveau"] == "land":
            name = f"<b>{name}</b>"
        cells = "".join(
            "<td style='text-align:right'>"
            f"{format_number((row if t == 'befolkning' else other)[c], d)}</td>"
            for c, _, d, t in _POPULATION
        )
        body.append(f"<tr><td style='text-align:left'>{name}</td>{cells}</tr>")
    return (
        "<div><table><caption style='text-align:left'><b>Borgerne: flere borgere, "
        "alderssammensætning og forbrug pr. borger (pct.-point af budgettet); KMF pr. "
        "indbygger og indeks (hele landet = 100)</b></caption>"
        f"<thead><tr><th style='text-align:left'></th>{head}</tr></thead>"
        f"<tbody>{''.join(body)}</tbody></table>"
        '<p><small>Alle kommuner: <code>.tabel("befolkning")</code> og '
        '<code>.tabel("borger")</code>.</small></p></div>'
    )


def summary_text(
    aar: int, metode: str, kommuner: int, land: dict[str, float], dato: date | None = None
) -> str:
    """One line on the result: year (and forecast date), method, kommuner, Hele landet's
    change, and how to see the tables."""
    when = "" if dato is None else f" pr. {format_date(dato)}"
    return (
        f"<kmf.Result: budgetår {aar}{when}, metode {metode}, {kommuner} kommuner; "
        f"{land.get('navn', 'Hele landet')}: "
        f"budget {format_mio(land['kmf_budget_kr'])} mio. kr., ændring "
        f"{format_pct(land['aendring_pct'], 1, sign=True)} pct. "
        "Tabellerne: .b1 … .b4, .tabel(1) … .tabel(6)>"
    )
