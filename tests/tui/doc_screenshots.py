"""Write the user guide's screenshots: ``python -m tests.tui.doc_screenshots [DIR]``.

Every picture is a scene of :mod:`tests.tui.scenes` (fixed data, no network),
saved with Textual's ``save_screenshot`` as SVG into ``docs/img`` by default.
"""

from __future__ import annotations

import asyncio
import sys
from pathlib import Path

from tests.tui.scenes import SCENES

DOCS_IMG = Path(__file__).resolve().parents[2] / "docs" / "img"


async def save(name: str, directory: Path, size: tuple[int, int] = (80, 24)) -> Path:
    scene = SCENES[name]()
    async with scene.app.run_test(size=size) as pilot:
        await pilot.pause()
        await scene.run_before(pilot)
        await pilot.pause()
        scene.app.save_screenshot(filename=f"{name}.svg", path=str(directory))
    return directory / f"{name}.svg"


async def main(directory: Path) -> None:
    directory.mkdir(parents=True, exist_ok=True)
    for name in SCENES:
        print(await save(name, directory))


if __name__ == "__main__":
    asyncio.run(main(Path(sys.argv[1]) if len(sys.argv) > 1 else DOCS_IMG))
