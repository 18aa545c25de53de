"""Run every benchmark and write one JSON object of named figures.

Usage::

    python benchmarks/run.py --json bench.json [--quick] [--only soil,model,batch,reuse]

Each ``benchmarks/bench_<name>.py`` exposes ``run(quick: bool = False) -> dict[str, float]``;
its figures are ratios against a baseline measured in the same run (see each module), plus raw
figures for context. Timings are medians of repeated runs.
"""

from __future__ import annotations

import argparse
import importlib
import json
import sys
import time
from pathlib import Path

HERE = Path(__file__).resolve().parent
SUITES = ("soil", "model", "batch", "equilibrium", "scale", "reuse")


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--json", type=Path, help="write the figures to this file")
    parser.add_argument("--quick", action="store_true", help="small sizes, for a smoke test")
    parser.add_argument("--only", default=",".join(SUITES), help="comma-separated suites")
    args = parser.parse_args(argv)
    sys.path.insert(0, str(HERE))
    figures: dict[str, float] = {}
    for name in args.only.split(","):
        name = name.strip()
        if name not in SUITES:
            parser.error(f"--only: unknown suite {name!r}; allowed: {', '.join(SUITES)}")
        module = importlib.import_module(f"bench_{name}")
        t0 = time.perf_counter()
        result = module.run(quick=args.quick)
        print(f"[{name}] {time.perf_counter() - t0:.1f} s: {json.dumps(result)}", file=sys.stderr)
        figures.update(result)
    text = json.dumps(figures, indent=2, sort_keys=True)
    if args.json:
        args.json.write_text(text + "\n")
    print(text)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
