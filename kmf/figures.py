"""The figures, as the README shows them: ``from kmf.figures import waterfall``. They live in
:mod:`kmf.report.figures`."""

from __future__ import annotations

from kmf.report.figures import (
    kommune_overview,
    report_figure,
    save_figures,
    unit_row,
    waterfall,
)

__all__ = ["kommune_overview", "report_figure", "save_figures", "unit_row", "waterfall"]
