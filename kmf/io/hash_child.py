"""Hash files in a process of its own, at the lowest priority: the paths come as a JSON list
on stdin, and for each file a line ``index sha256 size mtime_ns inode`` (or ``index -`` where the
file cannot be read) goes to stdout as soon as it is hashed.

A process rather than threads: a thread that hashes gives up Python's global lock at every
chunk and must win it back from the threads that sum the records, and at a low priority it
can be put aside while it holds the lock. Here it needs no lock of the reading process.

Run by path (``python -I hash_child.py``), not as a module: only the standard library is
imported, so the process starts in a few hundredths of a second. Ctrl-C (and Ctrl-Break) are
the reading process's to handle; this one ends when that one closes the pipe or ends it.
"""

from __future__ import annotations

import contextlib
import hashlib
import json
import os
import signal
import sys
import threading

#: read and hashed at a time: small enough to stay in the CPU's cache between the two
CHUNK = 1 << 20
#: files hashed at once: the hashing gives up Python's lock while it works on a chunk, so
#: two threads use two cores where the reading process leaves them idle
THREADS = min(os.cpu_count() or 1, 2)


#: chunks between two looks at whether the reading process is still there
LOOK_EVERY = 64


def sha256(path: str, buffer: bytearray, parent: int) -> str | None:
    """The file's sha256 and the size, modification time (ns) and file number of the file
    it is of (as the open file has them), or ``None`` if it cannot be read. Ends this
    process if the process that started it has gone (POSIX: another parent)."""
    digest = hashlib.sha256()
    view = memoryview(buffer)
    try:
        with open(path, "rb", buffering=0) as fh:
            chunks = 0
            while n := fh.readinto(buffer):
                digest.update(view[:n])
                chunks += 1
                if chunks % LOOK_EVERY == 0 and os.getppid() != parent:
                    os._exit(0)
            info = os.fstat(fh.fileno())
    except OSError:
        return None
    return f"{digest.hexdigest()} {info.st_size} {info.st_mtime_ns} {info.st_ino}"


def main() -> None:
    for name in ("SIGINT", "SIGBREAK"):
        if hasattr(signal, name):
            signal.signal(getattr(signal, name), signal.SIG_IGN)
    if hasattr(os, "nice"):
        with contextlib.suppress(OSError):
            os.nice(19)
    parent = os.getppid()
    paths = json.loads(sys.stdin.buffer.read())
    lock = threading.Lock()
    todo = iter(enumerate(paths))

    def work() -> None:
        buffer = bytearray(CHUNK)
        while True:
            with lock:
                index, path = next(todo, (-1, ""))
            if index < 0:
                return
            line = f"{index} {sha256(path, buffer, parent) or '-'}\n"
            with lock:
                try:
                    sys.stdout.write(line)
                    sys.stdout.flush()
                except OSError:  # the reading process has gone: nobody wants the rest
                    os._exit(0)

    workers = [threading.Thread(target=work) for _ in range(THREADS)]
    for worker in workers:
        worker.start()
    for worker in workers:
        worker.join()


if __name__ == "__main__":
    main()
