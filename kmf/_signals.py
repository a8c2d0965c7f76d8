"""Ctrl-C (SIGINT), Ctrl-Break (SIGBREAK, Windows) and SIGTERM in the ``kmf`` command:
clean up, say so, exit.

``install()`` runs before anything heavy is imported. On the first SIGINT or SIGTERM the
handler runs the registered cleanups (e.g. remove a staging folder, release a lock) and the
``atexit`` functions, prints one Danish line and ends the process at once with 128 + the
signal number (130, 143; 149 for Ctrl-Break). Further signals are ignored meanwhile.

On Windows a console sends SIGINT for Ctrl-C and SIGBREAK for Ctrl-Break (and when the
console window is closed); both are handled where the platform has them. SIGTERM cannot
reach a Windows process as a signal (``os.kill(pid, SIGTERM)`` there ends the process
outright), so its handler runs on POSIX only.

Why not raise an exception, as Python does for Ctrl-C? Because it can surface anywhere,
also inside code in C that calls back into Python: raised while matplotlib's compiled font
module was being imported, it came out as an ImportError with a traceback, and the process
crashed while shutting down. Exiting from the handler never passes through such code.

``held()`` guards a short critical section (moving finished files into place, removing
a staging folder): a signal that arrives inside it takes effect when the section ends. It
works with any handler, also Python's own in a notebook.

Only the standard library here, so this module loads before polars.
"""

from __future__ import annotations

import atexit
import contextlib
import os
import signal
import sys
import threading

TYPE_CHECKING = False  # without importing typing: every millisecond before install() counts
if TYPE_CHECKING:
    from collections.abc import Callable, Iterator
    from typing import Any, NoReturn

#: Ctrl-Break on Windows; ``None`` elsewhere
SIGBREAK: int | None = getattr(signal, "SIGBREAK", None)
SIGNALS = (signal.SIGINT, signal.SIGTERM, *((SIGBREAK,) if SIGBREAK is not None else ()))

_stopping: int | None = None  # the signal being handled; later ones are ignored
_finished = False  # the command is done: a late signal changes nothing
_describe: Callable[[], str] | None = None  # what a stop means for the user's files
_cleanups: list[Callable[[], None]] = []
_held_signals: list[int] | None = None


def install() -> None:
    """Handle SIGINT and SIGTERM the kmf way in this process (from the main thread)."""
    global _stopping, _finished, _describe
    _stopping, _finished, _describe = None, False, None
    _cleanups.clear()
    for signum in SIGNALS:
        signal.signal(signum, _handle)


def finish() -> None:
    """The command has ended (or is ending): ignore signals from now on. SIG_IGN rather than
    our handler, because Python puts back the default (end the process) for its own handlers
    while it shuts down."""
    global _finished
    _finished = True
    for signum in SIGNALS:
        signal.signal(signum, signal.SIG_IGN)


def on_stop(describe: Callable[[], str] | None) -> None:
    """Set what to tell the user about their files if the command is stopped now."""
    global _describe
    _describe = describe


@contextlib.contextmanager
def cleanup_on_stop(cleanup: Callable[[], None]) -> Iterator[None]:
    """Run ``cleanup`` if the command is stopped by a signal inside this block."""
    _cleanups.append(cleanup)
    try:
        yield
    finally:
        _cleanups.remove(cleanup)


def message(signum: int) -> str:
    """The one Danish line printed when a command is stopped by ``signum``."""
    if signum == signal.SIGINT:
        what = "Afbrudt."
    elif signum == SIGBREAK:
        what = "Afbrudt (Ctrl+Break)."
    else:
        what = "Stoppet (SIGTERM)."
    try:
        detail = _describe() if _describe is not None else ""
    except Exception:
        detail = ""
    return f"{what} {detail}".strip()


def _handle(signum: int, frame: object) -> None:
    global _stopping
    if _stopping is not None or _finished:
        return
    _stopping = signum
    _stop(signum)


def _stop(signum: int) -> NoReturn:
    for cleanup in reversed(_cleanups):
        with contextlib.suppress(Exception):
            cleanup()
    # what a normal exit does too, e.g. openpyxl removes its temporary files
    with contextlib.suppress(Exception):
        atexit._run_exitfuncs()
    # the original streams: rich may have swapped sys.stdout/sys.stderr for proxies
    for stream, text in ((sys.__stdout__, ""), (sys.__stderr__, message(signum) + "\n")):
        with contextlib.suppress(Exception):
            if stream is not None:
                stream.write(text)
                stream.flush()
    os._exit(128 + signum)


@contextlib.contextmanager
def held() -> Iterator[None]:
    """Delay SIGINT and SIGTERM until the block has ended (in the main thread; in another
    thread the block is not interrupted anyway: signals go to the main thread)."""
    global _held_signals
    if threading.current_thread() is not threading.main_thread():
        yield
        return
    outer, _held_signals = _held_signals, []
    saved: dict[int, Any] = {}
    try:
        for signum in SIGNALS:
            current = signal.getsignal(signum)
            if current is None or current == signal.SIG_IGN:
                continue  # not set from Python, or ignored anyway
            saved[signum] = current
            signal.signal(signum, _hold)
        yield
    finally:
        caught, _held_signals = _held_signals, outer
        for number, handler in saved.items():
            signal.signal(number, handler)
        for number in caught:
            # the restored handler runs now: kmf's cleans up and exits, Python's default
            # raises KeyboardInterrupt (or, for SIGTERM, ends the process)
            signal.raise_signal(number)


def _hold(signum: int, frame: object) -> None:
    if _held_signals is not None and signum not in _held_signals:
        _held_signals.append(signum)
