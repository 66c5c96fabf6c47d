"""The user guide's screenshots are reproducible: the same scene writes the same bytes.

Rich names an SVG's CSS classes after a hash that differs from run to run;
:mod:`tests.tui.doc_screenshots` fixes it per scene, so regenerating docs/img
changes a picture only when the screen did.  One scene saved now must be the
bytes an earlier run committed (one scene: each costs seconds).
"""

from __future__ import annotations

from pathlib import Path

from tests.tui.doc_screenshots import DOCS_IMG, save


async def test_a_scene_saved_again_writes_the_committed_bytes(tmp_path: Path) -> None:
    saved = (await save("setup-demo", tmp_path)).read_bytes()
    assert saved.startswith(b"<svg") and b"conntest-setup-demo" in saved
    assert saved == (DOCS_IMG / "setup-demo.svg").read_bytes(), (
        "docs/img/setup-demo.svg differs from the scene saved now: if the setup screen "
        "changed, regenerate with python -m tests.tui.doc_screenshots; otherwise the "
        "screenshots are no longer reproducible"
    )
