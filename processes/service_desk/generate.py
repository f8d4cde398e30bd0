"""Generate service_desk.bpmn with the public builder API (diagram included).

Run from the repository root:  .venv/bin/python processes/service_desk/generate.py

The BPMN file is committed; a test checks it is what this script writes, so edit the model here
(or edit the .bpmn in a modeller and stop regenerating it).
"""

from __future__ import annotations

import sys
from pathlib import Path

from liucheng.model import Definitions, ProcessBuilder, write_bpmn

HERE = Path(__file__).resolve().parent
TARGET = HERE / "service_desk.bpmn"


def build() -> Definitions:
    """The service desk process: channels → record → classify → SLA → solve → answer → survey."""
    return (
        ProcessBuilder("service_desk", name="Service desk ticket handling", history_ttl="P180D")
        .documentation(
            "Customer service / after-sales service desk. Requests arrive online (message "
            "'service_request') or at the desk/phone; the ticket is recorded, classified by the "
            "DMN decisions 'priority' (impact x urgency) and 'routing' (category), gets an SLA, "
            "is solved by second level (escalated to a team lead when the SLA runs out), "
            "answered, surveyed and optionally turned into a knowledge article."
        )
        .lane("First level")
        .start_event("start_online", name="Request received online", message="service_request")
        .script_task(
            "channel_online",
            '{channel: if channel = null then "web" else channel}',
            name="Note online channel",
        )
        .start_event("start_desk", name="Request at the desk")
        .script_task("channel_desk", '{channel: "phone"}', name="Note desk channel")
        .join("merge_channels", from_=["channel_online", "channel_desk"])
        .user_task(
            "record_request",
            name="Record request",
            candidate_groups="first-level",
            doc="Capture customer, description, category, impact and urgency.",
        )
        .business_rule_task(
            "classify",
            "priority",
            name="Classify ticket",
            result_variable="priority",
            map_decision_result="singleEntry",
        )
        .business_rule_task(
            "route",
            "routing",
            name="Route ticket",
            result_variable="candidate_group",
            map_decision_result="singleEntry",
        )
        .exclusive_gateway("priority_gateway", name="Priority?")
        .branch(condition='=priority = "critical" or priority = "high"', name="critical / high")
        .script_task("sla_urgent", '{sla: "PT4H"}', name="SLA 4 hours")
        .branch(condition='=priority = "medium"', name="medium")
        .script_task("sla_normal", '{sla: "P1D"}', name="SLA 1 day")
        .branch(default=True, name="low")
        .script_task("sla_low", '{sla: "P3D"}', name="SLA 3 days")
        .join("merge_sla")
        .lane("Second level")
        .user_task(
            "resolve",
            name="Solve problem",
            candidate_groups="=candidate_group",
            due_date="=now() + duration(sla)",
        )
        .boundary_event(
            "sla_breached",
            name="SLA breached",
            timer_duration="=duration(sla)",
            interrupting=False,
        )
        .lane("Supervisor")
        .user_task("review_overdue", name="Review overdue ticket", candidate_groups="team-lead")
        .end_event("supervisor_done", name="Overdue ticket reviewed")
        .move_to("resolve")
        .lane("First level")
        .user_task("answer_customer", name="Answer customer", candidate_groups="first-level")
        .receive_task("await_survey", "survey_response", name="Receive survey")
        .boundary_event("survey_timeout", name="No answer in 7 days", timer_duration="P7D")
        .move_to("await_survey")
        .join("survey_done", from_=["await_survey", "survey_timeout"])
        .lane("Second level")
        .exclusive_gateway("article_gateway", name="Knowledge article?")
        .branch(condition="=write_article = true", name="yes")
        .user_task(
            "write_article", name="Write knowledge article", candidate_groups="=candidate_group"
        )
        .branch(default=True, name="no")
        .join("merge_article")
        .lane("First level")
        .end_event("closed", name="Request closed")
        .build()
    )


def main() -> int:
    """Write the BPMN file next to this script."""
    TARGET.write_bytes(write_bpmn(build()))
    print(f"wrote {TARGET}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
