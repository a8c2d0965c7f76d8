"""Output that cannot fail on the console's encoding.

A Danish Windows console writes cp1252 when kmf's output is redirected (``kmf run >
log.txt``); other consoles may write latin-1 or plain ASCII. None of them has every sign kmf
prints ("✓", "−", box lines, a spinner's frames). ``fit_streams()`` sets an error handler on
``sys.stdout`` and ``sys.stderr`` that writes a plain stand-in for what the encoding lacks:

- signs: "✓" → "OK", "−" and the dashes → "-", "…" → "...", "×" → "x", quotes → '"', …;
- Danish letters stay wherever the encoding has them (cp1252 and latin-1 have æøå); in ASCII
  they are spelt out the Danish way: æ → ae, ø → oe, å → aa (Æ → Ae, Ø → Oe, Å → Aa);
- other letters lose their accents (é → e); anything else becomes "?".

Every line passes through the handler, whoever writes it: kmf, rich, Click's help and usage
errors, Python's own messages. Only the standard library here: it runs before anything else.
"""

from __future__ import annotations

import codecs
import contextlib
import sys
import unicodedata

HANDLER = "kmf-fallback"

FALLBACKS = {
    "✓": "OK",
    "✔": "OK",
    "✗": "x",
    "−": "-",
    "–": "-",
    "—": "-",
    "‑": "-",
    "…": "...",
    "×": "x",
    "·": ".",
    "•": "*",
    "→": "->",
    "←": "<-",
    "≈": "~",
    "≤": "<=",
    "≥": ">=",
    "±": "+/-",
    "“": '"',
    "”": '"',
    "„": '"',
    "«": '"',
    "»": '"',
    "‘": "'",
    "’": "'",
    "‚": "'",
    "\u00a0": " ",
    "\u202f": " ",
    "\u2009": " ",
    "½": "1/2",
    "²": "2",
    "³": "3",
    "°": " grader",
    "æ": "ae",
    "ø": "oe",
    "å": "aa",
    "Æ": "Ae",
    "Ø": "Oe",
    "Å": "Aa",
    "ß": "ss",
}


def plain(char: str) -> str:
    """The ASCII stand-in for one character an encoding lacks."""
    if char in FALLBACKS:
        return FALLBACKS[char]
    if "\u2500" <= char <= "\u257f":  # box drawing: the lines of a table
        return _box(char)
    bare = "".join(c for c in unicodedata.normalize("NFKD", char) if not unicodedata.combining(c))
    return bare if bare.isascii() and bare.isprintable() and bare else "?"


def _box(char: str) -> str:
    name = unicodedata.name(char, "")
    if "VERTICAL" in name and "HORIZONTAL" in name:
        return "+"
    return "|" if "VERTICAL" in name else "-" if "HORIZONTAL" in name else "+"


def _fallback(error: UnicodeError) -> tuple[str, int]:
    if not isinstance(error, UnicodeEncodeError):
        raise error
    text, start, end = error.object, error.start, error.end
    out = []
    for i in range(start, end):
        stand_in = plain(text[i])
        # a capital in a word of capitals stays all capitals: ØA → OEA, not OeA
        if len(stand_in) > 1 and text[i].isupper() and _capitals_around(text, i):
            stand_in = stand_in.upper()
        out.append(stand_in)
    return "".join(out), end


def _capitals_around(text: str, i: int) -> bool:
    after = text[i + 1 : i + 2]
    before = text[i - 1 : i] if i > 0 else ""
    return after.isupper() or (before.isupper() and not after.islower())


codecs.register_error(HANDLER, _fallback)


def fit_streams() -> None:
    """Let ``sys.stdout`` and ``sys.stderr`` write a stand-in for what their encoding lacks
    (see the module's doc), and let Click write to them as they are."""
    for stream in (sys.stdout, sys.stderr):
        reconfigure = getattr(stream, "reconfigure", None)
        if reconfigure is not None:
            with contextlib.suppress(Exception):
                reconfigure(errors=HANDLER)
    _click_uses_the_streams()


def _click_uses_the_streams() -> None:
    """Click re-encodes a stream whose encoding is ASCII as UTF-8, which an ASCII reader
    cannot read; kmf's streams carry their own stand-ins, so Click may use them as they are."""
    import importlib

    for name in ("typer._click._compat", "click._compat"):
        try:
            module = importlib.import_module(name)
        except ImportError:
            continue
        original = getattr(module, "_stream_is_misconfigured", None)
        if original is None or getattr(original, "kmf", False):
            continue

        def misconfigured(stream: object, original: object = original) -> bool:
            if getattr(stream, "errors", None) == HANDLER:
                return False
            return bool(original(stream))  # type: ignore[operator]

        misconfigured.kmf = True  # type: ignore[attr-defined]
        module._stream_is_misconfigured = misconfigured  # type: ignore[attr-defined]


def fit(text: str, stream: object = None) -> str:
    """``text`` as ``stream`` (standard output) will write it: with the stand-ins, so that
    columns can be padded to the width the reader sees."""
    encoding = getattr(stream if stream is not None else sys.stdout, "encoding", None)
    try:
        return text.encode(encoding or "utf-8", errors=HANDLER).decode(encoding or "utf-8")
    except LookupError:
        return text


def can_write(text: str, stream: object = None) -> bool:
    """Whether ``stream`` (standard output) can write ``text`` as it is."""
    encoding = getattr(stream if stream is not None else sys.stdout, "encoding", None)
    try:
        text.encode(encoding or "utf-8")
    except (UnicodeEncodeError, LookupError):
        return False
    return True
