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

import numpy as np

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


def one_round(scenario, seeds: list[int]) -> tuple[float, float, int, int, int]:
    """Seconds of the sweep and of the single runs, net-epochs, runs converged and the
    epochs of the stack (its longest run's)."""
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
    return sweep_seconds, single_seconds, single_epochs, result.converged, sweep.epoch


def stack_costs(scenario, seeds: list[int], sizes=(1, 12, 25, 50, 100, 200), epochs: int = 120,
                repeats: int = 5) -> dict[int, float]:
    """Seconds per epoch of a stack of R runs, for each R: the first ``epochs`` epochs of
    seeds 1 to R, which no XOR seed converges within (the earliest takes 142)."""
    costs = {}
    for runs in sizes:
        if runs > len(seeds):
            break
        times = []
        for _ in range(repeats):
            sweep = Sweep(scenario, seeds[:runs], max_epochs=epochs + 1)
            start = time.perf_counter()
            for _ in range(epochs):
                sweep.train_epoch()
            times.append((time.perf_counter() - start) / epochs)
            assert len(sweep.runs) == runs, "a run stopped: the stack is not R runs throughout"
        costs[runs] = statistics.median(times)
    return costs


def cost_model(costs: dict[int, float], net_epochs: int, epochs: int, single_seconds: float) -> dict:
    """What a stacked epoch costs, fitted as f + s R (f: the calls' fixed cost, paid once per
    epoch of the stack; s: the cost per run in it), and the ratio that follows: a sweep runs
    ``epochs`` epochs of the stack (its longest run) and ``net_epochs`` run-epochs in all,
    so it takes epochs f + net_epochs s, where the runs one by one take net_epochs c1."""
    s, f = np.polyfit(list(costs), list(costs.values()), 1)
    c1 = single_seconds / net_epochs
    runs_mean = net_epochs / epochs  # runs in the stack, on average over its epochs
    return {"fixed_us": round(f * 1e6, 2), "per_run_us": round(s * 1e6, 3), "single_epoch_us": round(c1 * 1e6, 2),
            "mean_runs": round(runs_mean, 1), "predicted_ratio": round(c1 * runs_mean / (f + s * runs_mean), 1),
            "ceiling_ratio": round(c1 * runs_mean / f, 1),  # were a run in the stack free
            "per_run_us_for_20x": round((c1 / 20 - f / runs_mean) * 1e6, 3),
            "costs_us": {str(r): round(t * 1e6, 2) for r, t in costs.items()}}


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
    ratios = [single / sweep for sweep, single, *_ in rounds]  # same work, so the ratio of rates
    model = cost_model(stack_costs(scenario, seeds), net_epochs, rounds[0][4], single_seconds)
    numbers = {"scenario": args.scenario, "seeds": args.seeds, "net_epochs": net_epochs,
               "converged": converged, "sweep_seconds": round(sweep_seconds, 3),
               "single_seconds": round(single_seconds, 3),
               "sweep_net_epochs_per_s": round(net_epochs / sweep_seconds),
               "single_net_epochs_per_s": round(net_epochs / single_seconds),
               "ratio": round(statistics.median(ratios), 1), "rounds": len(rounds),
               "ratio_min": round(min(ratios), 1), "ratio_max": round(max(ratios), 1), "model": model}
    if args.json:
        print(json.dumps(numbers))
    else:
        print(f"{args.scenario}, {args.seeds} seeds, {net_epochs:,} net-epochs, {converged} converged "
              f"(medians of {len(rounds)} interleaved rounds)")
        print(f"  sweep       {sweep_seconds:7.2f} s  {numbers['sweep_net_epochs_per_s']:12,} net-epochs/s")
        print(f"  one by one  {single_seconds:7.2f} s  {numbers['single_net_epochs_per_s']:12,} net-epochs/s")
        print(f"  ratio       {numbers['ratio']}x, from {numbers['ratio_min']}x to {numbers['ratio_max']}x "
              f"(target: at least 15x)")
        print(f"  a stacked epoch costs {model['fixed_us']} us + {model['per_run_us']} us per run in the stack; "
              f"one epoch of a single run {model['single_epoch_us']} us")
        print(f"  with {model['mean_runs']} runs in the stack on average: ratio {model['predicted_ratio']}x predicted, "
              f"{model['ceiling_ratio']}x were a run in the stack free; 20x needs at most "
              f"{model['per_run_us_for_20x']} us per run")
    return 0


if __name__ == "__main__":
    sys.exit(main())
