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
``survived``, ``error <code>`` (the tests could not be collected: no kill), ``no tests`` (no
selected test reaches the function) or ``wording`` (not run: it changes only the words of a
text with a space in it; see :func:`wording`).
"""

from __future__ import annotations

import argparse
import ast
import contextlib
import fnmatch
import io
import json
import os
import random
import signal
import sys
import time
from collections import Counter
from pathlib import Path

#: mutmut's folder; ``KMF_MUTANTS`` names a copy of it (judging survivors with new tests
#: while a run goes on in the original)
MUTANTS = Path(os.environ.get("KMF_MUTANTS", Path(__file__).resolve().parent.parent / "mutants"))
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
    "tables": ("tests/test_tables.py", "tests/test_table_rules.py", "tests/test_hand_worked.py"),
    "decompose": ("tests/test_hand_worked.py", "tests/test_methods.py"),
    "forecast": (
        "tests/test_hand_worked.py",
        "tests/test_forecast_inputs.py",
        "tests/test_time.py",
    ),
    "timeline": ("tests/test_time.py", "tests/test_oracle_time.py"),
    "accuracy": ("tests/test_tables.py", "tests/test_time.py"),
    "kommune_tables": ("tests/test_kommune.py",),
    "population": ("tests/test_population.py",),
    "checks": ("tests/test_implausible.py", "tests/test_part_of_country.py"),
}


def _functions(path: Path) -> dict[str, list[str]]:
    """The body lines of every mutant (and original) function in a file mutmut wrote."""
    lines = path.read_text().splitlines()
    functions: dict[str, list[str]] = {}
    for node in ast.parse("\n".join(lines)).body:
        inner = node.body if isinstance(node, ast.ClassDef) else [node]
        for f in inner:
            if isinstance(f, ast.FunctionDef) and "__mutmut_" in f.name:
                functions[f.name] = lines[f.lineno : f.end_lineno]
    return functions


def show(name: str) -> str:
    """The mutant as a diff against the original function (``--show``)."""
    import difflib

    module, _, function = name.rpartition(".")
    path = MUTANTS.joinpath(*module.split(".")).with_suffix(".py")
    functions = _functions(path)
    original = functions[function.rsplit("__mutmut_", 1)[0] + "__mutmut_orig"]
    diff = difflib.unified_diff(original, functions[function], "original", name, lineterm="", n=2)
    return "\n".join(diff)


def wording(names: list[str]) -> set[str]:
    """The mutants that change only the wording of a text with a space in it (a message
    to the user, a label): mutmut's "XX…XX" and upper- or lower-case versions of a string
    literal. Tests check what a message names (file, column, values, rows), not each word."""
    found: set[str] = set()
    for path in sorted((MUTANTS / "kmf").rglob("*.py")):
        functions = _functions(path)
        module = ".".join(path.relative_to(MUTANTS).with_suffix("").parts)
        for name, body in functions.items():
            original = functions.get(name.rsplit("__mutmut_", 1)[0] + "__mutmut_orig")
            if original is None or name.endswith("__mutmut_orig"):
                continue
            changed = [(a, b) for a, b in zip(original, body, strict=False) if a != b]
            if len(changed) != 1:
                continue
            before, after = changed[0]
            words = _changed_literal(before, after)
            if words is not None and " " in words:
                found.add(f"{module}.{name}")
    return found & set(names)


def _changed_literal(before: str, after: str) -> str | None:
    """The string literal a string mutant changed (its original text), or None if the
    change is not one to a string literal's letters."""
    start = next((i for i, (a, b) in enumerate(zip(before, after, strict=False)) if a != b),
                 min(len(before), len(after)))  # fmt: skip
    if "XX" in after and "XX" not in before:
        start = max(start - 1, 0)
    elif before.lower() != after.lower():
        return None
    quote = max(before.rfind('"', 0, start + 1), before.rfind("'", 0, start + 1))
    if quote < 0:
        return None
    end = before.find(before[quote], quote + 1)
    return before[quote + 1 : end if end >= 0 else None]


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
    # a module's own file written after the stats run (not in them) is run too: it was
    # written for that module
    own = [f for f in OWN.get(module, ()) if f in reach or f not in per_file]
    others = sorted(reach - set(own), key=lambda f: (per_file.get(f, 1.0), f))
    chosen: list[str] = []
    spent = 0.0
    for file in own + others:
        if chosen and not wide and spent + per_file.get(file, 1.0) > BUDGET_S:
            continue
        chosen.append(file)
        spent += per_file.get(file, 1.0)
    return chosen


def run(patterns: list[str], worker: int, workers: int, mode: str = "", sample: int = 0) -> None:
    """``mode`` "": the first pass; "again": its survivors against the same files (after
    new tests); "wide": the survivors so far against every file reaching them (``sample``:
    only so many of them, drawn at random)."""
    os.chdir(MUTANTS)
    stats = json.loads(Path("mutmut-stats.json").read_text())
    # in a fixed random order: a run stopped early has tried a fair sample of the package
    names = mutant_names(patterns)
    random.Random(2026).shuffle(names)
    names = names[worker - 1 :: workers]
    out = Path(f"inprocess-{worker}.json")
    results: dict[str, str] = json.loads(out.read_text()) if out.exists() else {}
    if mode:  # a later pass over the survivors so far
        earlier = latest(("", "again") if mode == "again" else ("", "again", "wide"))
        names = [n for n in names if earlier.get(n) == "survived"]
        if sample:
            names = sorted(random.Random(7).sample(names, min(sample, len(names))))
        out = Path(f"inprocess-{mode}-{worker}.json")
        results = json.loads(out.read_text()) if out.exists() else {}
    wide = mode == "wide"

    def alarm(signum: int, frame: object) -> None:
        raise Timeout

    signal.signal(signal.SIGALRM, alarm)
    start = time.monotonic()
    skipped = wording(names)
    for i, name in enumerate(names, 1):
        if name in results:
            continue
        tests = chosen_tests(name, stats, wide)
        if name in skipped:
            results[name] = "wording"
        elif not tests:
            results[name] = "no tests"
        else:
            signal.alarm(LIMIT_S)
            try:
                code = exit_code(name, tests)
            except Timeout:
                code = -1
            finally:
                signal.alarm(0)
            # a test failed (1) or the mutant ran too long; any other code (tests that
            # cannot be collected) is no kill
            results[name] = {0: "survived", 1: "killed", -1: "killed"}.get(code, f"error {code}")
        out.write_text(json.dumps(results, indent=1))
        print(f"{i}/{len(names)} {name}: {results[name]} ({time.monotonic() - start:.0f} s)",
              flush=True)  # fmt: skip


JUDGED = Path(__file__).resolve().parent / "judged"


def judged() -> dict[str, tuple[str, str]]:
    """The survivors judged one by one, from ``mutation/judged/*.tsv``: mutant → (verdict,
    detail); verdict ``killed`` (detail: the pytest node ids of the tests that kill it) or
    ``equivalent`` (detail: why no test can tell it from the code)."""
    found: dict[str, tuple[str, str]] = {}
    for path in sorted(JUDGED.glob("*.tsv")):
        for number, line in enumerate(path.read_text(encoding="utf-8").splitlines(), 1):
            if not line.strip() or line.startswith("#"):
                continue
            name, verdict, detail = [*line.split("\t"), "", ""][:3]
            if verdict not in ("killed", "equivalent") or not detail.strip():
                raise SystemExit(f"{path.name}:{number}: want 'mutant<TAB>killed|equivalent"
                                 f"<TAB>tests or reason', got {line!r}")  # fmt: skip
            found[name.strip()] = (verdict, detail.strip())
    return found


def node_ids(detail: str) -> list[str]:
    """The pytest node ids of a ``killed`` line, space-separated; a parametrized id may hold
    spaces inside its brackets ("test_x[5-101, 147]")."""
    ids: list[str] = []
    for word in detail.split():
        if ids and ids[-1].count("[") > ids[-1].count("]"):
            ids[-1] += " " + word
        else:
            ids.append(word)
    return ids


def try_mutant(name: str, tests: list[str]) -> str:
    """Run ``tests`` (pytest node ids) against the mutant ``name``: killed (a test failed),
    survived, or an error (a node id that does not exist, a test that cannot be collected:
    pytest's other exit codes), which is not a kill."""
    code = exit_code(name, tests)
    return {0: "survived", 1: "killed"}.get(code, f"error (pytest's exit code {code})")


def exit_code(name: str, tests: list[str]) -> int:
    """pytest's exit code for ``tests`` run (quietly, in ``mutants/``) against the mutant
    ``name`` ("": none), stopping at the first failure."""
    os.chdir(MUTANTS)
    if os.getcwd() not in sys.path:
        sys.path.insert(0, os.getcwd())
    import pytest

    os.environ["MUTANT_UNDER_TEST"] = name
    try:
        with contextlib.redirect_stdout(io.StringIO()), contextlib.redirect_stderr(io.StringIO()):
            return int(pytest.main(["-x", "-q", "-p", "no:cacheprovider", "-n", "0", *tests]))
    finally:
        os.environ.pop("MUTANT_UNDER_TEST", None)


def check(patterns: list[str], worker: int = 1, workers: int = 1) -> None:
    """``--check``: every survivor judged ``killed`` is run against the tests named for it,
    and the result is kept (``inprocess-judged-<worker>.json``); equivalents are kept as such.
    The unmutated code must pass those tests first."""
    out = MUTANTS / f"inprocess-judged-{worker}.json"
    results: dict[str, str] = {}
    every = judged()
    mine = sorted(n for n in every if any(fnmatch.fnmatch(n, p) for p in patterns))
    verdicts = {n: every[n] for n in mine[worker - 1 :: workers]}
    tests = sorted({t for verdict, detail in verdicts.values() if verdict == "killed"
                    for t in node_ids(detail)})  # fmt: skip
    if tests and try_mutant("", tests) != "survived":
        raise SystemExit("the tests named in mutation/judged fail without a mutant")
    for i, (name, (verdict, detail)) in enumerate(sorted(verdicts.items()), 1):
        status = "equivalent" if verdict == "equivalent" else try_mutant(name, node_ids(detail))
        if verdict == "killed" and status != "killed":
            print(f"NOT KILLED by the tests named: {name}: {detail}", flush=True)
        results[name] = status
        out.write_text(json.dumps(results, indent=1))
        print(f"{i}/{len(verdicts)} {name}: {status}", flush=True)


def latest(modes: tuple[str, ...] = ("", "again", "wide", "judged")) -> dict[str, str]:
    """Each mutant's status from the latest of the passes ``modes`` that ran it."""
    results: dict[str, str] = {}
    for mode in modes:
        glob = f"inprocess-{mode}-[0-9]*.json" if mode else "inprocess-[0-9]*.json"
        for path in sorted(MUTANTS.glob(glob)):
            results.update(json.loads(path.read_text()))
    return results


def report(patterns: list[str]) -> None:
    results = latest()
    names = mutant_names(patterns)
    done = {n: results[n] for n in names if n in results}
    by_module: dict[str, Counter[str]] = {}
    for name, status in done.items():
        module = name.rsplit(".", 1)[0]
        by_module.setdefault(module, Counter())[status] += 1
    for module, counts in sorted(by_module.items()):
        total = sum(counts.values())
        print(f"{module:32} {total:5} mutants, {counts['killed']:5} killed "
              f"({100 * counts['killed'] / total:.1f} %), {counts['survived']:4} survived, "
              f"{counts['no tests']:4} without tests, {counts['wording']:4} wording, "
          f"{counts['equivalent']:4} equivalent")  # fmt: skip
    counts = Counter(done.values())
    total = sum(counts.values())
    print(f"{'all':32} {total:5} of {len(names)} run, {counts['killed']} killed "
          f"({100 * counts['killed'] / max(total, 1):.1f} %), {counts['survived']} survived, "
          f"{counts['no tests']} without tests, {counts['wording']} wording not run")  # fmt: skip
    run_ = total - counts["wording"]
    print(f"{'all but wording':32} {counts['killed']} of {run_} killed "
          f"({100 * counts['killed'] / max(run_, 1):.1f} %), "
          f"{counts['equivalent']} equivalent, {counts['survived']} survived unjudged")  # fmt: skip
    killable = run_ - counts["equivalent"]
    print(f"{'all but wording and equivalent':32} {counts['killed']} of {killable} killed "
          f"({100 * counts['killed'] / max(killable, 1):.1f} %)")  # fmt: skip
    for name, status in sorted(done.items()):
        if status not in ("killed", "wording", "equivalent"):
            print(f"  {status}: {name}")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("patterns", nargs="+", help="mutant names (fnmatch), e.g. 'kmf.*'")
    parser.add_argument("--worker", default="1/1", help="this worker's share, e.g. 1/2")
    parser.add_argument("--report", action="store_true", help="only sum up the results")
    parser.add_argument("--again", action="store_true",
                        help="the survivors again, against the same files (new tests)")  # fmt: skip
    parser.add_argument("--wide", action="store_true",
                        help="the survivors again, against all files reaching them")  # fmt: skip
    parser.add_argument("--sample", type=int, default=0, help="with --wide: only N survivors")
    parser.add_argument("--show", action="store_true", help="the mutants as diffs")
    parser.add_argument("--try", dest="try_", metavar="TEST", nargs="+",
                        help="run these tests (pytest node ids) against the mutants")  # fmt: skip
    parser.add_argument("--check", action="store_true",
                        help="judged survivors (mutation/judged) against their tests")  # fmt: skip
    args = parser.parse_args()
    if args.report:
        report(args.patterns)
        return
    if args.show:
        for name in mutant_names(args.patterns):
            print(show(name), end="\n\n")
        return
    if args.try_:
        for name in mutant_names(args.patterns):
            print(f"{name}: {try_mutant(name, args.try_)}", flush=True)
        return
    worker, workers = (int(x) for x in args.worker.split("/"))
    if args.check:
        check(args.patterns, worker, workers)
        return
    mode = "wide" if args.wide else "again" if args.again else ""
    run(args.patterns, worker, workers, mode, args.sample)


if __name__ == "__main__":
    main()
