"""``liucheng simulate``: BPMN simulation, calibration and what-if comparison."""

from __future__ import annotations
