"""Regenerate the screenshots in docs/screenshots/ (run from the repository root).

Each seed scenario is opened at 80x24, as over SSH, and stepped with the keys a
newcomer would press, so the picture shows the blame on its way back.
"""

from __future__ import annotations

import asyncio
from pathlib import Path

from bptui.app.app import BptuiApp
from bptui.core.catalog import builtin
from bptui.core.scenario import load_scenario

SHOTS = {
    "biscuit-factory": ["full_stop"] * 6,
    "biscuit-factory-preservative": ["full_stop"] * 6 + ["b"],
    "tutoring-chain": ["full_stop"] * 5,
    "xor": ["n"] * 40 + ["u"],
}


async def shoot(name: str, keys: list[str], out: Path) -> None:
    app = BptuiApp(load_scenario(builtin()[name]))
    async with app.run_test(size=(80, 24)) as pilot:
        await pilot.pause()
        await pilot.press(*keys)
        await pilot.pause(0.2)
        out.write_text(app.export_screenshot(title=f"bptui {name}"), encoding="utf-8")


def main() -> None:
    folder = Path(__file__).resolve().parent / "screenshots"
    folder.mkdir(exist_ok=True)
    for name, keys in SHOTS.items():
        asyncio.run(shoot(name, keys, folder / f"{name}.svg"))
        print(f"wrote {folder / name}.svg")


if __name__ == "__main__":
    main()
