"""Pack the sample's activity for the package: FOLDER/aktivitet.csv (made by
calibrate_sample.py, grow_sample.py and population_sample.py, in that order) becomes
kmf/data/eksempel_aktivitet.parquet, from which kmf unpacks the same bytes on first use
(kmf/io/sample.py). On the package's own folder the CSV file is then removed: it is not
kept in the repository (5 MB).

    python data/pack_sample.py [FOLDER]     # default: kmf/data/sample
"""

from __future__ import annotations

import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from kmf.io.sample import PACKED, pack  # noqa: E402


def main() -> None:
    package = ROOT / "kmf" / "data" / "sample"
    folder = Path(sys.argv[1]) if len(sys.argv) > 1 else package
    pack(folder / "aktivitet.csv", ROOT / "kmf" / "data" / PACKED)
    if folder.resolve() == package.resolve():
        (folder / "aktivitet.csv").unlink()


if __name__ == "__main__":
    main()
