"""``abm run`` written with the naive per-agent model: the whole-process reference (issue 13).

Usage::

    python benchmarks/naive_run.py --farms 50000 [--seed S] [--end 2050] --out DIR

Does what ``abm run --farms N --out DIR`` does — parse, build the world, run 2020–``end``,
collect the outputs and write the same results folder — with
:class:`naive_model.NaiveSoilCarbonModel` (per-agent peer signal, decisions and pure-Python
monthly RothC per farm) in place of the vectorised model, without the progress bar. It imports
``abm`` exactly as the CLI does, so a whole-process timing of the two compares like with like.
"""

from __future__ import annotations

import argparse
import sys
from pathlib import Path

HERE = Path(__file__).resolve().parent
sys.path.insert(0, str(HERE))
sys.path.insert(0, str(HERE.parent))


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--farms", type=int, required=True)
    parser.add_argument("--seed", type=int, default=None)
    parser.add_argument("--end", type=int, default=None)
    parser.add_argument("--out", type=Path, default=None)
    args = parser.parse_args(argv)

    from naive_model import NaiveSoilCarbonModel  # type: ignore[import-not-found,unused-ignore]

    from abm.run import run_model
    from abm.scenario import resolve_params

    overrides: dict[str, object] = {"n_farms": args.farms}
    if args.end is not None:
        overrides["end_year"] = args.end
    params = resolve_params("baseline", overrides)
    model = NaiveSoilCarbonModel(params, seed=args.seed)
    result = run_model(model=model)
    if args.out is not None:
        from abm.batch.store import write_single_run

        spec = {"scenario": "baseline", "overrides": overrides, "seed": model.root_seed}
        write_single_run(args.out, result, scenario="baseline", seed=model.root_seed, spec=spec)
    print(f"{result.kpis['adoption_share_2050']:.6g}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
