"""``kmf cache``: how much the cache of read cells holds, and emptying it. Registered on the
app in kmf.cli.

Only typer is imported at the top, as in kmf.cli: ``kmf --help`` loads this module too.
"""

from __future__ import annotations

from typing import Annotated

import typer


def cache_command(
    ryd: Annotated[
        bool, typer.Option("--ryd", help="Tøm mellemlageret (filerne læses forfra næste gang).")
    ] = False,
) -> None:
    """Vis hvor meget mellemlageret fylder, eller tøm det.

    kmf husker for hver inputfil cellerne for hver opgørelse og filens sha256, så en
    kommando kun læser nye eller ændrede filer. Mappen er brugerens cache-mappe, eller
    miljøvariablen KMF_CACHE.
    """
    from kmf.cli.console import out_console
    from kmf.danish import format_number
    from kmf.io.cache import CellCache, default_folder

    console = out_console()
    folder = default_folder()
    cache = CellCache(folder)
    if ryd:
        deleted = cache.clear()
        console.print(
            f"Mellemlageret i {folder} er tømt: {deleted} "
            f"{'fil' if deleted == 1 else 'filer'} slettet."
        )
        return
    entries, size = cache.size()
    mib = format_number(size / 2**20, 1)
    limit = format_number(cache.max_bytes / 2**20, 0)
    console.print(
        f"Mellemlageret i {folder}: {entries} {'fil' if entries == 1 else 'filer'}, "
        f"{mib} MiB (højst {limit} MiB; de ældst brugte slettes først).\n"
        "Tøm det med: kmf cache --ryd"
    )
