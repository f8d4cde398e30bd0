"""Handlers and setup hooks the test server installs (``liucheng serve --app``): SLA clocks."""

from __future__ import annotations

from liucheng.engine import Engine
from liucheng.jobs import Registry
from liucheng.org import SlaDefinition

registry = Registry()


@registry.setup
def _slas(engine: Engine) -> None:
    engine.add_sla(SlaDefinition("first response", "PT4H"), process="order_refund", task="decide")
    engine.add_sla(SlaDefinition("refund", "P2D", scope="process"), process="order_refund")
