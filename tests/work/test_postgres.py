"""The central people's-work checks once more on PostgreSQL (skipped locally without a server)."""

from __future__ import annotations

import pytest

from .test_assignment import test_nobody_absent_or_off_shift_gets_work as _absent
from .test_authz import test_outsider_cannot_see_claim_or_complete as _outsider
from .test_forms import test_form_js_deployed_lists_every_error as _forms
from .test_sla import test_process_clock_pauses_while_waiting_for_the_customer as _pauses
from .test_sla import test_worked_example_warning_breach_and_escalation as _worked

test_absent_pg = _absent
test_outsider_pg = _outsider
test_forms_pg = _forms
test_pauses_pg = _pauses
test_worked_pg = _worked


@pytest.fixture
def store_kind() -> str:
    return "postgresql"
