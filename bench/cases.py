"""The monthly cycle: reading only the cuts a command uses, and the cache of read cells.

    python -m bench.cases [--raekker 2000000] [--datoer 12] [--gentag 3] [--data MAPPE]

On ``kmf synth --datoer`` data (2 + 2 · datoer cuts, ``--raekker`` records each):

- dated folder: cold ``kmf run`` on all cuts against cold ``kmf run`` on a folder holding
  only the four cuts it uses (goal ≤ 1.25);
- warm rerun: ``kmf kommune 851`` right after ``kmf run`` on the same, unchanged files,
  against a cold ``kmf kommune 851`` (goal ≤ 0.25), on the dated folder and on the four cuts;
- the next kommune: ``kmf kommune 851`` right after ``kmf kommune 751`` (one kommune after
  another), against a cold ``kmf kommune 851``;
- one new month: ``kmf spor`` after the latest month's file is added to a folder that the
  cache has seen, against a cold ``kmf spor`` (goal ≤ 0.5).

Cold means a new, empty cache folder for the run (KMF_CACHE). The cases take turns round by
round, each task in a fresh process after the files are read into the operating system's
cache; medians, ratios, peak memory and the load average go to bench/results/cases.json.
"""

from __future__ import annotations

import argparse
import json
import os
import shutil
import statistics
import subprocess
import sys
import tempfile
from collections.abc import Callable
from datetime import UTC, datetime
from pathlib import Path

from bench.__main__ import machine, measure

HERE = Path(__file__).parent


def _link(source: Path, target: Path) -> None:
    target.parent.mkdir(parents=True, exist_ok=True)
    try:
        os.link(source, target)
    except OSError:
        shutil.copy2(source, target)


def folders(base: Path) -> tuple[dict[str, Path], list[Path]]:
    """The dated folder, a folder with only the four cuts kmf run uses (its default date:
    the latest), and the dated folder without its latest month's file (for adding it)."""
    dated = base / "alle"
    names = sorted(p.name for p in (dated / "aktivitet").glob("*.parquet"))
    cut = {n: n.rsplit("_", 1)[0] for n in names}  # the file name less its chunk number
    year = max(int(n.split("_")[0]) for n in names if "_foreloebig_" in n)
    latest = max(c for c in cut.values() if c.startswith(f"{year}_foreloebig_"))
    day = latest.split("_")[3]
    before = f"{year - 1}_foreloebig_{year - 1}_{year - 1}-{day[5:]}"
    four = [n for n in names if "_endelig_" in cut[n] or cut[n] in (latest, before)]
    month = [n for n in names if cut[n] == latest]
    made = {"alle": dated, "fire": base / "fire", "uden_maaned": base / "uden_maaned"}
    for key, keep in (("fire", four), ("uden_maaned", [n for n in names if n not in month])):
        if not (made[key] / "budget.csv").is_file():
            for n in keep:
                _link(dated / "aktivitet" / n, made[key] / "aktivitet" / n)
            shutil.copy2(dated / "budget.csv", made[key] / "budget.csv")
    return made, [dated / "aktivitet" / n for n in month]


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--raekker", type=int, default=2_000_000, help="records per cut")
    parser.add_argument("--datoer", type=int, default=12, help="forecast dates (1-12)")
    parser.add_argument("--gentag", type=int, default=3, help="timed rounds")
    parser.add_argument("--data", type=Path, default=None, help="folder for the data")
    args = parser.parse_args()
    base = args.data or Path(tempfile.gettempdir()) / f"kmf-cases-r{args.raekker}"
    if not (base / "alle" / "budget.csv").is_file():
        subprocess.run(
            [sys.executable, "-m", "kmf.cli", "synth", "--raekker", str(args.raekker),
             "--datoer", str(args.datoer), "--out", str(base / "alle"), "--seed", "1",
             "--force"],
            check=True,
        )  # fmt: skip
    f, new_files = folders(base)
    added = [f["uden_maaned"] / "aktivitet" / p.name for p in new_files]

    def warm(before: str, task: str, folder: Path) -> Callable[[], tuple[float, float]]:
        def go() -> tuple[float, float]:
            with tempfile.TemporaryDirectory(prefix="kmf-cache-") as cache:
                measure(before, folder, Path(cache))  # fills the cache, not timed
                return measure(task, folder, Path(cache))

        return go

    def new_month() -> tuple[float, float]:
        for p in added:
            p.unlink(missing_ok=True)
        with tempfile.TemporaryDirectory(prefix="kmf-cache-") as cache:
            measure("kmf_spor", f["uden_maaned"], Path(cache))  # last month's spor
            for source, target in zip(new_files, added, strict=True):
                _link(source, target)
            try:
                return measure("kmf_spor", f["uden_maaned"], Path(cache))
            finally:
                for p in added:
                    p.unlink()

    tasks: dict[str, Callable[[], tuple[float, float]]] = {
        "run_alle_kold": lambda: measure("kmf", f["alle"]),
        "run_fire_kold": lambda: measure("kmf", f["fire"]),
        "kommune_alle_kold": lambda: measure("kmf_kommune", f["alle"]),
        "kommune_alle_efter_run": warm("kmf", "kmf_kommune", f["alle"]),
        "kommune_fire_kold": lambda: measure("kmf_kommune", f["fire"]),
        "kommune_fire_efter_run": warm("kmf", "kmf_kommune", f["fire"]),
        # the next kommune's report after one kommune's (run, then one kommune after another)
        "kommune_alle_efter_kommune": warm("kmf_kommune_751", "kmf_kommune", f["alle"]),
        "spor_alle_kold": lambda: measure("kmf_spor", f["alle"]),
        "spor_ny_maaned": new_month,
    }
    names = list(tasks)
    timed: dict[str, list[tuple[float, float]]] = {n: [] for n in names}
    loads = [os.getloadavg()[0]]
    for n in names:
        tasks[n]()  # warm-up
    for turn in range(args.gentag):
        for n in names[turn % len(names) :] + names[: turn % len(names)]:
            timed[n].append(tasks[n]())
            print(f"{n}: {timed[n][-1][0]:.2f} s", flush=True)
        loads.append(os.getloadavg()[0])
    median = {n: statistics.median(s for s, _ in runs) for n, runs in timed.items()}
    ratios = {
        "run_alle/run_fire (mål ≤ 1,25)": median["run_alle_kold"] / median["run_fire_kold"],
        "kommune efter run/kold, alle (mål ≤ 0,25)": median["kommune_alle_efter_run"]
        / median["kommune_alle_kold"],
        "kommune efter run/kold, fire (mål ≤ 0,25)": median["kommune_fire_efter_run"]
        / median["kommune_fire_kold"],
        "spor ny måned/kold (mål ≤ 0,5)": median["spor_ny_maaned"] / median["spor_alle_kold"],
        "næste kommune efter en kommune/kold, alle": median["kommune_alle_efter_kommune"]
        / median["kommune_alle_kold"],
    }
    result = {
        "tidspunkt": datetime.now(UTC).isoformat(timespec="seconds"),
        "maskine": machine(),
        "belastning_1min": loads,
        "raekker_pr_opgoerelse": args.raekker,
        "opgoerelser": 2 + 2 * args.datoer,
        "sekunder": {n: [round(s, 2) for s, _ in runs] for n, runs in timed.items()},
        "median_sekunder": median,
        "peak_rss_mib": {n: max(m for _, m in runs) for n, runs in timed.items()},
        "forhold": ratios,
    }
    (HERE / "results").mkdir(exist_ok=True)
    (HERE / "results" / "cases.json").write_text(json.dumps(result, indent=2) + "\n")
    print(json.dumps({k: result[k] for k in ("median_sekunder", "forhold")}, indent=2))


if __name__ == "__main__":
    main()
