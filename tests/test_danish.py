"""Numbers the Danish way (kmf.danish): decimal comma, thousands dot, no minus on a zero."""

from __future__ import annotations

import pytest

from kmf.danish import format_kr, format_mio, format_number, format_pct


@pytest.mark.parametrize(
    ("value", "decimals", "shown"),
    [
        (-1234567.891, 2, "-1.234.567,89"),
        (1234.5, 1, "1.234,5"),
        (0.25, 1, "0,2"),  # Python rounds half to even on the binary value
        (-0.03, 1, "0,0"),
        (-0.0, 0, "0"),
        (-0.4, 0, "0"),
        (-0.05001, 1, "-0,1"),
        (-1000.0, 0, "-1.000"),
    ],
)
def test_format_number(value: float, decimals: int, shown: str) -> None:
    assert format_number(value, decimals) == shown


def test_a_value_that_rounds_to_zero_has_no_sign() -> None:
    assert format_pct(-0.01, 1, sign=True) == "0,0"
    assert format_pct(0.04, 1, sign=True) == "0,0"  # no plus either
    assert format_pct(1.44, 1, sign=True) == "+1,4"


def test_kr_and_mio() -> None:
    assert format_kr(-21_500_000_000) == "-21.500.000.000"
    assert format_mio(747_812_345) == "747,8"
    assert format_mio(-40_000) == "0,0"
