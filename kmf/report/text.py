"""The words the Danish summaries are made of, in the register of the ministry's analysis:
one kommune's (:mod:`kmf.report.text_kommune`), the national one
(:mod:`kmf.report.text_national`) and those of the track and the history
(:mod:`kmf.report.text_time`).

Every number in a text is a value of the tables it sits beside, rounded as shown: pct. and
pct.-point with one decimal, kr. in mio. kr. with one decimal, with a decimal comma. A
direction is said in words (stiger, falder, positivt, negativt) and the number is then
shown without its sign.
"""

from __future__ import annotations

from collections.abc import Sequence

from kmf import codes
from kmf.danish import format_mio, format_number, join_and
from kmf.report.text_sums import MINUS, Sum
from kmf.report.text_sums import signed as signed_sum

#: A line of a text: its kind (``title``, ``heading``, ``text``, ``item``) and its words.
Line = tuple[str, str]

EFFECT_NAMES = {
    "aktivitetseffekt": "effekten af ændret aktivitet",
    "aldersgruppeeffekt": "aldersgruppeeffekten",
    "sundhedsomraadeeffekt": "sundhedsområdeeffekten",
}
#: the two parts of the sundhedsområdeeffekt of the exact methods, said in words
SPLIT_WORDS = {
    "omraademikseffekt": "fordi forbruget inden for aldersgrupperne har flyttet sig mellem "
    "sundhedsområder med forskellig KMF-andel",
    "andelseffekt": "fordi KMF-andelen inden for det enkelte sundhedsområde er ændret (takster, "
    "lofter og regler)",
}
_MAIN = ("aktivitetseffekt", "aldersgruppeeffekt", "sundhedsomraadeeffekt")


def pct(value: float) -> str:
    """A percentage or pct.-point without its sign, one decimal: ``-3.04`` → ``3,0``."""
    return format_number(abs(value), 1)


def signed(value: float) -> str:
    """A percentage with its sign, one decimal; never ``-0,0`` (as :func:`format_number`)."""
    return format_number(value, 1)


def mio(value: float) -> str:
    """A kr. amount in mio. kr. without its sign, one decimal."""
    return format_mio(abs(value))


def _is_zero(value: float) -> bool:
    return pct(value) == format_number(0, 1)


def _contributes(value: float) -> str:
    if _is_zero(value):
        return "bidrager stort set ikke (0,0 pct.-point)"
    return f"bidrager {'positivt' if value > 0 else 'negativt'} med {pct(value)} pct.-point"


def _against(value: float) -> str:
    """Hele landet's contribution beside the kommune's: its direction in words."""
    if _is_zero(value):
        return "mod stort set intet bidrag (0,0 pct.-point) for hele landet under ét"
    way = "positivt" if value > 0 else "negativt"
    return f"mod et {way} bidrag på {pct(value)} pct.-point for hele landet under ét"


def _change(value: float, unit: str = "pct.") -> str:
    """A change in words: ``en stigning på 2,1 pct.``, ``et fald på 0,9 pct.``."""
    if _is_zero(value):
        return f"stort set ingen ændring (0,0 {unit})"
    return f"{'en stigning' if value > 0 else 'et fald'} på {pct(value)} {unit}"


def _age_label(age: str, article: str = "") -> str:
    """An age group in a sentence: ``de 65-79 årige`` (with ``article="de "``)."""
    if age == "ej_aldersdiff":
        return "psykiatri (Ej aldersdiff.)"
    return article + codes.AGE_LABELS[age]


def _meaning(effect: str, value: float, whose: str, example: bool = True) -> str:
    """What an effect's direction means, in the ministry's words; ``example``: give the
    ministry's example for C (sygehuse rather than almen praksis), which is left out where
    the unit's consumption moved the other way."""
    up = value > 0
    if effect == "aktivitetseffekt":
        return (
            f"Det betyder, at der relativt set forventes {'mere' if up else 'mindre'} aktivitet "
            f"({'flere' if up else 'færre'} kontakter og behandlinger) i det regionale "
            f"sundhedsvæsen for {whose} end forudsat i budgettet."
        )
    if effect == "aldersgruppeeffekt":
        return (
            f"Det skyldes, at en {'større' if up else 'mindre'} del af forbruget end forudsat "
            "ligger hos de aldersgrupper, hvor KMF udgør en større andel af taksten (de "
            "0-2 årige, 65-79 årige og 80+ årige)."
        )
    if effect == "sundhedsomraadeeffekt":
        return (
            "Det afspejler, at den gennemsnitlige KMF-andel inden for aldersgrupperne er "
            f"{'højere' if up else 'lavere'} end forudsat"
            + (
                f", fx fordi en {'større' if up else 'mindre'} del af forbruget ligger på "
                "sygehusene (især somatik) frem for i almen praksis, hvor KMF-andelen er mindre."
                if example
                else ": det hænger her mere sammen med KMF-andelen inden for områderne end med, "
                "hvor forbruget ligger."
            )
        )
    raise KeyError(effect)


def _way(value: float) -> str:
    return "positivt" if value > 0 else "negativt"


def genitive(name: str) -> str:
    """``Aalborgs``, but ``Frederiks'``: a name ending in s, x or z takes an apostrophe."""
    return f"{name}'" if name[-1:].lower() in "sxz" else f"{name}s"


def _first_upper(text: str) -> str:
    return text[:1].upper() + text[1:]


def split_sentence(c: float, c1: float, c2: float) -> str:
    """The sundhedsområdeeffekt of an exact method (pct.-point) and its two parts, in words:
    a sum whose parts are both named."""
    parts = Sum(c, (("omraademikseffekt", c1), ("andelseffekt", c2)))
    listed = join_and([f"{signed_sum(v)} pct.-point, {SPLIT_WORDS[e]}" for e, v in parts.parts])
    listed += parts.rounding_words("pct.-point")
    return f"Sundhedsområdeeffekten på i alt {signed_sum(c)} pct.-point består af {listed} {MINUS}."


def _effects_of(b1_columns: Sequence[str]) -> tuple[str, ...]:
    split = tuple(e for e in ("omraademikseffekt", "andelseffekt") if f"{e}_pct" in b1_columns)
    return (*_MAIN, *split)


# --- rendering ------------------------------------------------------------------------------


def to_markdown(lines: Sequence[Line]) -> str:
    """The lines as Markdown: a title, headings, paragraphs and bullet lists."""
    out: list[str] = []
    for kind, text in lines:
        prefix = {"title": "# ", "heading": "## ", "item": "- "}.get(kind, "")
        if out and not (kind == "item" and out[-1].startswith("- ")):
            out.append("")
        out.append(prefix + text)
    return "\n".join(out) + "\n"
