"""``python -m liucheng.cli``: the same as the ``liucheng`` command."""

from __future__ import annotations

from liucheng.cli import main

main()
