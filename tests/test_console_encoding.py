"""Every command on a console that is not UTF-8: a Danish Windows console redirected to a file
writes cp1252 (``kmf run > log.txt``), others latin-1 or plain ASCII.

The real command line runs in a subprocess with standard output and error redirected to
files under ``PYTHONIOENCODING``; the bytes are read back. They must decode in that encoding,
the command must end with its usual exit code and its own words (never "Uventet fejl"), and
Danish letters stay where the encoding has them; in ASCII they are spelt ae, oe, aa.
"""

from __future__ import annotations

import json
import os
import re
import shutil
import subprocess
import sys
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

import pytest

from kmf.cli import app
from kmf.io import sample_dataset

ROOT = Path(__file__).parent.parent
ENCODINGS = ("cp1252", "ascii", "latin-1")
# The folder names hold Danish letters and a space, as a konsulent's folders do.
OUT = "Økonomi ud æøå"
MISSING = "mangler æøå"

# By the function behind each command (names may change): the arguments of a run that
# succeeds and of one that fails, with {d} for the test's folder, and words each prints.
CASES: dict[str, dict[str, object]] = {
    "run_command": {
        "ok": ["run", "--out", "{d}/" + OUT],
        "ok_words": ["Læser og kontrollerer data", "Største stigning", OUT],
        "error": ["run", "{d}/" + MISSING, "--out", "{d}/x"],
    },
    "validate_command": {
        "ok": ["validate"],
        "ok_words": ["Datasættet er i orden", "aktivitetsrækker bruges", "Budget 2018"],
        "error": ["validate", "{d}/" + MISSING],
    },
    "kommune_command": {
        "ok": ["kommune", "851", "--out", "{d}/" + OUT],
        "ok_words": ["Rapporten ligger i", OUT],
        "error": ["kommune", "9999", "--out", "{d}/x"],
        "error_words": ["Kommune 9999 er ikke en kommunekode"],
    },
    "figure_command": {
        "ok": ["figur", "-o", "{d}/" + OUT + ".png"],
        "ok_words": ["Figuren er gemt i", OUT],
        "error": ["figur", "-o", "{d}/" + MISSING + ".txt"],
        "error_words": ["filtypen '.txt' kendes ikke", MISSING],
    },
    "synth_command": {
        "ok": ["synth", "--rækker", "50", "--out", "{d}/" + OUT],
        "ok_words": ["Parquet-filer skrevet i", OUT],
        "error": ["synth", "--rækker", "50", "--out", "{d}/fuld æøå"],
        "error_words": ["findes allerede og er ikke tom"],
    },
    "convert_command": {
        "ok": ["konverter", "{sample}/aktivitet.csv", "{d}/" + OUT + ".parquet"],
        "ok_words": ["rækker skrevet til", OUT],
        "error": ["konverter", "{d}/" + MISSING + ".csv", "{d}/x.parquet"],
        "error_words": ["findes ikke", MISSING],
    },
    "spor_command": {
        "ok": ["spor", "--out", "{d}/" + OUT],
        "ok_words": ["Beregner prognosen for hver opgørelsesdato", OUT],
        "error": ["spor", "{d}/" + MISSING],
    },
    "cache_command": {
        "ok": ["cache"],
        "ok_words": ["Mellemlageret i", "Tøm det med: kmf cache --ryd"],
        "error": ["cache", "--tøm"],
        # older Click quotes the option's name, newer does not
        "error_words": ["Tilvalget ", "--tøm", " findes ikke"],
    },
    "historik_command": {
        "ok": ["historik", "--out", "{d}/" + OUT],
        "ok_words": ["Læser og kontrollerer data", OUT],
        "error": ["historik", "{d}/" + MISSING],
    },
}
ASCII_DANISH = {"æ": "ae", "ø": "oe", "å": "aa", "Æ": "Ae", "Ø": "Oe", "Å": "Aa"}


def commands() -> dict[str, str]:
    """The name of every command ``kmf --help`` lists, by the function behind it."""
    return {c.callback.__name__: str(c.name) for c in app.registered_commands}  # type: ignore[union-attr]


def as_written(text: str, encoding: str) -> str:
    """What the console shows of ``text``: Danish letters spelt out in ASCII (by hand)."""
    if encoding != "ascii":
        return text
    return "".join(ASCII_DANISH.get(c, c) for c in text)


def kmf(args: list[str], encoding: str, folder: Path) -> tuple[int, bytes, bytes]:
    """``python -m kmf ARGS`` with stdout and stderr redirected to files, as ``kmf > log``."""
    folder.mkdir(parents=True, exist_ok=True)
    out, err = folder / "stdout.txt", folder / "stderr.txt"
    with out.open("wb") as o, err.open("wb") as e:
        code = subprocess.run([sys.executable, "-m", "kmf", *args], stdout=o, stderr=e,
                              env=environment(encoding), cwd=folder, check=False,
                              timeout=300).returncode  # fmt: skip
    return code, out.read_bytes(), err.read_bytes()


def environment(encoding: str) -> dict[str, str]:
    env = {**os.environ, "PYTHONIOENCODING": encoding, "COLUMNS": "80", "KMF_FEJLSPOR": ""}
    env.pop("PYTHONUTF8", None)
    return env


# One process per encoding runs the commands one after another through the ``kmf`` entry
# point, its standard output and error moved to each command's files in turn: the start-up
# (polars, numba, matplotlib) is paid once, not once per command.
DRIVER = """
import json, os, sys
from kmf.__main__ import main

for args, folder in json.loads(sys.argv[1]):
    sys.stdout.flush(); sys.stderr.flush()
    for fd, name in ((1, "stdout.txt"), (2, "stderr.txt")):
        opened = os.open(os.path.join(folder, name), os.O_WRONLY | os.O_CREAT | os.O_TRUNC)
        os.dup2(opened, fd)
        os.close(opened)
    sys.argv = ["kmf", *args]
    try:
        main()
        code = 0
    except SystemExit as stop:
        code = stop.code if isinstance(stop.code, int) else 0 if stop.code is None else 1
    sys.stdout.flush(); sys.stderr.flush()
    with open(os.path.join(folder, "rc.txt"), "w") as fh:
        fh.write(str(code))
"""


def run_all(jobs: list[tuple[list[str], Path]], encoding: str, folder: Path) -> None:
    plan = json.dumps([(args, str(d)) for args, d in jobs])
    with (folder / f"driver-{encoding}.txt").open("wb") as log:
        done = subprocess.run([sys.executable, "-c", DRIVER, plan], stdout=log, stderr=log,
                              env=environment(encoding), cwd=folder, check=False,
                              timeout=900)  # fmt: skip
    assert done.returncode == 0, (folder / f"driver-{encoding}.txt").read_text(errors="replace")


@pytest.fixture(scope="module")
def runs(tmp_path_factory: pytest.TempPathFactory) -> dict[tuple[str, str, str], tuple]:
    """Every command, succeeding and failing, under every encoding."""
    base = tmp_path_factory.mktemp("enc")
    jobs: dict[str, list[tuple[list[str], Path]]] = {e: [] for e in ENCODINGS}
    keys = {}
    for function, case in CASES.items():
        for encoding in ENCODINGS:
            for kind in ("ok", "error"):
                d = base / f"{function}-{encoding}-{kind}"
                d.mkdir()
                if function == "synth_command":
                    (d / "fuld æøå").mkdir()
                    (d / "fuld æøå" / "noter.txt").write_text("mine\n")
                args = [a.format(d=d, sample=sample_dataset()) for a in case[kind]]  # type: ignore[attr-defined]
                jobs[encoding].append((args, d))
                keys[(function, encoding, kind)] = d
    with ThreadPoolExecutor(max_workers=len(ENCODINGS)) as pool:
        for done in [pool.submit(run_all, jobs[e], e, base) for e in ENCODINGS]:
            done.result()
    return {
        key: (int((d / "rc.txt").read_text()), (d / "stdout.txt").read_bytes(),
              (d / "stderr.txt").read_bytes(), d)
        for key, d in keys.items()
    }  # fmt: skip


def test_every_command_is_covered() -> None:
    assert set(commands()) == set(CASES)


@pytest.mark.parametrize("encoding", ENCODINGS)
@pytest.mark.parametrize("function", sorted(CASES))
def test_a_command_that_succeeds(runs: dict, function: str, encoding: str) -> None:
    code, out, err, _ = runs[(function, encoding, "ok")]
    text = out.decode(encoding) + err.decode(encoding)  # strict: every byte is the encoding's
    assert code == 0, text
    assert "Uventet fejl" not in text and "Traceback" not in text
    for words in CASES[function]["ok_words"]:  # type: ignore[attr-defined]
        assert as_written(words, encoding) in text, (words, text)
    # the sign of a finished stage where the encoding has no "✓"
    if function in ("run_command", "spor_command", "historik_command", "kommune_command"):
        assert "\nOK " in "\n" + text or text.startswith("OK "), text
    if encoding != "ascii":
        assert any(c in text for c in "æøåÆØÅ"), text
    else:
        assert text.isascii()


@pytest.mark.parametrize("encoding", ENCODINGS)
@pytest.mark.parametrize("function", sorted(CASES))
def test_a_command_that_fails(runs: dict, function: str, encoding: str) -> None:
    code, out, err, _ = runs[(function, encoding, "error")]
    message = err.decode(encoding)
    assert code == 2, (out, message)
    assert message.startswith("Fejl: "), message
    assert "Uventet fejl" not in message and "Traceback" not in message
    for words in CASES[function].get("error_words", [MISSING]):  # type: ignore[attr-defined]
        assert as_written(words, encoding) in message, (words, message)
    if encoding == "ascii":
        assert message.isascii()


@pytest.mark.parametrize("encoding", ENCODINGS)
def test_help_and_usage_errors(tmp_path: Path, encoding: str) -> None:
    code, out, err = kmf(["--help"], encoding, tmp_path / "help")
    assert code == 0
    assert as_written("Vis denne hjælp og afslut.", encoding) in out.decode(encoding)
    code, out, err = kmf(["run", "--aar", "abc"], encoding, tmp_path / "usage")
    message = err.decode(encoding)
    assert code == 2, message
    assert message.startswith(as_written("Fejl: Ugyldig værdi for", encoding)), message


@pytest.mark.skipif(shutil.which("script") is None, reason="needs script(1) for a terminal")
def test_a_cp1252_terminal_that_is_not_redirected(tmp_path: Path) -> None:
    # a terminal (a pseudo-tty) whose encoding is cp1252: the spinner and the ticks too
    env = {**os.environ, "PYTHONIOENCODING": "cp1252", "COLUMNS": "80", "TERM": "xterm"}
    command = f"{sys.executable} -m kmf run --out '{tmp_path / OUT}'"
    done = subprocess.run(["script", "-qec", command, "/dev/null"], capture_output=True,
                          env=env, cwd=ROOT, check=False, timeout=300)  # fmt: skip
    text = done.stdout.decode("cp1252")
    assert done.returncode == 0, text
    assert "OK Skriver tabeller, Excel og figurer" in text
    assert "Største stigning" in text
    shown = re.sub(r"\x1b\[[0-9;?]*[A-Za-z]", "", text)  # without the terminal's controls
    assert "?" not in shown  # no sign written as "?": the spinner is one cp1252 can draw


@pytest.mark.parametrize(
    ("encoding", "expected"),
    [
        ("cp1252", "OK Ændring - … ØA i Ærø, 5 × 2 “x”"),
        ("latin-1", 'OK Ændring - ... ØA i Ærø, 5 × 2 "x"'),
        ("ascii", 'OK Aendring - ... OEA i Aeroe, 5 x 2 "x"'),
    ],
)
def test_the_stand_ins(encoding: str, expected: str) -> None:
    from kmf.cli.encoding import HANDLER

    text = "✓ Ændring − … ØA i Ærø, 5 × 2 “x”"
    assert text.encode(encoding, errors=HANDLER) == expected.encode(encoding)
