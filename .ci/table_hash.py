"""Print one SHA-256 per table of a results folder, from a canonical CSV of its rows.

Parquet bytes embed the writer's version, so they differ between environments even when the
numbers are equal; the CSV of the sorted table (floats at full precision) does not. Used by
.ci/run to check that the same seed gives the same tables on two Python interpreters.
"""

from __future__ import annotations

import hashlib
import sys
from pathlib import Path

from abm.batch.store import read_table

for name in ("runs", "timeseries", "ledger"):
    frame = read_table(Path(sys.argv[1]), name)
    text = frame.to_csv(index=False, float_format="%.17g", lineterminator="\n")
    print(name, len(frame), hashlib.sha256(text.encode()).hexdigest())
