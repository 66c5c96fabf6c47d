"""Write the user guide's screenshots: ``python -m tests.tui.doc_screenshots [DIR]``.

Every picture is a scene of :mod:`tests.tui.scenes` (fixed data, no network),
saved as SVG into ``docs/img`` by default.  The same scene always writes the
same bytes: Rich names the SVG's CSS classes after a hash of the segments'
``repr``, which differs from run to run, so each picture gets a fixed prefix
named after its scene instead.
"""

from __future__ import annotations

import asyncio
import io
import sys
from pathlib import Path

from rich.console import Console
from textual.app import App

from tests.tui.scenes import SCENES

DOCS_IMG = Path(__file__).resolve().parents[2] / "docs" / "img"


async def save(name: str, directory: Path, size: tuple[int, int] = (80, 24)) -> Path:
    scene = SCENES[name]()
    async with scene.app.run_test(size=size) as pilot:
        await pilot.pause()
        await scene.run_before(pilot)
        await pilot.pause()
        await pilot.wait_for_scheduled_animations()
        svg = export_svg(scene.app, unique_id=f"conntest-{name}")
    path = directory / f"{name}.svg"
    path.write_text(svg, encoding="utf-8")
    return path


def export_svg(app: App[object], unique_id: str) -> str:
    """``App.export_screenshot`` with a fixed ``unique_id``: reproducible bytes."""
    width, height = app.size
    console = Console(
        width=width,
        height=height,
        file=io.StringIO(),
        force_terminal=True,
        color_system="truecolor",
        record=True,
        legacy_windows=False,
        safe_box=False,
    )
    console.print(
        app.screen._compositor.render_update(full=True, screen_stack=app._background_screens)
    )
    return console.export_svg(title=app.title, unique_id=unique_id)


async def main(directory: Path) -> None:
    directory.mkdir(parents=True, exist_ok=True)
    for name in SCENES:
        print(await save(name, directory))


if __name__ == "__main__":
    asyncio.run(main(Path(sys.argv[1]) if len(sys.argv) > 1 else DOCS_IMG))
