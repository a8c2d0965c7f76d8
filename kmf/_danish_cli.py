"""Danish for the words the command-line framework prints itself ("Usage", "Options", …).

Click and Typer translate those through the standard ``gettext`` module. The catalog is
``kmf/locale/da/LC_MESSAGES/kmf.po``; ``compile_catalog`` turns it into the ``.mo`` file
``gettext`` reads (a test checks that the shipped ``.mo`` matches the ``.po``).
"""

from __future__ import annotations

import ast
import gettext
import os
import struct
from importlib import resources
from pathlib import Path

DOMAIN = "kmf"


def locale_dir() -> Path:
    return Path(str(resources.files("kmf").joinpath("locale")))


def use_danish() -> None:
    """Make Click's and Typer's own words Danish in this process (the ``kmf`` command)."""
    gettext.bindtextdomain(DOMAIN, str(locale_dir()))
    gettext.textdomain(DOMAIN)
    os.environ["LANGUAGE"] = "da"


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
