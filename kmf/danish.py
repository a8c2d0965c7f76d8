"""Numbers the Danish way: decimal comma, thousands dot. Used by messages and figures."""

from __future__ import annotations

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


MONTHS = ("januar", "februar", "marts", "april", "maj", "juni", "juli", "august",
          "september", "oktober", "november", "december")  # fmt: skip


def format_date(value: date) -> str:
    """A date in words: ``2018-09-10`` → ``10. september 2018``."""
    return f"{value.day}. {MONTHS[value.month - 1]} {value.year}"
