"""Danish for the words the command-line framework prints itself ("Usage", "Options", …).

Click and Typer translate those through the standard ``gettext`` module. The catalog is
``kmf/locale/da/LC_MESSAGES/kmf.po``; ``compile_catalog`` turns it into the ``.mo`` file
``gettext`` reads (a test checks that the shipped ``.mo`` matches the ``.po``).
"""

from __future__ import annotations

import ast
import gettext
import os
import re
import struct
from importlib import resources
from pathlib import Path
from typing import Any

DOMAIN = "kmf"


def locale_dir() -> Path:
    return Path(str(resources.files("kmf").joinpath("locale")))


def use_danish() -> None:
    """Make Click's and Typer's own words Danish in this process (the ``kmf`` command)."""
    gettext.bindtextdomain(DOMAIN, str(locale_dir()))
    gettext.textdomain(DOMAIN)
    os.environ["LANGUAGE"] = "da"
    speak_danish_on_usage_errors()
    write_danish_help()
    keep_argument_help()
    keep_hyphenated_words()


def keep_hyphenated_words() -> None:
    """Never break a help line inside a word at its hyphen: a folder name such as
    ``kmf-rapport`` or ``kmf-kommuner`` stays whole on one line (Click's wrapper, like
    Python's, breaks after hyphens by default)."""
    import importlib

    for name in ("typer._click._textwrap", "click._textwrap"):  # Typer's own copy, or Click
        try:
            wrapper = importlib.import_module(name).TextWrapper
        except ImportError:
            continue
        init = wrapper.__init__
        if getattr(init, "keeps_hyphens", False):
            continue

        def __init__(self: Any, *args: Any, _init: Any = init, **named: Any) -> None:
            named.setdefault("break_on_hyphens", False)
            _init(self, *args, **named)

        __init__.keeps_hyphens = True  # type: ignore[attr-defined]
        wrapper.__init__ = __init__


def keep_argument_help() -> None:
    """Show the help of command-line arguments with every supported Typer and Click.

    Typer < 0.22 keeps an argument's help on the argument before Click's ``__init__`` runs,
    and Click >= 8.2, which has its own ``help`` for arguments, then sets it to ``None``.
    """
    from typer.core import TyperArgument

    init = TyperArgument.__init__
    if getattr(init, "keeps_help", False):
        return

    def __init__(self: Any, *args: Any, help: str | None = None, **named: Any) -> None:
        init(self, *args, help=help, **named)
        if self.help is None:
            self.help = help

    __init__.keeps_help = True  # type: ignore[attr-defined]
    TyperArgument.__init__ = __init__  # type: ignore[method-assign]


# Words of the help pages that some Click versions print without gettext (Typer's own copy
# of Click has no catalogue at all): the usage line's placeholders and the help option.
_USAGE_WORDS: tuple[tuple[str, str], ...] = (
    ("[OPTIONS]", "[TILVALG]"),
    ("COMMAND [ARGS]...", "KOMMANDO [ARGUMENTER]..."),
)
_HELP_WORDS: dict[str, str] = {"Show this message and exit.": "Vis denne hjælp og afslut."}


def danish_usage(args: str) -> str:
    """The usage line after the command's name, with Danish placeholders."""
    for english, danish in _USAGE_WORDS:
        args = args.replace(english, danish)
    return args


def write_danish_help() -> None:
    """Let every Click in use write its help pages with ``Brug:`` and Danish placeholders.

    Click makes each help page with the formatter class its ``Context`` names; kmf names a
    subclass that translates what passes through it, whichever Click version it is.
    """
    import importlib

    for name in ("typer._click.core", "click.core"):
        try:
            module = importlib.import_module(name)
        except ImportError:
            continue
        base = module.Context.formatter_class
        if getattr(base, "danish", False):
            continue

        class DanishHelpFormatter(base):  # type: ignore[misc, valid-type]
            danish = True

            def write_usage(self, prog: str, args: str = "", prefix: str | None = None) -> None:
                super().write_usage(prog, danish_usage(args), "Brug: ")

            def write_dl(self, rows: Any, *more: Any, **named: Any) -> None:
                # an argument's type ("DATASÆT <path>") says nothing its help does not
                rows = [(re.sub(r" <[a-z ]+>$", "", term), _HELP_WORDS.get(text, text))
                        for term, text in rows]  # fmt: skip
                super().write_dl(rows, *more, **named)

            def getvalue(self) -> str:
                return re.sub(r"[ \t]+\n", "\n", super().getvalue())

        module.Context.formatter_class = DanishHelpFormatter


def read_po(text: str) -> dict[str, str]:
    """Entries of a .po file: msgid (with a NUL before any plural) → msgstr (forms NUL-joined)."""
    entries: dict[str, str] = {}
    fields: dict[str, list[str]] = {}
    current: str | None = None

    def flush() -> None:
        if "msgid" in fields:
            key = "".join(fields["msgid"])
            if "msgid_plural" in fields:
                key += "\0" + "".join(fields["msgid_plural"])
                forms = sorted(k for k in fields if k.startswith("msgstr["))
                value = "\0".join("".join(fields[k]) for k in forms)
            else:
                value = "".join(fields.get("msgstr", []))
            entries[key] = value
        fields.clear()

    for line in text.splitlines():
        line = line.strip()
        if not line or line.startswith("#"):
            continue
        if line.startswith('"'):
            assert current is not None
            fields[current].append(ast.literal_eval(line))
            continue
        keyword, _, rest = line.partition(" ")
        if keyword == "msgid":
            flush()
        current = keyword
        fields[current] = [ast.literal_eval(rest)]
    flush()
    return entries


def compile_catalog(entries: dict[str, str]) -> bytes:
    """The GNU .mo bytes for ``entries`` (no hash table; keys sorted)."""
    keys = sorted(entries)
    ids = [k.encode() for k in keys]
    strs = [entries[k].encode() for k in keys]
    n = len(keys)
    start = 7 * 4 + 16 * n
    offsets: list[int] = []
    blob = b""
    for data in ids + strs:
        offsets += [len(data), start + len(blob)]
        blob += data + b"\0"
    header = struct.pack("<7I", 0x950412DE, 0, n, 28, 28 + 8 * n, 0, 0)
    return header + struct.pack(f"<{4 * n}I", *offsets) + blob


def build() -> Path:
    """Write the .mo next to the .po and return its path."""
    folder = locale_dir() / "da" / "LC_MESSAGES"
    target = folder / f"{DOMAIN}.mo"
    target.write_bytes(compile_catalog(read_po((folder / f"{DOMAIN}.po").read_text("utf-8"))))
    return target


if __name__ == "__main__":
    print(build())


# What Click says of a command line it cannot parse, in Danish. Recent Typer carries its own
# copy of Click with its words in English only, so the message is translated here.
_USAGE_ERRORS: tuple[tuple[str, str], ...] = (
    (
        r"No such option: (\S+)\s*\(Possible options: (.+)\)",
        "Tilvalget {0} findes ikke (mulige: {1}).",
    ),
    (r"No such option: (\S+)", "Tilvalget {0} findes ikke."),
    (r"No such command '(.+?)'\.?", "Kommandoen '{0}' findes ikke."),
    (r"Missing argument '(.+?)'\.?", "Argumentet {0} mangler."),
    (r"Missing option (.+?)\.?", "Tilvalget {0} mangler."),
    (r"Option '(.+?)' requires an argument\.?", "Tilvalget {0} skal have en værdi."),
    (r"Option '(.+?)' requires (\d+) arguments\.?", "Tilvalget {0} skal have {1} værdier."),
    (r"Got unexpected extra argument(?:s|\(s\))? \((.+)\)", "Der er ord til overs: {0}."),
    (r"Option '(.+?)' does not take a value\.?", "Tilvalget {0} tager ingen værdi."),
    (r"Invalid value for (.+?): (.*)", "Ugyldig værdi for {0}: {1}"),
)
_VALUE_ERRORS: tuple[tuple[str, str], ...] = (
    (r"'?(.*?)'? is not a valid integer\.?", "'{0}' er ikke et heltal."),
    (r"Input should be a valid integer.*", "skal være et heltal."),
    (r"Input should be greater than or equal to (\S+?)\.?", "skal være mindst {0}."),
    (r"Input should be less than or equal to (\S+?)\.?", "skal være højst {0}."),
    (r"Input should be greater than (\S+?)\.?", "skal være større end {0}."),
    (r"Input should be less than (\S+?)\.?", "skal være mindre end {0}."),
    (r"'?(.*?)'? is not a valid float\.?", "'{0}' er ikke et tal."),
    (r"(.+?) is not in the range (.+)\.?", "{0} ligger ikke i intervallet {1}."),
    (r"(.+?) is not in the valid range of (.+)\.?", "{0} ligger ikke i intervallet {1}."),
    (r"Path '(.+?)' does not exist\.?", "Stien '{0}' findes ikke."),
    (r"'?(.*?)'? is not a valid boolean\.?", "'{0}' er hverken ja eller nej."),
)


def danish_usage_error(message: str) -> str:
    """Click's message about a command line, in Danish (unknown ones as they are)."""
    text = _translate(message, _USAGE_ERRORS, inner=_VALUE_ERRORS)
    text = re.sub(r"\s*\(?Did you mean(?: one of:)? (.+?)\?\)?", r" Mente du \1?", text)
    # some Typer and Click versions together suggest the same name twice
    return re.sub(r"( Mente du [^?]+\?)(?:\1)+", r"\1", text)


def _translate(
    message: str, table: tuple[tuple[str, str], ...], inner: tuple[tuple[str, str], ...] = ()
) -> str:
    """``message`` by the first pattern of ``table`` it matches, its parts translated by
    ``inner`` (e.g. what is wrong with a value); as it is where none matches."""
    for pattern, text in table:
        found = re.fullmatch(pattern, message.strip(), flags=re.DOTALL)
        if found:
            return text.format(*(_translate(part, inner) for part in found.groups()))
    return message.strip()


def _show_in_danish(self: Any, file: Any = None) -> None:
    """In place of Click's ``UsageError.show``: one line, ``Fejl: …``, and where to get help."""
    import sys

    hint = ""
    if self.ctx is not None:
        hint = f" Se '{self.ctx.command_path} --help'."
    (file or sys.stderr).write(f"Fejl: {danish_usage_error(self.format_message())}{hint}\n")


def speak_danish_on_usage_errors() -> None:
    """Let every Click in use (Typer's own copy, or Click itself) report a command line it
    cannot parse in Danish."""
    import importlib

    for name in ("typer._click.exceptions", "click.exceptions"):
        try:
            module = importlib.import_module(name)
        except ImportError:
            continue
        usage = module.UsageError
        for cls in (usage, *usage.__subclasses__()):
            if cls.__name__ not in ("NoArgsIsHelpError",) and "show" in vars(cls):
                cls.show = _show_in_danish
