"""Tables of the server part (``liucheng.api``): users, tokens, audit log, model lifecycle.

Owned by the server; defined on :data:`liucheng.store.schema.metadata` and created by migration
``0002``.
"""

from __future__ import annotations
