"""Run mutmut's mutants in one process per worker, each against the test files that reach it.

mutmut 3 forks a fresh process for every mutant, and a process spends seconds importing
polars and the tests before the first test runs (a fork of a process that has run polars
hangs: its thread pool does not survive the fork). The mutants mutmut writes to
``mutants/`` choose their variant at call time from ``MUTANT_UNDER_TEST``, so here each worker
imports everything once and, per mutant, runs with pytest the tests that mutmut's stats run
saw reach the mutated function (``mutants/mutmut-stats.json``), whole files, the hand-worked
ones first, stopping at the first failure, up to a budget of seconds of tests (by the stats
run's durations).

    mutmut run 'nothing*'            # makes the mutants and the stats (README, "Udvikling")
    python mutation/inprocess.py --worker 1/2 'kmf.compute.*' &
    python mutation/inprocess.py --worker 2/2 'kmf.compute.*'
    python mutation/inprocess.py --wide --worker 1/1 'kmf.compute.*'   # survivors again, all files
    python mutation/inprocess.py --report 'kmf.compute.*'

Results go to ``mutants/inprocess-<worker>.json`` ({mutant: status}); a rerun goes on where
it stopped. A status is ``killed`` (a test failed, or the mutant ran past the time limit),
``survived``, or ``no tests`` (no selected test reaches the function).
"""

from __future__ import annotations

import argparse
import contextlib
import fnmatch
import io
import json
import os
import signal
import sys
import time
from collections import Counter
from pathlib import Path

MUTANTS = Path(__file__).resolve().parent.parent / "mutants"
#: seconds of tests (as the stats run timed them) a mutant is run against at most
BUDGET_S = 4.0
#: a mutant running longer than this (a loop that never ends) counts as killed
LIMIT_S = 120


class Timeout(Exception):
    pass


def mutant_names(patterns: list[str]) -> list[str]:
    return sorted(
        name
        for meta in (MUTANTS / "kmf").rglob("*.meta")
        for name in json.loads(meta.read_text())["exit_code_by_key"]
        if any(fnmatch.fnmatch(name, p) for p in patterns)
    )


#: each module's own test files (run first, whatever they cost), then what reaches it
OWN = {
    "tables": ("tests/test_tables.py", "tests/test_hand_worked.py"),
    "decompose": ("tests/test_hand_worked.py", "tests/test_methods.py"),
    "forecast": ("tests/test_hand_worked.py", "tests/test_time.py"),
    "timeline": ("tests/test_time.py", "tests/test_oracle_time.py"),
    "accuracy": ("tests/test_tables.py", "tests/test_time.py"),
    "kommune_tables": ("tests/test_kommune.py",),
    "population": ("tests/test_population.py",),
    "checks": ("tests/test_implausible.py", "tests/test_part_of_country.py"),
}


def chosen_tests(name: str, stats: dict, wide: bool = False) -> list[str]:
    """The test files that reach the mutant's function, whole (a module's fixture runs the
    computation once for all its tests, and mutmut's stats name only the test during whose
    set-up it ran): the module's own files first, then the quickest of the others, within
    BUDGET_S seconds of tests by the stats run's durations (at least one file); with
    ``wide``, all."""
    function = name.partition("__mutmut_")[0]
    module = function.partition(".x")[0].rpartition(".")[2]
    durations = stats["duration_by_test"]
    per_file: dict[str, float] = {}
    for test, seconds in durations.items():
        file = test.partition("::")[0]
        per_file[file] = per_file.get(file, 0.0) + seconds
    reach = {
        t.partition("::")[0] for t in stats["tests_by_mangled_function_name"].get(function, [])
    }
    own = [f for f in OWN.get(module, ()) if f in reach]
    others = sorted(reach - set(own), key=lambda f: (per_file.get(f, 1.0), f))
    chosen: list[str] = []
    spent = 0.0
    for file in own + others:
        if chosen and not wide and spent + per_file.get(file, 1.0) > BUDGET_S:
            continue
        chosen.append(file)
        spent += per_file.get(file, 1.0)
    return chosen


def run(patterns: list[str], worker: int, workers: int, wide: bool = False) -> None:
    os.chdir(MUTANTS)
    sys.path.insert(0, os.getcwd())
    import pytest

    stats = json.loads(Path("mutmut-stats.json").read_text())
    names = mutant_names(patterns)[worker - 1 :: workers]
    out = Path(f"inprocess-{worker}.json")
    results: dict[str, str] = json.loads(out.read_text()) if out.exists() else {}
    if wide:  # a second pass: the survivors of the first against every file reaching them
        earlier = {}
        for path in Path().glob("inprocess-*.json"):
            earlier.update(json.loads(path.read_text()))
        names = [n for n in names if earlier.get(n) == "survived"]
        out = Path(f"inprocess-wide-{worker}.json")
        results = json.loads(out.read_text()) if out.exists() else {}

    def alarm(signum: int, frame: object) -> None:
        raise Timeout

    signal.signal(signal.SIGALRM, alarm)
    start = time.monotonic()
    for i, name in enumerate(names, 1):
        if name in results:
            continue
        tests = chosen_tests(name, stats, wide)
        if not tests:
            results[name] = "no tests"
        else:
            os.environ["MUTANT_UNDER_TEST"] = name
            signal.alarm(LIMIT_S)
            try:
                with contextlib.redirect_stdout(io.StringIO()), \
                        contextlib.redirect_stderr(io.StringIO()):  # fmt: skip
                    code = pytest.main(
                        ["-x", "-q", "-p", "no:cacheprovider", "-n", "0", *tests]
                    )
            except Timeout:
                code = -1
            finally:
                signal.alarm(0)
                os.environ.pop("MUTANT_UNDER_TEST", None)
            results[name] = "survived" if code == 0 else "killed"
        out.write_text(json.dumps(results, indent=1))
        print(f"{i}/{len(names)} {name}: {results[name]} ({time.monotonic() - start:.0f} s)",
              flush=True)  # fmt: skip


def report(patterns: list[str]) -> None:
    results: dict[str, str] = {}
    for path in sorted(MUTANTS.glob("inprocess-[0-9]*.json")):
        results.update(json.loads(path.read_text()))
    for path in sorted(MUTANTS.glob("inprocess-wide-*.json")):  # the second pass decides
        results.update(json.loads(path.read_text()))
    names = mutant_names(patterns)
    done = {n: results[n] for n in names if n in results}
    by_module: dict[str, Counter[str]] = {}
    for name, status in done.items():
        module = name.partition(".x_")[0]
        by_module.setdefault(module, Counter())[status] += 1
    for module, counts in sorted(by_module.items()):
        total = sum(counts.values())
        print(f"{module:32} {total:5} mutants, {counts['killed']:5} killed "
              f"({100 * counts['killed'] / total:.1f} %), {counts['survived']:4} survived, "
              f"{counts['no tests']:4} without tests")  # fmt: skip
    counts = Counter(done.values())
    total = sum(counts.values())
    print(f"{'all':32} {total:5} of {len(names)} run, {counts['killed']} killed "
          f"({100 * counts['killed'] / max(total, 1):.1f} %), {counts['survived']} survived, "
          f"{counts['no tests']} without tests")  # fmt: skip
    for name, status in sorted(done.items()):
        if status != "killed":
            print(f"  {status}: {name}")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("patterns", nargs="+", help="mutant names (fnmatch), e.g. 'kmf.*'")
    parser.add_argument("--worker", default="1/1", help="this worker's share, e.g. 1/2")
    parser.add_argument("--report", action="store_true", help="only sum up the results")
    parser.add_argument("--wide", action="store_true",
                        help="the survivors again, against all files reaching them")  # fmt: skip
    args = parser.parse_args()
    if args.report:
        report(args.patterns)
        return
    worker, workers = (int(x) for x in args.worker.split("/"))
    run(args.patterns, worker, workers, args.wide)


if __name__ == "__main__":
    main()
