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
from kmf.report.kommune import kommune_page
from kmf.report.track import accuracy_figure, history_figure, track_figure

__all__ = [
    "accuracy_figure",
    "history_figure",
    "kommune_overview",
    "kommune_page",
    "report_figure",
    "save_figures",
    "track_figure",
    "unit_row",
    "waterfall",
]
