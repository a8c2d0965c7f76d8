"""What a user meets at the command line is Danish, fits an 80-column terminal, and
``kmf --help`` does not load the library."""

from __future__ import annotations

import csv
import os
import re
import subprocess
import sys
from pathlib import Path

import pytest

from kmf.compute.decompose import METHODS
from kmf.io import sample_dataset

#: the commands as ``kmf --help`` lists them, in that order: the tool for tests last
COMMANDS = ("beregn", "kommune", "spor", "historik", "figur", "tjek", "konverter", "syntetisk")
#: the English names of the first versions: they still work, but are not listed
ALIASES = {"run": "beregn", "validate": "tjek", "synth": "syntetisk"}
# what Click and Typer print in English where nothing translates it (in some version)
ENGLISH = ("Usage", "[OPTIONS]", "COMMAND", "[ARGS]", "Show this message", "Options",
           "Arguments", "Positional", "<int", "<path>", "<str", "<text>", "INTEGER", "TEXT", "PATH",
           "x>=", "<=x", "default:", "required")  # fmt: skip


def kmf(*args: str) -> subprocess.CompletedProcess[str]:
    env = {**os.environ, "COLUMNS": "80", "KMF_FEJLSPOR": ""}
    return subprocess.run([sys.executable, "-m", "kmf", *args], capture_output=True,
                          text=True, check=False, env=env)  # fmt: skip


@pytest.mark.parametrize("args", [("--help",), ("-h",), *((c, "--help") for c in COMMANDS)])
def test_help_pages_are_danish_and_fit_80_columns(args: tuple[str, ...]) -> None:
    done = kmf(*args)
    assert done.returncode == 0, done.stderr
    assert done.stdout.startswith("Brug: kmf "), done.stdout
    assert "[TILVALG]" in done.stdout
    assert "-h, --help  " in done.stdout and "Vis denne hjælp og afslut." in done.stdout
    for english in ENGLISH:
        assert english not in done.stdout, (english, done.stdout)
    for line in done.stdout.splitlines():
        assert len(line) <= 80, line
        assert line == line.rstrip(), repr(line)


def test_the_overview_gives_every_command_a_whole_sentence() -> None:
    done = kmf("--help")
    assert "Brug: kmf [TILVALG] KOMMANDO [ARGUMENTER]..." in done.stdout
    listed = done.stdout.split("Kommandoer:")[1].strip().splitlines()
    names = [line.split()[0] for line in listed]
    assert [n for n in names if n in COMMANDS] == list(COMMANDS)
    assert not set(ALIASES) & set(names)
    for line in listed:  # a command's first sentence is short enough to stand whole
        assert line.endswith(".") and not line.endswith("..."), line


@pytest.mark.parametrize(("alias", "name"), ALIASES.items())
def test_the_english_names_still_work_as_hidden_aliases(alias: str, name: str) -> None:
    english, danish = kmf(alias, "--help"), kmf(name, "--help")
    assert english.returncode == 0, english.stderr
    # the same command: the same help below the usage line
    assert english.stdout.split("\n", 1)[1] == danish.stdout.split("\n", 1)[1]


def test_help_explains_grundlag_and_never_says_standard_standard() -> None:
    pages = " ".join(" ".join(kmf(c, "--help").stdout.split()) for c in COMMANDS)
    assert "Standard: standard" not in pages
    assert "grundlag (alle fire opgørelser, en prognose kræver)" in pages


def test_run_help_gives_each_method_a_line() -> None:
    text = kmf("beregn", "--help").stdout
    for name in (*METHODS, "alle"):
        assert re.search(rf"^ +{name} +\S", text, flags=re.MULTILINE), (name, text)
    assert "--csv FORMAT" in text and "dansk" in text
    # the argument's own help, with every supported Typer and Click
    assert re.search(r"^Argumenter:\n +\[?DATASÆT\]? +En mappe med aktivitet", text,
                     flags=re.MULTILINE), text  # fmt: skip


def test_kommune_help_keeps_the_folder_whole_and_says_the_year_default() -> None:
    text = kmf("kommune", "--help").stdout
    assert "kmf-kommune-<KODE>" in text  # not broken after a hyphen at 80 columns
    words = " ".join(text.split())
    assert "--aar ÅR Budgetåret T. Standard: aar i kmf.toml, ellers seneste år med en" in words


def test_help_does_not_load_the_library() -> None:
    # the help answers at once: nothing of polars, numpy, numba or matplotlib is imported
    code = (
        "import sys\nfrom kmf.__main__ import main\nsys.argv = ['kmf', '--help']\n"
        "try:\n    main()\nexcept SystemExit:\n    pass\n"
        "heavy = sorted(m for m in ('polars', 'numpy', 'numba', 'matplotlib', 'pyarrow', "
        "'openpyxl', 'kmf.io', 'kmf.result') if m in sys.modules)\nprint('LOADED', heavy)"
    )
    done = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True,
                          check=False)  # fmt: skip
    assert "LOADED []" in done.stdout, done.stdout + done.stderr


def test_validate_without_a_dataset_checks_the_sample() -> None:
    done = kmf("validate")
    assert done.returncode == 0, done.stderr
    out = done.stdout
    assert "det medfølgende eksempel" in out
    assert "budget: budget.csv (3 rækker)" in out  # 2017, 2018 and 2019
    assert "rækker)" in out and "(0 rækker)" not in out and "1 rækker" not in out
    assert "…" not in out
    # amounts in mio. kr. with one decimal, summed here from the sample's own file
    with (sample_dataset() / "aktivitet.csv").open(encoding="utf-8") as fh:
        rows = list(csv.DictReader(fh))
    base = [
        r for r in rows if (r["aar"], r["opgoerelse"], r["takstaar"]) == ("2016", "endelig", "2018")
    ]
    amounts = [sum(float(r[c]) for r in base) / 1e6 for c in ("produktionsvaerdi", "kmf")]
    shown = [f"{a:,.1f}".replace(",", "_").replace(".", ",").replace("_", ".") for a in amounts]
    assert "Beløb i mio. kr." in out
    # the sample is dated (SPEC §7): the base cut is 2016 endelig pr. 10 April 2017
    day = base[0]["opgoerelsesdato"]
    line = f"2016 endelig 2018 {day} {len(base):,} 98 {shown[0]} {shown[1]}".replace(",", ".", 1)
    assert line in [" ".join(x.split()) for x in out.splitlines()], (line, out)
    for line in out.splitlines():
        assert len(line) <= 80, line


def test_tjek_shows_the_budget_the_date_beregn_uses_and_why_rows_are_left_out() -> None:
    out = " ".join(kmf("tjek").stdout.split())
    with (sample_dataset() / "budget.csv").open(encoding="utf-8") as fh:
        budget = next(float(r["kmf_budget_kr"]) for r in csv.DictReader(fh) if r["aar"] == "2018")
    shown = f"{budget / 1e6:,.1f}".replace(",", "_").replace(".", ",").replace("_", ".")
    assert f"Budget 2018 (hele landet): {shown} mio. kr." in out
    with (sample_dataset() / "aktivitet.csv").open(encoding="utf-8") as fh:
        rows = list(csv.DictReader(fh))
    # the default date: the latest 2018 foreløbig date (each date of the sample has a basis)
    latest = max(r["opgoerelsesdato"] for r in rows if (r["aar"], r["opgoerelse"]) ==
                 ("2018", "foreloebig"))  # fmt: skip
    assert latest == "2018-09-10"
    assert "kmf beregn bruger opgørelsen pr. 10. september 2018: den seneste med grundlag" in out
    # budget year 2019's rows are left out as another year, counted from the file
    later = sum(1 for r in rows if r["aar"] == "2019")
    said = f"{later:,}".replace(",", ".")
    assert f"2019 foreløbig, 2019-takster: {said} rækker" in out
    assert "et andet år end dem, budgetår 2018 bruger (2016–2018)" in out
    # the 2018 endelig cut: not part of the forecast, the truth of kmf spor
    assert "den endelige opgørelse for 2018 indgår ikke i prognosen" in out


@pytest.mark.parametrize(
    ("command", "folder"),
    [("beregn", "kmf-rapport"), ("spor", "kmf-prognosespor"), ("historik", "kmf-historik"),
     ("kommune", "kmf-kommuner")],
)  # fmt: skip
def test_a_default_folder_stands_whole_on_one_line(command: str, folder: str) -> None:
    text = kmf(command, "--help").stdout
    assert folder in text, text  # not broken after its hyphen at 80 columns


@pytest.mark.parametrize(
    "args",
    [("beregn",), ("kommune", "851"), ("spor",), ("historik",), ("spor", "--kommune", "751")],
)
def test_what_a_command_prints_fits_80_columns(tmp_path: Path, args: tuple[str, ...]) -> None:
    """Every line a command prints on the sample, the finished stages' lines included (the
    track's stage names its year, dates and method), fits an 80-column terminal (with a
    short output folder: a long path is the user's own)."""
    env = {**os.environ, "COLUMNS": "80", "KMF_FEJLSPOR": ""}
    done = subprocess.run([sys.executable, "-m", "kmf", *args, "--out", "ud"], cwd=tmp_path,
                          capture_output=True, text=True, check=False, env=env)  # fmt: skip
    assert done.returncode == 0, done.stderr
    assert "✓ Læser" in done.stdout  # the stages are printed, not only the results
    for line in done.stdout.splitlines():
        assert len(line) <= 80, line


def test_a_block_whose_shown_parts_do_not_add_up_says_they_are_rounded(tmp_path: Path) -> None:
    """kmf beregn's two blocks of effects: where the parts, as printed, do not add up to the
    change as printed, a line under the block says so; where they do, none. The sums are
    worked out here from the printed numbers."""
    from kmf.report.text_sums import CONSOLE_ROUNDING_NOTE as ROUNDING_NOTE
    from kmf.report.text_sums import adds_up_as_shown

    env = {**os.environ, "COLUMNS": "80", "KMF_FEJLSPOR": ""}
    done = subprocess.run([sys.executable, "-m", "kmf", "beregn", "--out", "ud"], cwd=tmp_path,
                          capture_output=True, text=True, check=False, env=env)  # fmt: skip
    lines = done.stdout.splitlines()

    def number(line: str) -> int:  # tenths: "  A. Aktivitetseffekt       -4,9 pct.-point" → -49
        return int(re.findall(r"[-+]?\d+,\d", line)[-1].replace(",", ""))

    change = number(next(line for line in lines if line.startswith("  Ændring")))
    start = next(i for i, line in enumerate(lines) if line.startswith("  A. "))
    ministry = [number(line) for line in lines[start : start + 4]]
    start = next(i for i, line in enumerate(lines) if line.startswith("Ændringen set fra")) + 1
    citizens = [number(line) for line in lines[start : start + 4]]
    # the sample: −4,9 + 1,7 + 2,9 + 0,3 = 0,0 and 1,3 + 1,4 − 5,8 + 3,0 = −0,1, change 0,0
    assert (sum(ministry), sum(citizens), change) == (0, -1, 0), (ministry, citizens, change)
    assert lines[start - 2] != ROUNDING_NOTE  # under the ministry's block: none
    assert lines[start + 4] == ROUNDING_NOTE and lines.count(ROUNDING_NOTE) == 1
    # the rule at its edge: 0,04 + 0,04 shows 0,0 + 0,0 = 0,0 against a change of 0,08 → 0,1
    assert not adds_up_as_shown([0.04, 0.04], 0.08)
    assert adds_up_as_shown([0.06, 0.04], 0.10) and adds_up_as_shown([-4.9, 4.9], 0.0)


@pytest.mark.parametrize("terminal", [True, False])
def test_an_error_is_wrapped_between_words_on_a_terminal_and_one_line_in_a_log(
    monkeypatch: pytest.MonkeyPatch, terminal: bool
) -> None:
    import io

    from rich.console import Console

    from kmf.cli import console as cli_console

    out = io.StringIO()
    monkeypatch.setattr(cli_console, "err_console", lambda: Console(
        file=out, force_terminal=terminal, width=80, highlight=False, soft_wrap=True))  # fmt: skip
    path = "C:\\Users\\konsulent\\Documents\\KMF-data\\2018\\aktivitet_september_endelig.csv"
    message = (f"{path} mangler kolonnen 'produktionsvaerdi'. Kolonnerne i filen er: aar, "
               "aldersgruppe, kmf, kommunekode, opgoerelse, produktionsværdi, sundhedsomraade "
               "og takstaar. Ret navnet, og kør igen (se README under 'Dataformat').")  # fmt: skip
    assert cli_console.fail(message).exit_code == 2
    lines = out.getvalue().rstrip("\n").split("\n")
    if not terminal:  # a log keeps the message as it is: one line
        assert lines == [f"Fejl: {message}"]
        return
    assert len(lines) >= 3 and all(len(line) <= 80 for line in lines[1:]), lines
    # between words only: the words are the message's, and the path (81 characters) is whole
    assert " ".join(lines).split() == f"Fejl: {message}".split()
    assert any(path in line for line in lines)
