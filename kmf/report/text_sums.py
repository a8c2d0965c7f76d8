"""Sums in a text: a total and every part of it, as the text shows them.

A sentence that states a total names all its parts, or names the largest and says what the
rest adds, so that a reader who adds up the numbers as shown gets the total as shown. Each
shown number is its table value rounded to one decimal, so the shown parts may miss the
shown total by the rounding: at most half a unit of the last decimal for each number in the
sum (0,05 per part and 0,05 for the total). :class:`Sum` checks that before any word is
made; where the shown parts miss the shown total, the sentence ends its list with the
difference, "hertil kommer +0,1 mio. kr. fra afrunding" (:attr:`Sum.rounding`), so that the
numbers on the page add up and each of them is still its table value as shown.
:data:`ROUNDING_NOTE` says so to the reader.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

from kmf.danish import format_number, format_pct, join_and

#: said in every sentence that shows signed numbers
MINUS = "(minus er et negativt bidrag)"
#: said under every text that adds numbers up
ROUNDING_NOTE = (
    "Tallene er afrundede hver for sig. Hvor de viste dele ikke summer til totalen, er "
    "forskellen nævnt som afrunding."
)
#: what makes shown parts add up to the shown total (:attr:`Sum.rounding`), after the list
ROUNDING_PART = "; hertil kommer {value} {unit} fra afrunding"


def shown(value: float, scale: float = 1.0) -> float:
    """``value`` as the text shows it (in units of ``scale``, one decimal), as a number."""
    return float(format_number(value / scale, 1).replace(".", "").replace(",", "."))


#: the console's line under a block of parts that, as shown, miss the change as shown
CONSOLE_ROUNDING_NOTE = "  (Delene er afrundet hver for sig; uafrundet summer de til ændringen.)"


def rounding(parts: Sequence[float], total: float, scale: float = 1.0) -> float:
    """``total`` as shown less ``parts`` as shown (in units of ``scale``, one decimal): 0
    where they add up, else what the rounding of each number on its own left."""
    gap = shown(total, scale) - sum(shown(p, scale) for p in parts)
    return round(gap, 1) + 0.0  # no -0.0


def adds_up_as_shown(parts: Sequence[float], total: float) -> bool:
    """Whether ``parts``, each as it is shown, add up to ``total`` as it is shown (an
    udvalgsmedlem adds the numbers on the page)."""
    return rounding(parts, total) == 0


def signed(value: float, scale: float = 1.0) -> str:
    """A number with its sign, one decimal: ``+1,4``, ``-4,7``, ``0,0``."""
    return format_pct(value / scale, 1, sign=True)


def tolerance(parts: int) -> float:
    """How far ``parts`` shown parts may miss their shown total by rounding alone."""
    return 0.05 * (parts + 1) + 1e-9


@dataclass(frozen=True)
class Sum:
    """A total and all its parts (labels and unrounded values, in the same unit); ``scale``
    is the unit shown (1e6 for mio. kr.). Checked on creation: the parts sum to the total,
    and the shown parts to the shown total within :func:`tolerance`."""

    total: float
    parts: tuple[tuple[str, float], ...]
    scale: float = 1.0

    def __post_init__(self) -> None:
        exact = sum(v for _, v in self.parts)
        # a rest may be set so that the shown numbers add up exactly: off by the rounding
        if abs(exact - self.total) > tolerance(len(self.parts)) * self.scale + 1e-6 * max(
            1.0, abs(self.total)
        ):
            raise ValueError(f"the parts sum to {exact}, not to the total {self.total}")
        if abs(self.rounding) > tolerance(len(self.parts)):
            raise ValueError(f"the shown parts miss the shown total by {-self.rounding}")

    @property
    def rounding(self) -> float:
        """The shown total less the shown parts (:func:`rounding`)."""
        return rounding([v for _, v in self.parts], self.total, self.scale)

    def listed(self, unit: str, form: str = "{value} {unit} for {label}") -> str:
        """The parts in words: ``+24,0 mio. kr. for de 65-79 årige, … og +2,2 mio. kr. for …``,
        then ``; hertil kommer +0,1 mio. kr. fra afrunding`` where the shown parts miss the
        shown total."""
        words = join_and(
            [
                form.format(value=signed(v, self.scale), unit=unit, label=label)
                for label, v in self.parts
            ]
        )
        return words + self.rounding_words(unit)

    def rounding_words(self, unit: str) -> str:
        """``; hertil kommer +0,1 pct.-point fra afrunding``, or nothing where the shown parts
        add up to the shown total."""
        if not self.rounding:
            return ""
        return ROUNDING_PART.format(value=signed(self.rounding), unit=unit)


def with_rest(
    total: float,
    parts: Sequence[tuple[str, float]],
    rest: str,
    keep: int = 3,
    scale: float = 1.0,
) -> Sum:
    """The ``keep`` largest parts by size, and the others added up under ``rest``. Parts
    that show as 0,0 are left out (they add nothing as shown). Where two or more parts are
    left for the rest, it is shown as the shown total less the shown named parts, so that the
    numbers a reader sees add up exactly (it differs from the sum of the others by the
    rounding alone); a rest that shows as 0,0 is left out; a single part left is named."""
    ordered = sorted(parts, key=lambda p: -abs(p[1]))
    visible = [p for p in ordered if shown(p[1], scale) != 0.0]
    if len(visible) == len(ordered) and len(ordered) <= keep + 1:
        return Sum(total, tuple(ordered), scale)
    if len(visible) <= keep + 1 and len(visible) >= 1:
        named = visible
        left = shown(total, scale) - sum(shown(v, scale) for _, v in named)
        if round(left, 1) == 0.0:
            return Sum(total, tuple(named), scale)
        return Sum(total, (*named, (rest, round(left, 1) * scale)), scale)
    named = visible[:keep]
    if len(visible) == keep + 1:
        return Sum(total, tuple(visible), scale)
    left = shown(total, scale) - sum(shown(v, scale) for _, v in named)
    if round(left, 1) == 0.0:
        return Sum(total, tuple(named), scale)
    return Sum(total, (*named, (rest, round(left, 1) * scale)), scale)
