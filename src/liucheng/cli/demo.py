"""``liucheng demo``: the main job on the embedded default."""

from __future__ import annotations

from ._app import app


@app.command()
def demo() -> None:
    """Run the demo: check and summarise the bundled example processes."""
    raise NotImplementedError
