"""What a file's bytes say before it is parsed: whether it can be read at all, a CSV file's
separator and text encoding, a Parquet file's signature, and how numbers written as text
are to be read (SPEC §6).

Every problem becomes a Danish ``DataError`` naming the file, the line where there is one,
and what would be right; no library text reaches the user.
"""

from __future__ import annotations

import codecs
import csv
import io
import re
from collections.abc import Callable, Iterable
from dataclasses import dataclass
from pathlib import Path

import polars as pl

from kmf.errors import DataError, os_error_message

# CSV separators kmf reads, and how messages name them
SEPARATORS: dict[str, str] = {",": "komma", ";": "semikolon", "\t": "tabulator"}

CHUNK = 1 << 24

# Characters a Windows-1252 text from a Danish Excel plausibly holds beyond ASCII.
_CP1252_TEXT = set("€‚„…†‡‰‹‘’“”•–—™›¡¢£¤¥¦§¨©ª«¬®¯°±²³´µ¶·¸¹º»¼½¾¿×÷\xa0")

# A number whose dots may all be thousands separators: 1.234 or -12.345.678,9
_DOT_THOUSANDS = r"^[+-]?\d{1,3}(\.\d{3})+(,\d*)?$"
_MANY_DOTS = r"^[+-]?\d{1,3}(\.\d{3}){2,}(,\d*)?$"
# ... and the same with the signs swapped (1,234 or 12,345,678.9)
_COMMA_THOUSANDS = r"^[+-]?\d{1,3}(,\d{3})+(\.\d*)?$"
_MANY_COMMAS = r"^[+-]?\d{1,3}(,\d{3}){2,}(\.\d*)?$"

DECIMAL_HELP = (
    'Skriv i kmf.toml i datasættets mappe, hvad der menes: decimaltegn = "," '
    '(dansk: 1.234.567,89) eller decimaltegn = "." (1234567.89).'
)


@dataclass(frozen=True)
class CsvLayout:
    """How to parse a CSV file: its separator and encoding (``utf8``, or ``utf8-lossy`` for
    a Windows-1252 file whose non-ASCII letters only sit in text kmf does not use)."""

    separator: str
    encoding: str
    note: str | None = None


def check_readable(path: Path, display: str) -> int:
    """Open the file once, so a missing permission is named now; returns its size."""
    try:
        with path.open("rb") as fh:
            fh.read(1)
            return path.stat().st_size
    except OSError as exc:
        raise DataError(os_error_message(exc, path)) from None


def check_parquet(path: Path, display: str) -> None:
    """A Parquet file starts and ends with ``PAR1``: an empty, cut-off or renamed file does
    not, and is named here rather than by the reader's own words."""
    size = check_readable(path, display)
    with path.open("rb") as fh:
        head = fh.read(4)
        if size >= 12:
            fh.seek(-4, io.SEEK_END)
        tail = fh.read(4)
    if size == 0:
        problem = "den er tom (0 byte)"
    elif head != b"PAR1":
        problem = "den er ikke en Parquet-fil (den begynder ikke som en)"
    elif size < 12 or tail != b"PAR1":
        problem = "den er afkortet — slutningen mangler (måske blev den ikke skrevet færdig)"
    else:
        return
    raise DataError(
        f"{display} kan ikke læses: {problem}. Skriv Parquet-filen igen, eller gem data "
        "som CSV (aktivitet.csv)."
    )


def inspect_csv(path: Path, display: str) -> CsvLayout:
    """The separator and encoding of a CSV file; an empty file, a file with only a header
    or one that is not UTF-8 (and not clearly Windows-1252) is an error."""
    size = check_readable(path, display)
    if size == 0:
        raise DataError(
            f"{display} er tom (0 byte). Den skal have en overskriftslinje med kolonnenavnene "
            "og en linje pr. række."
        )
    with path.open("rb") as fh:
        start = fh.read(1 << 16)
    if b"\x00" in start:
        kind = "UTF-16 ('Unicode-tekst')" if start[:2] in (b"\xff\xfe", b"\xfe\xff") else "binær"
        raise DataError(
            f"{display} er ikke en tekstfil i UTF-8 (den ser ud til at være {kind}). Gem den "
            "som CSV i UTF-8 — i Excel: Filer → Gem som → 'CSV UTF-8 (kommasepareret) (*.csv)'."
        )
    if b"\r" in start and b"\n" not in start:
        raise DataError(
            f"{display} har linjeskift af den gamle Mac-type (kun CR), som ikke kan læses. Gem "
            "filen igen som CSV med almindelige linjeskift (Windows eller Linux)."
        )
    encoding, note = _encoding(path, display)
    with path.open("rb") as fh:
        header = fh.readline(1 << 20).decode("utf-8", errors="replace")
        body = fh.read(1 << 16)
    if not body.strip():
        raise DataError(
            f"{display} har kun overskriftslinjen og ingen rækker. Tilføj data under "
            "overskriften, eller tjek, at det er den rigtige fil."
        )
    counts = {sep: header.count(sep) for sep in SEPARATORS}
    separator = max(counts, key=lambda sep: counts[sep]) if any(counts.values()) else ","
    names = next(csv.reader([header.lstrip("\ufeff").rstrip("\r\n")], delimiter=separator), [])
    normalised = [n.strip().lower() for n in names]
    twice = sorted({n for n in normalised if n and normalised.count(n) > 1})
    if twice:
        raise DataError(
            f"{display}: overskriften har kolonnen {', '.join(repr(n) for n in twice)} mere end "
            "én gang. Giv hver kolonne sit eget navn, eller slet den ekstra kolonne."
        )
    return CsvLayout(separator, encoding, note)


def _encoding(path: Path, display: str) -> tuple[str, str | None]:
    """``utf8`` for a UTF-8 file; ``utf8-lossy`` with a note for a Windows-1252 file."""
    decoder = codecs.getincrementaldecoder("utf-8")()
    offset = 0
    with path.open("rb") as fh:
        while chunk := fh.read(CHUNK):
            try:
                decoder.decode(chunk)
            except UnicodeDecodeError as exc:
                return _not_utf8(path, display, offset + exc.start)
            offset += len(chunk)
        try:
            decoder.decode(b"", final=True)
        except UnicodeDecodeError as exc:
            return _not_utf8(path, display, offset + exc.start)
    return "utf8", None


def _not_utf8(path: Path, display: str, position: int) -> tuple[str, str | None]:
    with path.open("rb") as fh:
        before = fh.read(position)
        line = before.count(b"\n") + 1
        found = fh.read(1)
    if _is_windows_1252(path):
        return (
            "utf8-lossy",
            f"{display} er gemt som Windows-1252 (fx fra Excel), ikke UTF-8 (første gang i "
            f"linje {line}); den er læst alligevel, da kolonnerne, kmf bruger, kun har koder "
            "uden danske bogstaver. Gem den gerne som 'CSV UTF-8' næste gang.",
        )
    raise DataError(
        f"{display} er ikke gemt som UTF-8: linje {line} har et tegn, der ikke kan læses "
        f"(byte 0x{found.hex().upper()}). Gem filen som UTF-8 — i Excel: Filer → Gem som → "
        "'CSV UTF-8 (kommasepareret) (*.csv)'."
    )


def _is_windows_1252(path: Path) -> bool:
    """Every byte decodes as Windows-1252 and every non-ASCII character is a letter or a
    sign a Danish spreadsheet writes: then the file can be told apart safely."""
    decoder = codecs.getincrementaldecoder("cp1252")()
    with path.open("rb") as fh:
        while chunk := fh.read(CHUNK):
            try:
                text = decoder.decode(chunk)
            except UnicodeDecodeError:
                return False
            odd = {c for c in text if ord(c) > 127}
            if any(not (c.isalpha() or c in _CP1252_TEXT) for c in odd):
                return False
    return True


def csv_structure_problem(path: Path, display: str, layout: CsvLayout) -> str | None:
    """On a failed read: the first lines whose number of fields differs from the header's
    (quotes respected), in Danish, or ``None`` where that is not the problem."""
    name = SEPARATORS[layout.separator]
    with path.open(encoding="utf-8", errors="replace", newline="") as fh:
        reader = csv.reader(fh, delimiter=layout.separator)
        header = next(reader, [])
        wrong: list[str] = []
        count = 0
        for row in reader:
            if row and len(row) != len(header):
                count += 1
                if len(wrong) < 3:
                    wrong.append(f"linje {reader.line_num} har {len(row)}")
    if not count:
        return None
    more = f" (i alt {count} linjer)" if count > len(wrong) else ""
    return (
        f"{display} kan ikke læses: overskriften har {len(header)} kolonner adskilt af "
        f"{name}, men "
        f"{'; '.join(wrong)}{more}. Hver linje skal have lige så mange felter som overskriften: "
        "kontrollér skilletegnet og anførselstegn (et felt med skilletegn i skal stå i "
        'anførselstegn, fx "1.234,5").'
    )


def decimal_separator(
    lf: pl.LazyFrame, columns: Iterable[str], display: str, setting: str | None
) -> str:
    """How the numbers written as text in ``columns`` are to be read: ``","`` (1.234,56) or
    ``"."`` (1234.56), decided from the values themselves, never from the separator alone.

    ``setting`` (``decimaltegn`` in kmf.toml) decides where given. Values with a comma
    mean a decimal comma; a dot that cannot be a thousands separator (``3614406.39``)
    means a decimal point; both kinds in one file, or only dots that could be either
    (``1.234``), stop with a message saying what was found.
    """
    text = [c for c in columns if lf.collect_schema()[c] == pl.String]
    if not text:
        return setting or "."
    kinds: dict[str, Callable[[pl.Expr], pl.Expr]] = {
        # a comma that cannot group thousands (3614406,39 or 1.234,5): a decimal comma
        "comma": lambda s: s.str.contains(",", literal=True) & ~s.str.contains(_COMMA_THOUSANDS),
        # a dot that cannot group thousands (3614406.39): a decimal point
        "point": lambda s: s.str.contains(".", literal=True) & ~s.str.contains(_DOT_THOUSANDS),
        # two or more groups (1.234.567 or 1,234,567): that sign groups thousands
        "dot_groups": lambda s: s.str.contains(_MANY_DOTS),
        "comma_groups": lambda s: s.str.contains(_MANY_COMMAS),
        # either sign at all
        "signs": lambda s: s.str.contains(r"[.,]"),
    }
    stripped = {c: pl.col(c).str.strip_chars() for c in text}
    counts = (
        lf.select(
            pl.sum_horizontal(kind(s).sum() for s in stripped.values()).alias(name)
            for name, kind in kinds.items()
        )
        .collect(engine="streaming")
        .row(0, named=True)
    )
    comma = counts["comma"] + counts["dot_groups"]  # values only a decimal comma explains
    point = counts["point"] + counts["comma_groups"]  # values only a decimal point explains
    columns_named = " og ".join(f"'{c}'" for c in text)

    def example(*names: str) -> str:
        return next((e for n in names if (e := _example(lf, stripped, kinds[n]))), "")

    if setting is not None:
        against = point if setting == "," else comma
        if against:
            shown = (
                example("point", "comma_groups")
                if setting == ","
                else example("comma", "dot_groups")
            )
            raise DataError(
                f"{display}, kolonne {columns_named}: kmf.toml siger decimaltegn = "
                f"\"{setting}\", men fx '{shown}' kan kun læses med det andet decimaltegn. "
                "Ret decimaltegn i kmf.toml, eller ret tallene, så de alle er skrevet ens."
            )
        return setting
    if comma and point:
        found = (
            f"både tal med decimalkomma (fx '{example('comma', 'dot_groups')}') og med "
            f"decimalpunktum (fx '{example('point', 'comma_groups')}')"
        )
    elif comma:
        return ","
    elif point or not counts["signs"]:
        return "."
    else:
        found = (
            f"kun tal som '{example('signs')}', hvor punktum eller komma kan være både "
            "tusindtalsskilletegn (1.234 = tusind) og decimaltegn (1.234 = én)"
        )
    raise DataError(
        f"{display}, kolonne {columns_named}: tallene kan ikke læses entydigt — filen har "
        f"{found}. {DECIMAL_HELP}"
    )


def _example(
    lf: pl.LazyFrame, stripped: dict[str, pl.Expr], kind: Callable[[pl.Expr], pl.Expr]
) -> str:
    for column, s in stripped.items():
        hit = lf.select(s.alias(column)).filter(kind(s)).head(1).collect()
        if hit.height:
            return str(hit.item())
    return ""


_TOML_WHERE = re.compile(r"\(at line (\d+), column (\d+)\)")


def toml_message(path: Path, exc: Exception, text: str | None) -> str:
    """A Danish message for a ``kmf.toml`` that is not valid TOML, with the line."""
    match = _TOML_WHERE.search(str(exc))
    if text is None:
        where = "filen er ikke gemt som UTF-8"
    elif match:
        number = int(match.group(1))
        lines = text.splitlines()
        shown = lines[number - 1].strip() if 0 < number <= len(lines) else ""
        where = f"linje {number} kan ikke læses" + (f": '{shown}'" if shown else "")
    else:
        where = "filen kan ikke læses"
    return (
        f"'{path.name}' er ikke gyldig TOML ({where}). Skriv én indstilling pr. linje, fx "
        'aar = 2018, metode = "ministeriet", titel = "KMF 2018" (tekst i anførselstegn).'
    )
