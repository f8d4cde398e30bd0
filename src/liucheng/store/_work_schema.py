"""Tables of people's work: task comments, attachments, SLA clocks, assignment state.

Defined on :data:`liucheng.store.schema.metadata`; created by migration ``0003``.
"""

from __future__ import annotations
