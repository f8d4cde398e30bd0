"""``liucheng tasks``: the task list and task actions."""

from __future__ import annotations
