"""Time is a key, not a loop: ``kmf spor`` over the forecast dates against one ``kmf run`` on
the same files (SPEC §7).

    python -m bench.track [--raekker 10000000] [--datoer 12] [--gentag 3] [--data MAPPE]

``kmf synth --datoer`` makes the dated cuts once (``--raekker`` records per cut, 2 + 2 ·
``--datoer`` cuts) in ``--data`` (default a folder under the temporary folder; delete it
afterwards). Each task runs once as a warm-up and ``--gentag`` times more, taking turns, each
in a fresh process after the files have been read into the operating system's cache. The
median wall time, the largest peak RSS and the ratio spor/run go to
bench/results/track.json.
"""

from __future__ import annotations

import argparse
import json
import statistics
import subprocess
import sys
import tempfile
from datetime import UTC, datetime
from pathlib import Path

from bench.__main__ import machine, take_turns

HERE = Path(__file__).parent
TASKS = ("kmf", "kmf_spor")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--raekker", type=int, default=10_000_000, help="records per cut")
    parser.add_argument("--datoer", type=int, default=12, help="forecast dates (1-12)")
    parser.add_argument("--gentag", type=int, default=3, help="timed runs per task")
    parser.add_argument("--data", type=Path, default=None, help="folder for the data")
    args = parser.parse_args()
    folder = args.data or Path(tempfile.gettempdir()) / f"kmf-track-r{args.raekker}"
    if not (folder / "budget.csv").is_file():
        subprocess.run(
            [sys.executable, "-m", "kmf.cli", "synth", "--raekker", str(args.raekker),
             "--datoer", str(args.datoer), "--out", str(folder), "--seed", "1", "--force"],
            check=True,
        )  # fmt: skip
    timed = take_turns(list(TASKS), folder, args.gentag)
    times = {t: [s for s, _ in runs] for t, runs in timed.items()}
    memory = {t: max(m for _, m in runs) for t, runs in timed.items()}
    median = {t: statistics.median(v) for t, v in times.items()}
    result = {
        "tidspunkt": datetime.now(UTC).isoformat(timespec="seconds"),
        "maskine": machine(),
        "raekker_pr_opgoerelse": args.raekker,
        "datoer": args.datoer,
        "opgoerelser": 2 + 2 * args.datoer,
        "sekunder": times,
        "median_sekunder": median,
        "peak_rss_mib": memory,
        "spor_over_run": median["kmf_spor"] / median["kmf"],
        "rss_spor_over_run": memory["kmf_spor"] / memory["kmf"],
    }
    (HERE / "results").mkdir(exist_ok=True)
    (HERE / "results" / "track.json").write_text(json.dumps(result, indent=2) + "\n")
    print(json.dumps({k: v for k, v in result.items() if k != "maskine"}, indent=2))


if __name__ == "__main__":
    main()
