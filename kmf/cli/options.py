"""The arguments and options several ``kmf`` commands share, declared once so that their
help reads the same in every command.

Only typer is imported here: ``kmf --help`` loads this module too.
"""

from __future__ import annotations

from pathlib import Path
from typing import Annotated

import typer

# One line per method; "\b" keeps the lines as they are in the help. The names are checked
# against kmf.compute.decompose.METHODS by the tests (importing it here would cost the help
# its speed).
#: --metode of kmf run, which also knows 'alle'
RUN_METHOD_HELP = (
    "Hvordan ændringen deles op. Standard: metode i kmf.toml, ellers ministeriet.\n\n"
    "\b\n"
    "ministeriet  som analysen 2018; samspillet er Øvrige\n"
    "lmdi         LMDI-I celle for celle; præcis, C delt\n"
    "             i C1 (områdemiks) og C2 (KMF-andel)\n"
    "shapley      gennemsnit over alle rækkefølger af\n"
    "             faktorerne; præcis, C delt i C1 og C2\n"
    "befolkning   LMDI med befolkningen: flere borgere,\n"
    "             alderssammensætning og forbrug pr.\n"
    "             borger (kræver befolkning.csv)\n"
    "alle         ministeriets tabeller og metoderne\n"
    "             side om side (tabel_metoder.csv)"
)
#: --metode of kmf kommune, spor and historik
METHOD_HELP = (
    "Hvordan ændringen deles op: ministeriet, lmdi, shapley eller befolkning (kræver "
    "befolkning.csv). Standard: ministeriet."
)

DatasetArgument = Annotated[
    Path | None,
    typer.Argument(
        metavar="DATASÆT",
        help="En mappe med aktivitet og budget, eller en .xlsx-projektmappe. "
        "Uden datasæt bruges det medfølgende eksempel.",
        show_default=False,
        readable=False,  # kmf says in Danish which file it cannot read
    ),
]
YearOption = Annotated[
    int | None,
    typer.Option(
        "--aar",
        metavar="ÅR",
        help="Budgetåret T. Standard: aar i kmf.toml, ellers seneste år med en foreløbig "
        "opgørelse.",
        show_default=False,
    ),
]
#: --dato of kmf run and kmf kommune: parsed, with its Danish errors, by kmf.run
DateOption = Annotated[
    str | None,
    typer.Option(
        "--dato",
        metavar="DATO",
        help="Opgørelsesdatoen d (ÅÅÅÅ-MM-DD), når data har kolonnen opgoerelsesdato. "
        "Standard: seneste dato for budgetårets foreløbige opgørelse, der har grundlag "
        "(alle fire opgørelser, en prognose kræver).",
        show_default=False,
    ),
]
RunMethodOption = Annotated[
    str | None,
    typer.Option("--metode", metavar="METODE", help=RUN_METHOD_HELP, show_default=False),
]
MethodOption = Annotated[
    str | None,
    typer.Option("--metode", metavar="METODE", help=METHOD_HELP, show_default=False),
]
#: --out of the commands that write a folder of results (each gives its own default)
OutFolderOption = Annotated[
    Path,
    typer.Option("--out", "-o", metavar="MAPPE", help="Mappen, resultaterne skrives i."),
]
ForceOption = Annotated[
    bool, typer.Option("--force", help="Overskriv resultater, der findes i forvejen.")
]
