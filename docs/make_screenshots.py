"""Regenerate the screenshots in docs/screenshots/ (run from the repository root).

Each seed scenario is opened at 80x24, as over SSH, and stepped with the keys a
newcomer would press, so the picture shows the blame on its way back. The paper's
experiments are first trained to their end, to show what their hidden units came to mean.
"""

from __future__ import annotations

import asyncio
from pathlib import Path

from bptui.app.app import BptuiApp
from bptui.core.catalog import builtin
from bptui.core.scenario import load_scenario
from bptui.core.stepper import PAUSED

# file name: (scenario, keys, terminal size, train to the end first)
SHOTS = {
    "biscuit-factory": ("biscuit-factory", ["full_stop"] * 6, (80, 24), False),
    "biscuit-factory-preservative": ("biscuit-factory-preservative", ["full_stop"] * 6 + ["b"], (80, 24), False),
    # first order blames the mixer, the exact responsibility the oven
    "biscuit-factory-baking": ("biscuit-factory-baking", ["full_stop"] * 6 + ["b"], (80, 24), False),
    "tutoring-chain": ("tutoring-chain", ["full_stop"] * 5, (80, 24), False),
    "xor": ("xor", ["n"] * 40 + ["u"], (80, 24), False),
    "symmetry-hidden": ("symmetry", ["h"], (80, 24), True),
    "family-trees-hidden": ("family-trees", ["h"], (120, 40), True),
    "decision-map": ("xor", ["m"], (100, 30), True),
    "digits-hidden": ("digits", ["h"], (120, 40), True),
    # the cursor on Arjun after two updates: his delta, derived
    "explain": ("tutoring-chain", ["n", "n", "down", "down", "e"], (100, 30), False),
}


async def shoot(name: str, keys: list[str], size: tuple[int, int], trained: bool, out: Path) -> None:
    app = BptuiApp(load_scenario(builtin()[name]))
    async with app.run_test(size=size) as pilot:
        await pilot.pause()
        if trained:
            app.run_.train()
            app._rest(PAUSED)
        await pilot.press(*keys)
        await pilot.pause(0.2)
        out.write_text(app.export_screenshot(title=f"bptui {name}"), encoding="utf-8")


def main() -> None:
    folder = Path(__file__).resolve().parent / "screenshots"
    folder.mkdir(exist_ok=True)
    for file, (name, keys, size, trained) in SHOTS.items():
        asyncio.run(shoot(name, keys, size, trained, folder / f"{file}.svg"))
        print(f"wrote {folder / file}.svg")


if __name__ == "__main__":
    main()
