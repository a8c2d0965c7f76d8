"""Run mutmut's mutants of chosen functions in one process, after ``mutmut run`` has made them.

mutmut 3 forks a fresh process for every mutant; on a loaded 2-core machine a process spends
~30 s importing polars and the tests before the first test runs. The mutants it writes to
``mutants/`` choose their variant at call time from ``MUTANT_UNDER_TEST``, so here the fast
tests run once per mutant in this one process (modules imported once).

    python mutation/inprocess.py 'kmf.compute.tables.x_table_2_*' ...

Writes ``mutants/inprocess.json``: {mutant: "killed" | "survived"} and prints the totals.
"""

from __future__ import annotations

import contextlib
import fnmatch
import io
import json
import os
import sys
import time
from pathlib import Path

import pytest

TESTS = ["tests/test_tables.py", "tests/test_hand_worked.py"]


def main(patterns: list[str]) -> None:
    os.chdir(Path(__file__).resolve().parent.parent / "mutants")
    sys.path.insert(0, os.getcwd())
    names = sorted(
        name
        for meta in Path("kmf").rglob("*.meta")
        for name in json.loads(meta.read_text())["exit_code_by_key"]
        if any(fnmatch.fnmatch(name, p) for p in patterns)
    )
    out_path = Path(os.environ.get("MUTATION_OUT", "inprocess.json"))
    results = json.loads(out_path.read_text()) if out_path.exists() else {}
    start = time.monotonic()
    order = list(enumerate(names, 1))
    if os.environ.get("MUTATION_REVERSED"):  # a second worker, from the other end
        order.reverse()
    for i, name in order:
        if name in results:
            continue
        other = Path(os.environ.get("MUTATION_OTHER", "-"))
        if other.is_file() and name in json.loads(other.read_text() or "{}"):
            break  # the other worker has come this far
        os.environ["MUTANT_UNDER_TEST"] = name
        with contextlib.redirect_stdout(io.StringIO()), contextlib.redirect_stderr(io.StringIO()):
            code = pytest.main(["-x", "-q", "-p", "no:cacheprovider", *TESTS])
        results[name] = "survived" if code == 0 else "killed"
        out_path.write_text(json.dumps(results, indent=1))
        print(f"{i}/{len(names)} {name}: {results[name]}", flush=True)
    os.environ.pop("MUTANT_UNDER_TEST", None)
    chosen = {n: results[n] for n in names}
    killed = sum(v == "killed" for v in chosen.values())
    print(f"{len(chosen)} mutants, {killed} killed, {len(chosen) - killed} survived, "
          f"{time.monotonic() - start:.0f} s")


if __name__ == "__main__":
    main(sys.argv[1:])
