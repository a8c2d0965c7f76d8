"""Every label a reader sees for an effect or a figure, written once: the tables' headers,
the short letters, the figures' titles and step names, and the colours. Excel, the
figures and the command line read them here."""

from __future__ import annotations

from dataclasses import dataclass

from kmf import codes


@dataclass(frozen=True)
class Effect:
    """An effect as users read it: its column stem, letter, name, wrapped table header,
    the short step name of a waterfall, and its colour in charts."""

    column: str
    letter: str
    name: str
    header: str
    step: str
    colour: str


EFFECTS: dict[str, Effect] = {
    e.column: e
    for e in (
        Effect("aktivitetseffekt", "A", "A. Aktivitetseffekt", "A. Aktivitets-\neffekt",
               "A. Aktivitet", "#1f4e79"),
        Effect("aldersgruppeeffekt", "B", "B. Aldersgruppeeffekt", "B. Aldersgruppe-\neffekt",
               "B. Alders-\ngrupper", "#9bbb59"),
        Effect("sundhedsomraadeeffekt", "C", "C. Sundhedsområdeeffekt",
               "C. Sundheds-\nområdeeffekt", "C. Sundheds-\nområder", "#f79646"),
        Effect("omraademikseffekt", "C1", "C1. Områdemiks", "C1. Områdemiks", "C1. Områdemiks",
               "#fac090"),
        Effect("andelseffekt", "C2", "C2. KMF-andel", "C2. KMF-andel", "C2. KMF-andel",
               "#e46c0a"),
        Effect("oevrige", "Øvrige", "Øvrige", "Øvrige", "Øvrige", "#a5a5a5"),
    )
}  # fmt: skip

#: The three effects every method has, in the report's order.
MAIN_EFFECTS = ("aktivitetseffekt", "aldersgruppeeffekt", "sundhedsomraadeeffekt")


@dataclass(frozen=True)
class FigureSpec:
    """Figur 1–3: the table it shows for Hele landet, its title and its bars."""

    table: str
    title: str
    keys: tuple[str, ...]
    labels: dict[str, str]


FIGURES: dict[int, FigureSpec] = {
    1: FigureSpec("b2", "Figur 1. Ændring i aldersfordelingen af forbruget", codes.AGE_GROUPS,
                  codes.AGE_LABELS),
    2: FigureSpec("b3", "Figur 2. Ændring i den gennemsnitlige KMF-andel pr. aldersgruppe",
                  codes.AGE_GROUPS, codes.AGE_LABELS),
    3: FigureSpec("b4", "Figur 3. Ændring i forbrugets fordeling på sundhedsområder",
                  codes.AREAS, codes.AREA_LABELS),
}  # fmt: skip


#: each method in words, as a figure's subtitle says it ("efter ministeriets metode")
METHOD_WORDS = {
    "ministeriet": "ministeriets metode",
    "lmdi": "LMDI-metoden",
    "shapley": "Shapley-metoden",
    "alle": "alle metoder",
}


def method_words(name: str) -> str:
    """``"ministeriet"`` → ``"ministeriets metode"``; a method without words: its name."""
    return METHOD_WORDS.get(name, f"metoden {name}")


#: every PNG kmf writes: 150 dpi at its print size, and at least 8 inches (1200 px) wide
DPI = 150
FIGURE_WIDTH = 8.0


def workbook_name(year: int) -> str:
    """The workbook's file name for budget year ``year``."""
    return f"kmf_dekomponering_{year}.xlsx"


def waterfall_name(kode: str) -> str:
    """The PNG file of a unit's waterfall in the output folder (``kode`` as in B1)."""
    return f"vandfald_{kode}.png"
