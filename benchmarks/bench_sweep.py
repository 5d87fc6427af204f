"""Sweep throughput: N seeds trained at once against the same seeds one by one.

Both do the same work (the sweep's results are checked to be identical, seed by
seed); the measure is net-epochs per second: epochs run, summed over the runs.
The two are timed in interleaved rounds, after a short untimed warm-up, so that the
noise of a shared machine hits both alike; each round gives a ratio, and the report
is their median and range.

    python benchmarks/bench_sweep.py [--seeds 200] [--scenario xor] [--rounds 5] [--json]
"""

from __future__ import annotations

import argparse
import json
import statistics
import sys
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from bptui.core.catalog import resolve  # noqa: E402
from bptui.core.scenario import load_scenario  # noqa: E402
from bptui.core.sweep import Sweep  # noqa: E402
from bptui.core.training import Run  # noqa: E402


def warm_up(scenario, seeds: list[int]) -> None:
    """The first numpy calls of a process are slower (lazy setup, cold caches): run both
    for a few epochs, untimed, so that neither pays for that in the first round."""
    Sweep(scenario, seeds, max_epochs=20).run()
    Run(scenario, seed=seeds[0], max_epochs=20).train()


def one_round(scenario, seeds: list[int]) -> tuple[float, float, int, int]:
    """Seconds of the sweep and of the single runs, net-epochs and runs converged."""
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
    return sweep_seconds, single_seconds, single_epochs, result.converged


def main(argv=None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--seeds", type=int, default=200)
    parser.add_argument("--scenario", default="xor")
    parser.add_argument("--rounds", type=int, default=5, help="interleaved rounds of sweep and single runs")
    parser.add_argument("--json", action="store_true")
    args = parser.parse_args(argv)
    scenario = load_scenario(resolve(args.scenario))
    seeds = list(range(1, args.seeds + 1))

    warm_up(scenario, seeds)
    rounds = [one_round(scenario, seeds) for _ in range(max(1, args.rounds))]
    sweep_seconds = statistics.median(r[0] for r in rounds)
    single_seconds = statistics.median(r[1] for r in rounds)
    net_epochs, converged = rounds[0][2], rounds[0][3]
    ratios = [single / sweep for sweep, single, _, _ in rounds]  # same work, so the ratio of rates
    numbers = {"scenario": args.scenario, "seeds": args.seeds, "net_epochs": net_epochs,
               "converged": converged, "sweep_seconds": round(sweep_seconds, 3),
               "single_seconds": round(single_seconds, 3),
               "sweep_net_epochs_per_s": round(net_epochs / sweep_seconds),
               "single_net_epochs_per_s": round(net_epochs / single_seconds),
               "ratio": round(statistics.median(ratios), 1), "rounds": len(rounds),
               "ratio_min": round(min(ratios), 1), "ratio_max": round(max(ratios), 1)}
    if args.json:
        print(json.dumps(numbers))
    else:
        print(f"{args.scenario}, {args.seeds} seeds, {net_epochs:,} net-epochs, {converged} converged "
              f"(medians of {len(rounds)} interleaved rounds)")
        print(f"  sweep       {sweep_seconds:7.2f} s  {numbers['sweep_net_epochs_per_s']:12,} net-epochs/s")
        print(f"  one by one  {single_seconds:7.2f} s  {numbers['single_net_epochs_per_s']:12,} net-epochs/s")
        print(f"  ratio       {numbers['ratio']}x, from {numbers['ratio_min']}x to {numbers['ratio_max']}x "
              f"(target: at least 20x)")
    return 0


if __name__ == "__main__":
    sys.exit(main())
