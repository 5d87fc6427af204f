"""A long session in the app: memory while training a million epochs.

Runs the app headless (Textual's test driver) on XOR set never to stop, trains until
a million epochs, and samples the process's resident memory every 100,000 epochs.
Memory must stay flat: the loss history is bounded and thinned, snapshots are small.

    python benchmarks/bench_long_session.py [--epochs 1000000]
"""

from __future__ import annotations

import argparse
import asyncio
import json
import sys
import tempfile
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from bptui.app.app import BptuiApp  # noqa: E402
from bptui.core.catalog import builtin  # noqa: E402
from bptui.core.scenario import load_scenario  # noqa: E402


def rss_mib() -> float:
    for line in Path("/proc/self/status").read_text().splitlines():
        if line.startswith("VmRSS:"):
            return int(line.split()[1]) / 1024
    return float("nan")


async def session(path: Path, epochs: int, every: int) -> list[dict]:
    app = BptuiApp(load_scenario(path))
    samples = []
    async with app.run_test(size=(80, 24)) as pilot:
        await pilot.press("space")
        start = time.monotonic()
        mark = every
        while True:
            await pilot.pause(0.2)
            epoch = app.run_.epoch
            if epoch >= mark:
                samples.append({"epoch": epoch, "rss_mib": round(rss_mib(), 1),
                                "seconds": round(time.monotonic() - start, 1),
                                "losses_kept": len(app.run_.history.values)})
                mark += every
            if epoch >= epochs:
                break
        await pilot.press("space")
    return samples


def main(argv=None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--epochs", type=int, default=1_000_000)
    parser.add_argument("--json", action="store_true")
    args = parser.parse_args(argv)
    text = builtin()["xor"].read_text()
    text = text.replace("error_criterion = 0.04", "error_criterion = 0").replace("epochs = 5000", "epochs = 1000000000")
    with tempfile.TemporaryDirectory() as folder:
        path = Path(folder) / "forever.toml"
        path.write_text(text)
        samples = asyncio.run(session(path, args.epochs, max(args.epochs // 10, 1)))
    if args.json:
        print(json.dumps(samples))
        return 0
    print(f"{'epoch':>10} {'seconds':>8} {'RSS MiB':>8} {'losses kept':>12}")
    for s in samples:
        print(f"{s['epoch']:>10,} {s['seconds']:>8} {s['rss_mib']:>8} {s['losses_kept']:>12,}")
    growth = samples[-1]["rss_mib"] - samples[0]["rss_mib"]
    print(f"memory from the first sample to the last: {growth:+.1f} MiB")
    return 0


if __name__ == "__main__":
    sys.exit(main())
