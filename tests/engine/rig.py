"""An engine on a memory store or a SQLite file that a test can reload between steps.

``Rig.reload()`` does nothing in ``plain`` mode; in ``reload`` mode it drops the engine (and its
caches) and continues on a new one over the stored state, as a restarted server would: on the
memory store the instance documents go through JSON, on SQLite a new ``SqlStore`` opens the file.
"""

from __future__ import annotations

import json
from collections.abc import Iterator
from pathlib import Path

import pytest

from liucheng.engine import Engine, ManualClock, MemoryStore
from liucheng.store import SqlStore


class Rig:
    """One engine over a store, reloadable (see the module docstring)."""

    def __init__(self, backend: str, reload: bool, tmp_path: Path) -> None:
        self.backend = backend
        self.reloading = reload
        self.clock = ManualClock()
        self.url = f"sqlite:///{tmp_path / 'lc.db'}"
        self.store: MemoryStore | SqlStore = (
            MemoryStore() if backend == "memory" else SqlStore(self.url)
        )
        self.engine = Engine(self.store, clock=self.clock)

    def reload(self) -> Engine:
        """A fresh engine on the stored state (reload mode), else the same engine."""
        if self.reloading:
            if isinstance(self.store, MemoryStore):
                for rec in self.store.instances.values():
                    rec.doc = json.loads(json.dumps(rec.doc))
            else:
                self.store.dispose()
                self.store = SqlStore(self.url, upgrade=False)
            self.engine = Engine(self.store, clock=self.clock)
        return self.engine

    def close(self) -> None:
        """Release the database connections."""
        if isinstance(self.store, SqlStore):
            self.store.dispose()


#: Parameters and ids of a ``rig`` fixture: each store, plain and reloading.
RIG_PARAMS = [("memory", False), ("memory", True), ("sqlite", False), ("sqlite", True)]
RIG_IDS = ["memory-plain", "memory-reload", "sqlite-plain", "sqlite-reload"]


def make_rig(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[Rig]:
    """The body of a ``rig`` fixture parametrized with :data:`RIG_PARAMS`."""
    backend, reload = request.param
    r = Rig(backend, reload, tmp_path)
    try:
        yield r
    finally:
        r.close()
