"""Numbers and dates the Danish way: decimal comma, thousands dot, ``10. september 2018``.
Used by messages, notes and figures."""

from __future__ import annotations

import re
from collections.abc import Sequence
from datetime import date


def format_number(value: float, decimals: int = 0) -> str:
    """``-1234567.891`` → ``-1.234.567,89`` (with ``decimals=2``); a value that rounds to
    zero is ``0,0``, never ``-0,0``."""
    text = f"{value:,.{decimals}f}"
    if text.startswith("-") and not text.strip("-0.,"):
        text = text[1:]
    return text.replace(",", "\x00").replace(".", ",").replace("\x00", ".")


def format_kr(value: float) -> str:
    """A kr. amount without decimals: ``-1.234.567``."""
    return format_number(value, 0)


def format_pct(value: float, decimals: int = 1, sign: bool = False) -> str:
    """A percentage (already in pct.): ``-4,7`` or, with ``sign``, ``+1,4``."""
    text = format_number(value, decimals)
    return f"+{text}" if sign and value > 0 and text.strip("0,.") else text


def format_mio(value: float) -> str:
    """A kr. amount in mio. kr. with one decimal: ``-12345678`` → ``-12,3``."""
    return format_number(value / 1e6, 1)


MONTHS = (
    "januar", "februar", "marts", "april", "maj", "juni",
    "juli", "august", "september", "oktober", "november", "december",
)  # fmt: skip


def format_date(value: date | None) -> str:
    """A date in Danish prose: ``2018-09-10`` → ``10. september 2018``; ``None`` (an
    undated cut) → ``uden dato``. Files (CSV, Parquet, JSON) keep ISO dates."""
    if value is None:
        return "uden dato"
    return f"{value.day}. {MONTHS[value.month - 1]} {value.year}"


def format_dates(values: Sequence[date | None]) -> str:
    """Several dates in Danish prose, the year said once per run of dates in the same year:
    ``10. januar, 10. februar og 10. marts 2018``."""
    parts = []
    for i, value in enumerate(values):
        following = values[i + 1] if i + 1 < len(values) else None
        same_year = value is not None and following is not None and following.year == value.year
        parts.append(
            f"{value.day}. {MONTHS[value.month - 1]}"
            if same_year and value is not None
            else format_date(value)
        )
    return join_and(parts)


def join_and(parts: Sequence[str]) -> str:
    """``a``, ``a og b``, ``a, b og c``."""
    if len(parts) <= 1:
        return "".join(parts)
    return f"{', '.join(parts[:-1])} og {parts[-1]}"


#: a number and its unit stay on one line: "2,2 pct.", "16,3 mio. kr.", "0,5 kr."
_UNIT = re.compile(r"(\d) (pct\.|mio\. kr\.|kr\.)")


def wrap_paragraphs(text: str, width: int = 80) -> str:
    """Each line of ``text`` (a paragraph) wrapped to ``width`` columns, a number never apart
    from its unit. The console does not wrap (soft_wrap), and a terminal breaks words
    anywhere."""
    import textwrap

    def wrap(paragraph: str) -> str:
        glued = _UNIT.sub(lambda m: m[1] + "\xa0" + m[2].replace(" ", "\xa0"), paragraph)
        return textwrap.fill(glued, width, break_on_hyphens=False).replace("\xa0", " ")

    return "\n".join(wrap(p) if p else p for p in text.splitlines())


#: a sign before a number: at the start, after a space, "(" or ":" (not a hyphen in a word
#: or a range such as "0-2")
_SIGN = re.compile(r"(?:(?<=^)|(?<=[\s(:]))-(?=\d)")
MINUS = "\u2212"


def keep_signs(text: str) -> str:
    """``text`` with each minus sign of a number as the typographic minus (U+2212), which a
    line is never broken after: a program that wraps text in a cell or a page (Excel, Word,
    LibreOffice) may break after a hyphen, and "-20,5" split over two lines reads as
    "20,5". For workbooks and documents; the console and the Markdown keep the hyphen
    (a Windows console's cp1252 has no U+2212)."""
    return _SIGN.sub(MINUS, text)
