"""The exceptions users see, and the Danish words for what the operating system refused."""

from __future__ import annotations

import errno
import os
import re

TYPE_CHECKING = False
if TYPE_CHECKING:
    from collections.abc import Callable
    from pathlib import Path

    import polars as pl


# Rows shown per problem in an error message.
SHOWN = 5


class DataError(ValueError):
    """Bad input: the message is in Danish and names file, column, values and rows."""


class OutputError(ValueError):
    """The output cannot be written where asked (e.g. it exists and ``force`` was not given)."""


# polars reports a failed read or write as "... (os error 28)" without setting ``errno``
_OS_ERROR = re.compile(r"\(os error (\d+)\)")

# What went wrong and what to do, by errno; ``{p}`` is the path. Writing and reading need
# different advice, so each has its own text where they differ; a full or read-only disk is
# always a write.
_WRITING = {
    errno.EACCES: "Du har ikke lov til at skrive i '{p}' eller mappen, den ligger i. Få "
    "rettighederne ændret, eller {alt}, hvor du har skriveadgang.",
    errno.EPERM: "'{p}' eller mappen, den ligger i, er låst mod ændringer (ingen skriveadgang, "
    "eller markeret som uforanderlig, fx med 'chattr +i'). Fjern låsen, eller {alt}.",
    errno.ENOENT: "'{p}' forsvandt, mens der blev skrevet (blev mappen flyttet eller "
    "slettet?). Kør igen.",
    errno.EISDIR: "'{p}' er en mappe. Angiv et filnavn.",
}
_READING = {
    errno.EACCES: "Du har ikke lov til at læse '{p}'. Giv din bruger læseadgang (fx med "
    "'chmod a+r'), eller kopiér filen til en mappe, du har adgang til.",
    errno.EPERM: "Du har ikke lov til at læse '{p}'. Giv din bruger læseadgang, eller kopiér "
    "filen til en mappe, du har adgang til.",
    errno.ENOENT: "'{p}' findes ikke. Ret stien.",
    errno.EISDIR: "'{p}' er en mappe, men her skal stå en fil. Ret stien.",
}
_BOTH = {
    errno.ENOSPC: "Der er ikke plads nok på disken til at skrive i '{p}'. Frigør plads, "
    "eller {alt}.",
    errno.EDQUOT: "Din diskkvote er brugt op, så der kan ikke skrives i '{p}'. Frigør plads, "
    "eller {alt}.",
    errno.EFBIG: "En fil bliver for stor til drevet, hvor '{p}' ligger; det tillader ikke så "
    "store filer. {Alt}, der ligger på et andet drev.",
    errno.EROFS: "'{p}' ligger på et skrivebeskyttet drev, så der kan ikke skrives der. {Alt}.",
    errno.ENAMETOOLONG: "Stien '{p}' er for lang. Vælg en kortere sti.",
    errno.EIO: "Drevet gav en læse-/skrivefejl ved '{p}'. Kontrollér drevet (eller "
    "netværksforbindelsen), og kør igen.",
    errno.EMFILE: "Der er for mange åbne filer til at arbejde med '{p}'. Luk andre programmer, "
    "og kør igen.",
    errno.ENFILE: "Der er for mange åbne filer til at arbejde med '{p}'. Luk andre programmer, "
    "og kør igen.",
    errno.EBUSY: "'{p}' er i brug af et andet program. Luk det, og kør igen.",
    errno.ETXTBSY: "'{p}' er i brug af et andet program. Luk det, og kør igen.",
    errno.EEXIST: "'{p}' findes allerede, så den kan ikke oprettes. Flyt eller slet den, "
    "eller vælg et andet navn.",
    errno.ENOTDIR: "En del af stien '{p}' er en fil, ikke en mappe. Ret stien.",
    errno.ENOTEMPTY: "Mappen '{p}' er ikke tom, så den kan ikke erstattes. Flyt eller slet "
    "indholdet, eller {alt}.",
    errno.EXDEV: "'{p}' kan ikke flyttes på plads, fordi den skal over på et andet drev. "
    "{Alt} på samme drev.",
    errno.ELOOP: "Stien '{p}' har genveje (symbolske links), der peger i ring. Ret stien.",
    errno.EINVAL: "Stien '{p}' kan ikke bruges her (fx et tegn, drevet ikke tillader i "
    "filnavne). Vælg et andet navn.",
    errno.EAGAIN: "'{p}' er midlertidigt optaget. Vent lidt, og kør igen.",
    errno.ESTALE: "Netværksdrevet, hvor '{p}' ligger, har mistet forbindelsen. Åbn drevet "
    "igen, og kør igen.",
    errno.ETIMEDOUT: "Drevet, hvor '{p}' ligger, svarede ikke i tide. Kontrollér "
    "netværksforbindelsen, og kør igen.",
    errno.ENODEV: "Drevet, hvor '{p}' ligger, findes ikke (længere). Tilslut drevet, eller "
    "ret stien.",
    errno.ENXIO: "Drevet, hvor '{p}' ligger, findes ikke (længere). Tilslut drevet, eller "
    "ret stien.",
    errno.ENOMEM: "Der er ikke hukommelse nok til at arbejde med '{p}'. Luk andre programmer, "
    "og kør igen.",
    errno.ENOLCK: "'{p}' kan ikke låses (drevet tillader ikke fillåse). {Alt} på et andet drev.",
    errno.EPIPE: "Forbindelsen brød, mens der blev skrevet til '{p}'. Kør igen.",
    errno.ECONNRESET: "Forbindelsen til drevet, hvor '{p}' ligger, blev afbrudt. Kør igen.",
}


OTHER_FOLDER = "vælg en anden mappe med --out"

# Windows' own error numbers (``OSError.winerror``, set on Windows only): a file another
# program holds open (sharing and lock violation), and "access denied", which Windows also
# answers for a file open in Excel; a path longer than Windows allows.
WIN_IN_USE = frozenset({32, 33})
WIN_DENIED = 5
WIN_PATH_TOO_LONG = 206
# files a konsulent opens in Excel; other files are held by "the program that has it open"
_EXCEL_TYPES = (".xlsx", ".xlsm", ".xls", ".csv")


def held_open_message(
    exc: BaseException, target: str | os.PathLike[str], alternative: str = OTHER_FOLDER
) -> str | None:
    """The Danish line for a file Windows would not replace or delete because a program
    (Excel) holds it open, naming the file; ``None`` for any other error. ``target`` is the
    output folder or file being replaced, which stays as it was."""
    code = getattr(exc, "winerror", None)
    if code not in WIN_IN_USE and code != WIN_DENIED:
        return None
    from pathlib import Path

    target = Path(target)
    real = Path(os.path.realpath(target))
    held = None
    for name in (getattr(exc, "filename2", None), getattr(exc, "filename", None)):
        if isinstance(name, str | bytes):
            path = Path(os.path.realpath(os.fsdecode(name)))
            if path == real or path.parent == real:
                held = path
                break
    if held is None and code == WIN_DENIED:
        return None  # not one of the files: e.g. a folder the user may not write in
    if held is None:
        first = f"En fil i '{target}' er åben i et andet program (fx Excel). Luk den, og kør igen."
    else:
        program = (
            "Excel" if held.suffix.lower() in _EXCEL_TYPES else "det program, der har den åben,"
        )
        unchanged = (
            f"'{target}' er ikke ændret" if held == real else f"Intet i '{target}' er ændret"
        )
        first = (
            f"Luk {held.name} i {program} og kør igen: filen er åben, så den kan ikke "
            f"erstattes. {unchanged}."
        )
    if code == WIN_DENIED:
        first += (
            " Er filen ikke åben, har du ikke lov til at ændre den: fjern skrivebeskyttelsen, "
            f"eller {alternative}."
        )
    return first


def errno_of(exc: BaseException) -> int | None:
    """The operating system's error number behind ``exc``, if it has one."""
    if isinstance(exc, OSError) and exc.errno is not None:
        return exc.errno
    found = _OS_ERROR.search(str(exc))
    return int(found.group(1)) if found else None


def os_error_message(
    exc: BaseException,
    path: str | os.PathLike[str] | None = None,
    *,
    writing: bool = False,
    alternative: str = OTHER_FOLDER,
) -> str:
    """A Danish sentence for an operating-system error: what failed on which path, and what
    to do. ``path`` is named instead of the one in ``exc`` (e.g. the output folder rather
    than a hidden file inside kmf's staging folder); ``alternative`` is how to write
    elsewhere (lower case, no full stop)."""
    if path is None and isinstance(exc, OSError) and isinstance(exc.filename, str | bytes):
        path = os.fsdecode(exc.filename)
    p = str(path) if path is not None else "?"
    code = errno_of(exc)
    if getattr(exc, "winerror", None) == WIN_PATH_TOO_LONG:  # Windows says ENOENT or EINVAL
        code = errno.ENAMETOOLONG
    if code in (errno.ENOTDIR, errno.EEXIST) and path is not None:
        blocker = _file_in_the_way(p)
        if blocker is not None:
            advice = f"Ret stien, eller {alternative}." if writing else "Ret stien."
            return f"'{blocker}' er en fil, ikke en mappe, så '{p}' kan ikke oprettes. {advice}"
    texts = {**_BOTH, **(_WRITING if writing else _READING)}
    if code in texts:
        return texts[code].format(
            p=p, alt=alternative, Alt=alternative[:1].upper() + alternative[1:]
        )
    # the last resort, for an errno kmf does not meet in normal use: the system's own words
    reason = os.strerror(code) if code is not None else (str(exc) or type(exc).__name__)
    verb = "skrive i" if writing else "læse"
    return (
        f"Kunne ikke {verb} '{p}'. Styresystemet svarede: {reason}"
        f"{f' (fejl {code})' if code is not None else ''}. Kontrollér stien og rettighederne, "
        "og kør igen."
    )


def _file_in_the_way(name: str) -> Path | None:
    """The first part of ``name`` that exists but is not a folder (where a folder should be)."""
    from pathlib import Path

    path = Path(name)
    for part in [*reversed(path.parents), path]:
        try:
            if part.exists() and not part.is_dir():
                return part
        except OSError:
            return None
    return None


def describe_problem_rows(frame: pl.DataFrame, label: Callable[[dict], str]) -> str:
    """Up to ``SHOWN`` rows of a small frame, labelled, for a message."""
    shown = [label(r) for r in frame.head(SHOWN).iter_rows(named=True)]
    more = f" (og {frame.height - SHOWN} flere)" if frame.height > SHOWN else ""
    return "; ".join(shown) + more


def full_stop(text: str) -> str:
    """``text`` ending a sentence: one full stop, also after an abbreviation ("kr.")."""
    return text if text.endswith(".") else text + "."


def readable_path(path: str | os.PathLike[str]) -> str:
    """The path as text that can be printed, whatever bytes its name holds."""
    return os.fsencode(path).decode("utf-8", errors="replace")


def require_utf8_path(path: str | os.PathLike[str], error: type[ValueError]) -> None:
    """A path whose name is not UTF-8 cannot be handed to the engines: say so plainly."""
    try:
        os.fspath(path).encode("utf-8")
    except UnicodeEncodeError:
        raise error(
            f"Stien '{readable_path(path)}' har et navn med tegn, der ikke er UTF-8 (fx fra et "
            "gammelt system eller et USB-drev). Omdøb filen eller mappen, så navnet kun har "
            "almindelige tegn, og prøv igen."
        ) from None
