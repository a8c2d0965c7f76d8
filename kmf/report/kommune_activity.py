"""The activity effect by sundhedsområde as a small table on the kommune workbook's sheet
"Fordelinger": what the kommune's text gives (:func:`kmf.report.text_drivers.activity_frame`)."""

from __future__ import annotations

from collections.abc import Callable

from openpyxl.worksheet.worksheet import Worksheet

from kmf import codes
from kmf.compute.kommune_tables import KommuneTables
from kmf.report.excel_style import BOLD, ITALIC, MIO
from kmf.report.excel_style import text as _text
from kmf.report.text_drivers import activity_frame


def activity_table(ws: Worksheet, top: int, t: KommuneTables, table: Callable[..., int]) -> None:
    """The activity effect by sundhedsområde, as the text gives it (mio. kr. with thousands
    separators; the cells hold kr.)."""
    frame = activity_frame(t)
    if frame is None:
        return
    _text(ws, top, 1, "Aktivitetseffekten fordelt på sundhedsområder, mio. kr.").font = BOLD
    rows = [
        {
            "navn": codes.AREA_LABELS[r["sundhedsomraade"]],
            "budget": r["produktionsvaerdi_budget_kr"],
            "prognose": r["produktionsvaerdi_prognose_kr"],
            "effekt": r["aktivitetseffekt_kr"],
        }
        for r in frame.to_dicts()
    ]
    rows.append(
        {"navn": "I alt", **{k: sum(r[k] for r in rows) for k in ("budget", "prognose", "effekt")}}
    )
    columns: list[tuple[str, str, str | None]] = [
        ("navn", "", None),
        ("budget", "Produktions-værdi, budget", MIO),
        ("prognose", "Produktions-værdi, prognose", MIO),
        ("effekt", "Aktivitets-effekt", MIO),
    ]
    after = table(ws, top + 1, rows, columns, bold={len(rows) - 1})
    _text(
        ws,
        after - 1,
        1,
        (
            "Anm.: Aktivitetseffekten er fordelt efter ændringen i hvert områdes produktionsværdi "
            "fra budget til prognose; delene summer til kommunens aktivitetseffekt."
        ),
    ).font = ITALIC
