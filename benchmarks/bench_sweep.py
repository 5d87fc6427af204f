"""Sweep throughput: N seeds trained at once against the same seeds one by one.

Both do the same work (the sweep's results are checked to be identical, seed by
seed); the measure is net-epochs per second: epochs run, summed over the runs.

    python benchmarks/bench_sweep.py [--seeds 200] [--scenario xor] [--json]
"""

from __future__ import annotations

import argparse
import json
import sys
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from bptui.core.catalog import resolve  # noqa: E402
from bptui.core.scenario import load_scenario  # noqa: E402
from bptui.core.sweep import Sweep  # noqa: E402
from bptui.core.training import Run  # noqa: E402


def main(argv=None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--seeds", type=int, default=200)
    parser.add_argument("--scenario", default="xor")
    parser.add_argument("--json", action="store_true")
    args = parser.parse_args(argv)
    scenario = load_scenario(resolve(args.scenario))
    seeds = list(range(1, args.seeds + 1))

    start = time.perf_counter()
    sweep = Sweep(scenario, seeds)
    result = sweep.run()
    sweep_seconds = time.perf_counter() - start

    start = time.perf_counter()
    single, single_epochs = [], 0
    for seed in seeds:
        run = Run(scenario, seed=seed)
        single.append(run.epoch if run.train() == "converged" else None)
        single_epochs += run.epoch
    single_seconds = time.perf_counter() - start

    assert list(result.epochs) == single, "the sweep must give what the single runs give"
    assert sweep.net_epochs == single_epochs
    rates = {"sweep": sweep.net_epochs / sweep_seconds, "single": single_epochs / single_seconds}
    numbers = {"scenario": args.scenario, "seeds": args.seeds, "net_epochs": single_epochs,
               "converged": result.converged, "sweep_seconds": round(sweep_seconds, 3),
               "single_seconds": round(single_seconds, 3),
               "sweep_net_epochs_per_s": round(rates["sweep"]), "single_net_epochs_per_s": round(rates["single"]),
               "ratio": round(rates["sweep"] / rates["single"], 1)}
    if args.json:
        print(json.dumps(numbers))
    else:
        print(f"{args.scenario}, {args.seeds} seeds, {single_epochs:,} net-epochs, {result.converged} converged")
        print(f"  sweep       {sweep_seconds:7.2f} s  {rates['sweep']:12,.0f} net-epochs/s")
        print(f"  one by one  {single_seconds:7.2f} s  {rates['single']:12,.0f} net-epochs/s")
        print(f"  ratio       {numbers['ratio']}x (target: at least 20x)")
    return 0


if __name__ == "__main__":
    sys.exit(main())
