"""Benchmark kmf against DuckDB, pandas and the pyarrow floor on the same generated files.

    python -m bench [--raekker 1000000,10000000] [--gentag 3]
    python -m bench --start          # only the start-up case: kmf --help
    python -m bench --eksempel [--gentag 5]   # only the everyday run: kmf run on the sample

``--eksempel`` times ``kmf run`` on the bundled sample with every output (tables, workbook,
figures and waterfalls), each run a fresh process as the console script starts it, after
one warm-up; the median wall time is held against the target of 1.5 s and written with the
CPU time (load-independent) to bench/results/eksempel.json.


For each size: ``kmf synth`` makes the data once (kept in bench/data/), then every task runs
once as a warm-up and ``--gentag`` times more, each in a fresh process and each after the
input files have been read into the operating system's cache. The timed runs take turns
(kmf, DuckDB, pandas, floor; then DuckDB, pandas, floor, kmf; …), so that a machine that is
slower for a while slows every task alike and no task always follows the same one. The
median wall time and the largest peak RSS are reported with the ratios kmf/DuckDB,
kmf/pandas and kmf/floor, and written to bench/results/latest.json.

The start-up case times ``kmf --help`` as a user types it (the console script, in a fresh
process each time): one warm-up, then five runs; the median is held against START_TARGET_S.
With ``--start`` only this case runs, written to bench/results/start.json.
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import resource
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
from datetime import UTC, datetime
from pathlib import Path

HERE = Path(__file__).parent
TASKS = ("kmf", "duckdb", "pandas", "floor")
START_RUNS = 5
START_TARGET_S = 0.3
#: median wall time of ``kmf run`` on the sample, seconds
SAMPLE_TARGET_S = 1.5


def dataset(rows: int) -> Path:
    folder = HERE / "data" / f"r{rows}"
    if not (folder / "budget.csv").is_file():
        subprocess.run(
            [sys.executable, "-m", "kmf.cli", "synth", "--raekker", str(rows), "--out",
             str(folder), "--seed", "1", "--force"],
            check=True,
        )  # fmt: skip
    return folder


def warm_cache(folder: Path) -> None:
    """Read every input file once (not timed), so that each task starts with the files in
    the operating system's cache — the floor's 14 GiB at 4·10⁸ records pushes them out."""
    for path in sorted(folder.rglob("*")):
        if path.is_file():
            with path.open("rb") as fh:
                while fh.read(1 << 23):
                    pass


def measure(task: str, folder: Path, cache: Path | None = None) -> tuple[float, float]:
    """One task in a fresh process: (wall seconds, peak MiB). kmf keeps its cache of read
    cells in ``cache``; None: a new, empty one (a cold run)."""
    warm_cache(folder)
    with tempfile.TemporaryDirectory(prefix="kmf-cache-") as fresh:
        env = {**os.environ, "KMF_CACHE": str(cache or fresh)}
        start = time.perf_counter()
        done = subprocess.run(
            [sys.executable, "-m", "bench.worker", task, str(folder)],
            capture_output=True, text=True, check=True, cwd=HERE.parent, env=env,
        )  # fmt: skip
        seconds = time.perf_counter() - start
    return seconds, json.loads(done.stdout.strip().splitlines()[-1])["peak_rss_mib"]


def take_turns(tasks: list[str], folder: Path, rounds: int) -> dict[str, list[tuple[float, float]]]:
    """Each task once as a warm-up, then ``rounds`` timed rounds of all of them, each round
    starting one task later, so that no task always follows the same one: (wall seconds,
    peak MiB) per run and task."""
    for task in tasks:
        measure(task, folder)  # warm-up
    timed: dict[str, list[tuple[float, float]]] = {task: [] for task in tasks}
    for turn in range(rounds):
        for task in tasks[turn % len(tasks) :] + tasks[: turn % len(tasks)]:
            timed[task].append(measure(task, folder))
    return timed


def kmf_command() -> list[str]:
    """The ``kmf`` console script of this environment, else ``python -m kmf``."""
    script = Path(sys.executable).with_name("kmf")
    return [str(script)] if script.is_file() else [sys.executable, "-m", "kmf"]


def startup(runs: int = START_RUNS) -> dict[str, object]:
    """Time ``kmf --help`` in a fresh process: one warm-up, then ``runs`` timed runs."""
    command = [*kmf_command(), "--help"]
    times = []
    for turn in range(runs + 1):
        start = time.perf_counter()
        subprocess.run(command, capture_output=True, check=True, cwd=HERE.parent)
        if turn:  # the first run is the warm-up
            times.append(time.perf_counter() - start)
    median = statistics.median(times)
    print(f"kmf --help: median {median:.3f} s of {runs} (target {START_TARGET_S} s), "
          f"runs {', '.join(f'{t:.3f}' for t in times)}", flush=True)  # fmt: skip
    return {"command": "kmf --help", "median_s": median, "runs_s": [round(t, 3) for t in times],
            "target_s": START_TARGET_S, "within_target": median <= START_TARGET_S}  # fmt: skip


def machine() -> dict[str, object]:
    return {
        "cpus": os.cpu_count(),
        "memory_gib": round(os.sysconf("SC_PAGE_SIZE") * os.sysconf("SC_PHYS_PAGES") / 2**30, 1),
        "python": platform.python_version(),
        "platform": platform.platform(),
    }


def sample_run(out: Path) -> tuple[float, float]:
    """One ``kmf run`` on the bundled sample into ``out``: (wall, CPU) seconds."""
    command = kmf_command()
    before = resource.getrusage(resource.RUSAGE_CHILDREN)
    start = time.perf_counter()
    subprocess.run([*command, "run", "--out", str(out), "--force"], check=True,
                   capture_output=True, cwd=HERE.parent)  # fmt: skip
    seconds = time.perf_counter() - start
    after = resource.getrusage(resource.RUSAGE_CHILDREN)
    cpu = after.ru_utime + after.ru_stime - before.ru_utime - before.ru_stime
    return seconds, cpu


def bench_sample(repeats: int) -> dict[str, object]:
    """The everyday run: median of ``repeats`` runs after one warm-up."""
    out = HERE / "data" / "eksempel-ud"
    try:
        sample_run(out)  # warm-up: the files in the cache, matplotlib's font cache built
        runs = [sample_run(out) for _ in range(max(repeats, 3))]
    finally:
        shutil.rmtree(out, ignore_errors=True)
    wall = statistics.median(s for s, _ in runs)
    cpu = statistics.median(c for _, c in runs)
    walls = [round(s, 2) for s, _ in runs]
    print(f"kmf run (eksempel): median {wall:.2f} s wall, {cpu:.2f} s CPU "
          f"(mål {SAMPLE_TARGET_S} s); runs {walls}", flush=True)  # fmt: skip
    return {"median_s": wall, "median_cpu_s": cpu, "target_s": SAMPLE_TARGET_S,
            "runs_s": [round(s, 3) for s, _ in runs], "cpu_s": [round(c, 3) for _, c in runs],
            "load_average": os.getloadavg()[0]}  # fmt: skip


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--raekker", default="1000000,10000000",
                        help="records per cut, comma-separated (four cuts each)")  # fmt: skip
    parser.add_argument("--gentag", type=int, default=3, help="timed runs per task (≥ 3)")
    parser.add_argument("--opgaver", default=",".join(TASKS), help="tasks to run")
    parser.add_argument("--data", type=Path, default=None,
                        help="an existing dataset folder instead of generated ones")  # fmt: skip
    parser.add_argument("--start", action="store_true", help="only time kmf --help")
    parser.add_argument("--eksempel", action="store_true",
                        help="only time kmf run on the sample (default 5 runs)")  # fmt: skip
    args = parser.parse_args()
    if args.eksempel:
        report = {"when": datetime.now(UTC).isoformat(timespec="seconds"), "machine": machine(),
                  "eksempel": bench_sample(args.gentag if args.gentag != 3 else 5)}  # fmt: skip
        out = HERE / "results" / "eksempel.json"
        out.write_text(json.dumps(report, indent=2) + "\n", encoding="utf-8")
        print(f"written to {out}")
        return
    when = datetime.now(UTC).isoformat(timespec="seconds")
    start = startup()
    if args.start:
        out = HERE / "results" / "start.json"
        report = {"when": when, "machine": machine(), "start": start}
        out.write_text(json.dumps(report, indent=2) + "\n", encoding="utf-8")
        print(f"written to {out}")
        return
    sizes = [int(float(r)) for r in args.raekker.split(",")]
    tasks = [t for t in args.opgaver.split(",") if t]
    results = []
    for rows in sizes[:1] if args.data else sizes:
        folder = args.data or dataset(rows)
        data_bytes = sum(p.stat().st_size for p in (folder / "aktivitet").glob("*.parquet"))
        import pyarrow.parquet as pq

        records = sum(
            pq.read_metadata(p).num_rows for p in (folder / "aktivitet").glob("*.parquet")
        )
        row = {"records_per_cut": rows, "records": records, "parquet_mib": data_bytes / 2**20,
               "load_average": os.getloadavg()[0]}  # fmt: skip
        for task, runs in take_turns(tasks, folder, max(args.gentag, 3)).items():
            row[f"{task}_s"] = statistics.median(s for s, _ in runs)
            row[f"{task}_runs_s"] = [round(s, 2) for s, _ in runs]
            row[f"{task}_peak_mib"] = max(m for _, m in runs)
            print(f"{rows:>12,} {task:>7}: {row[f'{task}_s']:7.2f} s, "
                  f"peak {row[f'{task}_peak_mib']:7.0f} MiB", flush=True)  # fmt: skip
        for other in ("duckdb", "pandas", "floor"):
            if "kmf_s" in row and f"{other}_s" in row:
                row[f"kmf/{other}"] = row["kmf_s"] / row[f"{other}_s"]
        results.append(row)
        print("  " + ", ".join(f"{k} = {v:.2f}" for k, v in row.items() if "/" in k), flush=True)
    report = {"when": when, "machine": machine(), "start": start, "results": results}
    out = HERE / "results" / "latest.json"
    out.write_text(json.dumps(report, indent=2) + "\n", encoding="utf-8")
    print(f"written to {out}")


if __name__ == "__main__":
    main()
