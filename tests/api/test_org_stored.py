"""The server keeps the organisation in the database (``lc_org_revision``), like every engine.

Over a real server on SQLite and PostgreSQL: an import through the API is the stored
organisation another ``Engine`` on the same database escalates with; ``If-Match`` with a stale
revision is 412 and stores nothing; the revisions are listed.
"""

from __future__ import annotations

import datetime as dt
import json
import uuid
from typing import Any

import httpx
import yaml

from liucheng.engine import Engine, ManualClock
from liucheng.store import SqlStore
from tests.api.conftest import DATA, Server, problem
from tests.work.conftest import user_task_process

# 30 minutes, then the task goes to its assignee's superior (one level up).
ESCALATING = (
    '<extensionElements><liucheng:sla name="resolution" target="PT30M" warnAt="">'
    '<liucheng:escalation after="PT0S" action="reassign" levelsUp="1"/>'
    "</liucheng:sla></extensionElements>"
)
# far ahead of the wall clock, so the server's own job executor never runs these jobs first
FUTURE = dt.datetime.now(dt.UTC).replace(microsecond=0) + dt.timedelta(days=3650)


def _etag(r: httpx.Response) -> int:
    tag = r.headers["etag"]
    assert tag.startswith('"') and tag.endswith('"'), tag
    return int(tag.strip('"'))


def _test_org(agent: str, boss: str) -> bytes:
    """The suite's organisation plus an agent whose explicit superior is ``boss``."""
    data: dict[str, Any] = yaml.safe_load((DATA / "org.yaml").read_text("utf-8"))
    data["people"] += [
        {"id": boss, "name": "Boss", "department": "company"},
        {"id": agent, "name": "Agent", "department": "company", "superior": boss},
    ]
    return json.dumps(data).encode()


def _escalated_to(engine: Engine, clock: ManualClock, key: str) -> str | None:
    """Start ``key`` (task assigned to the agent), let its SLA breach, fire it: the assignee."""
    pid = engine.start_process(key)
    clock.advance(dt.timedelta(minutes=31))
    for job in engine.jobs(instance_id=pid):
        engine.execute_job(job.id)
    [task] = engine.tasks(instance_id=pid)
    return task.assignee


def test_import_edit_and_revisions_reach_another_engine(server: Server) -> None:
    suffix = uuid.uuid4().hex[:6]
    agent, boss, key = f"ag{suffix}", f"bo{suffix}", f"esc{suffix}"
    store = SqlStore(server.database)
    with server.client("admin") as admin:
        try:
            before = _etag(admin.get("/org"))
            # import through the API, conditional on the revision just read
            r = admin.put(
                "/org",
                content=_test_org(agent, boss),
                headers={"content-type": "application/json", "If-Match": f'"{before}"'},
                params={"comment": "escalation test"},
            )
            assert r.status_code == 200, r.text
            imported = _etag(r)
            assert imported == before + 1 == r.json()["revision"]
            assert r.json()["author"] == "admin"
            got = admin.get("/org")
            assert _etag(got) == imported and got.json()["revision"] == imported
            assert admin.get(f"/org/people/{agent}").json()["superior"] == boss

            # a separate engine on the same database, never handed an organisation
            clock = ManualClock(FUTURE)
            other = Engine(store, clock=clock, org_refresh=0)
            assert other.organisation is not None
            assert other.organisation.superior(agent) == boss
            other.deploy(
                [
                    (
                        f"{key}.bpmn",
                        user_task_process(f'camunda:assignee="{agent}"', key, ESCALATING),
                    )
                ]
            )
            assert _escalated_to(other, clock, key) == boss

            # a change made on a stale revision: 412, nothing stored
            stale = {"If-Match": f'"{before}"'}
            r = admin.patch(f"/org/people/{agent}", json={"superior": "carl"}, headers=stale)
            body = problem(r, 412, "org.revision.conflict")
            assert body["details"] == {"expected": before, "newest": imported}
            problem(
                admin.put(
                    "/org",
                    content=_test_org(agent, boss),
                    headers={"content-type": "application/json", **stale},
                ),
                412,
                "org.revision.conflict",
            )
            weak = {"If-Match": f'W/"{imported}"'}  # weak tags never match (RFC 9110)
            problem(
                admin.post(
                    f"/org/people/{agent}/absences",
                    json={"from": "2030-01-01", "to": "2030-01-01"},
                    headers=weak,
                ),
                412,
                "org.revision.conflict",
            )
            assert _etag(admin.get("/org")) == imported
            assert admin.get(f"/org/people/{agent}").json()["absences"] == []
            assert other.organisation.superior(agent) == boss
            assert _escalated_to(other, clock, key) == boss

            # the same change on the current revision is stored; the other engine follows
            r = admin.patch(
                f"/org/people/{agent}",
                json={"superior": "carl"},
                headers={"If-Match": f'"{imported}"'},
            )
            assert r.status_code == 200, r.text
            edited = _etag(r)
            assert edited == imported + 1 and r.json()["person"]["superior"] == "carl"
            assert other.organisation.superior(agent) == "carl"
            assert _escalated_to(other, clock, key) == "carl"

            # the revisions, oldest first; newest first on request
            listed = admin.get("/org/revisions", params={"limit": 1000}).json()
            assert listed["total"] == edited
            assert [i["revision"] for i in listed["items"]] == list(range(1, edited + 1))
            mine = {i["revision"]: i for i in listed["items"]}
            assert (mine[imported]["author"], mine[imported]["comment"]) == (
                "admin",
                "escalation test",
            )
            assert mine[edited]["comment"] == f"update_person {agent}"
            newest = admin.get("/org/revisions", params={"sort": "-revision", "limit": 1})
            assert newest.json()["items"][0]["revision"] == edited
            assert [h["revision"] for h in other.org_admin().history()][-1] == edited
        finally:
            # the shared server's organisation goes back to the suite's people
            for person in (agent, boss):
                admin.delete(f"/org/people/{person}")
            store.dispose()


def test_edits_validate_like_the_file_and_refusals_store_nothing(server: Server) -> None:
    with server.client("admin") as admin:
        start = _etag(admin.get("/org"))
        # an unknown superior is an organisation problem: nothing stored
        r = admin.patch("/org/people/anna", json={"superior": "nobody"})
        assert problem(r, 400)["code"].startswith("org.")
        problem(admin.patch("/org/people/nobody", json={"email": "x@example.org"}), 404)
        problem(admin.post("/org/roles", json={"id": "agent"}), 400, "org.duplicate")
        problem(
            admin.post("/org/people/anna/absences", json={"from": "2030-01-01"}),
            422,
        )
        assert _etag(admin.get("/org")) == start
    with server.client("anna") as anna:
        problem(anna.patch("/org/people/anna", json={"superior": "carl"}), 403)
        problem(anna.get("/org/revisions"), 403)
    with server.client("admin") as admin:
        assert _etag(admin.get("/org")) == start
        assert admin.get("/org/people/anna").json()["superior"] is None


def test_a_name_change_is_a_named_edit(server: Server) -> None:
    with server.client("admin") as admin:
        old = admin.get("/org/people/anna").json()["name"]
        try:
            r = admin.patch("/org/people/anna", json={"name": "Anna Renamed"})
            assert r.status_code == 200, r.text
            assert r.json()["person"]["name"] == "Anna Renamed"
            newest = admin.get("/org/revisions", params={"limit": 1000}).json()["items"][-1]
            assert newest["comment"] == "update_person anna"
        finally:
            admin.patch("/org/people/anna", json={"name": old})


def test_an_absence_edit_plans_the_rebalance_job_org_admins_see(server: Server) -> None:
    """A future absence plans the engine-wide ``org-rebalance`` job (no process): organisation
    administrators see it in ``GET /jobs``, others do not."""
    with server.client("admin") as admin:
        # the suite's organisation first: an absence another test on this shared server left
        # (whether one ran here depends on how xdist spread the tests) would plan the job
        r = admin.put(
            "/org",
            content=(DATA / "org.yaml").read_bytes(),
            headers={"content-type": "application/yaml"},
        )
        assert r.status_code == 200, r.text
        r = admin.post("/org/people/bob/absences", json={"from": "2031-05-04", "to": "2031-05-08"})
        assert r.status_code == 200, r.text
        assert r.json()["comment"] == "add_absence bob"
        assert r.json()["person"]["absences"][0]["reason"] is None
        try:
            jobs = admin.get("/jobs", params={"kind": "rebalance"})
            assert jobs.status_code == 200, jobs.text
            [job] = [j for j in jobs.json()["items"] if j["id"] == "org-rebalance"]
            assert job["due_at"].startswith("2031-05-0")
            with server.client("anna") as anna:
                seen = anna.get("/jobs", params={"kind": "rebalance"})
                assert seen.status_code == 200 and seen.json()["items"] == []
        finally:
            r = admin.put("/org/people/bob/absences", json=[])
            assert r.status_code == 200 and r.json()["person"]["absences"] == []
