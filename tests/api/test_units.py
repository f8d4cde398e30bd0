"""In-process checks of the server's pieces: model diff, settings, rate limiter, users CLI."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from typer.testing import CliRunner

from liucheng.api import Settings
from liucheng.api._diff import diff_bpmn
from liucheng.api._security import RateLimiter, RateLimitError
from liucheng.errors import ConfigurationError

_V1 = b"""<definitions xmlns="http://www.omg.org/spec/BPMN/20100524/MODEL" id="d">
  <process id="p" isExecutable="true">
    <startEvent id="s"/><sequenceFlow id="f" sourceRef="s" targetRef="e"/>
    <exclusiveGateway id="g"/>
    <endEvent id="e" name="End"/>
  </process></definitions>"""
_V2 = b"""<definitions xmlns="http://www.omg.org/spec/BPMN/20100524/MODEL" id="d">
  <process id="p" isExecutable="true">
    <startEvent id="s"/><sequenceFlow id="f" sourceRef="s" targetRef="e">
      <conditionExpression>=x &gt; 1</conditionExpression></sequenceFlow>
    <task id="t" name="New"/>
    <endEvent id="e" name="Done"/>
  </process></definitions>"""


def test_diff_by_element_id() -> None:
    d = diff_bpmn(_V1, _V2)
    assert d["added"] == [{"id": "t", "type": "task", "name": "New"}]
    assert d["removed"] == [{"id": "g", "type": "exclusiveGateway", "name": None}]
    changed = {c["id"]: c for c in d["changed"]}
    assert set(changed) == {"e", "f"}
    assert changed["e"]["attributes"] == {"name": {"from": "End", "to": "Done"}}
    assert changed["f"]["attributes"] == {} and changed["f"]["content_changed"] is True
    assert diff_bpmn(_V1, _V1) == {"added": [], "removed": [], "changed": []}


def test_settings_from_file_and_environment(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    cfg = tmp_path / "server.yaml"
    cfg.write_text("server:\n  database: sqlite:///a.db\n  cors_origins: [https://ui.example]\n")
    monkeypatch.setenv("LIUCHENG_LOGIN_RATE", "9")
    monkeypatch.setenv("LIUCHENG_COOKIE_SECURE", "false")
    s = Settings.from_env(file=cfg)
    assert (s.database, s.cors_origins, s.login_rate, s.cookie_secure) == (
        "sqlite:///a.db",
        ("https://ui.example",),
        9,
        False,
    )
    cfg.write_text("colour: blue\n")
    with pytest.raises(ConfigurationError, match="unknown settings"):
        Settings.from_env(file=cfg)
    monkeypatch.setenv("LIUCHENG_LOGIN_RATE", "many")
    with pytest.raises(ConfigurationError):
        Settings.from_env()


def test_rate_limiter_counts_per_key() -> None:
    rl = RateLimiter(2, 60)
    rl.hit("ann", "1.2.3.4")
    rl.hit("ann", "1.2.3.4")
    with pytest.raises(RateLimitError):
        rl.check("ann", "1.2.3.4")
    rl.check("ann", "5.6.7.8")
    rl.check("bob", "1.2.3.4")


def test_users_cli_adds_and_issues_tokens(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    from liucheng.api import Users
    from liucheng.cli import app
    from liucheng.store import SqlStore

    db = f"sqlite:///{tmp_path / 'u.db'}"
    runner = CliRunner()
    monkeypatch.setenv("LIUCHENG_PASSWORD", "a-long-password")
    r = runner.invoke(app, ["users", "add", "root", "--admin", "--group", "ops", "-d", db])
    assert r.exit_code == 0, r.output
    assert json.loads(r.output)["is_admin"] is True
    r = runner.invoke(app, ["users", "token", "root", "--name", "ci", "-d", db])
    assert r.exit_code == 0, r.output
    secret = json.loads(r.output)["token"]
    store = SqlStore(db)
    try:
        users = Users(store.engine)
        assert users.authenticate(secret).id == "root"
        assert users.verify_password("root", "a-long-password") is not None
        assert users.verify_password("root", "wrong-password") is None
        with store.engine.connect() as c:  # neither the secret nor the password is stored
            dump = "\n".join(
                str(row)
                for t in ("lc_api_user", "lc_api_token")
                for row in c.exec_driver_sql(f"SELECT * FROM {t}")
            )
        assert secret not in dump and "a-long-password" not in dump
    finally:
        store.dispose()
    r = runner.invoke(app, ["users", "list", "-d", db])
    assert [u["id"] for u in json.loads(r.output)] == ["root"]


_ORG = """people:
  - {{id: anna, name: Anna, roles: [{role}]}}
roles:
  - {{id: {role}}}
"""


def test_organisation_is_consistent_across_server_processes(tmp_path: Path) -> None:
    """Two services on one database (as two server processes): an import in one is stored as
    the next revision of the stored organisation and reaches the other's engine at its next
    look (org_check_s = the engine's org_refresh)."""
    from liucheng.api._core import Services

    settings = Settings(database=f"sqlite:///{tmp_path / 'org.db'}", org_check_s=0.0)
    one, two = Services(settings), Services(settings)
    try:
        assert one.org() is None and two.org() is None
        one.users.add("root", "a-long-password-1", is_admin=True)
        root = one.users.get("root")
        assert root is not None
        rev = one.import_org(_ORG.format(role="agent"), one.caller(root))
        assert (rev.revision, rev.author) == (1, "root")
        org = two.org()
        assert org is not None and org.people["anna"].roles == ("agent",)
        assert two.engine.organisation is org  # the engine assigns with the new revision
        assert two.org_state() == (org, 1)
        two.import_org(_ORG.format(role="lead"), two.caller(root), comment="leads")
        assert one.org().people["anna"].roles == ("lead",)  # type: ignore[union-attr]
        assert one.engine.organisation.people["anna"].roles == ("lead",)
        same = one.org()
        assert one.org() is same  # unchanged revision: not parsed again
        assert [(h["revision"], h["comment"]) for h in one.engine.org_admin().history()] == [
            (1, "PUT /org"),
            (2, "leads"),
        ]
    finally:
        one.stop()
        two.stop()


def test_org_file_only_seeds_an_empty_database(tmp_path: Path) -> None:
    """``serve --org FILE`` imports the file as revision 1 when nothing is stored, and leaves a
    stored organisation alone on later starts (edits made meanwhile survive a restart)."""
    from liucheng.api._core import Services

    path = tmp_path / "org.yaml"
    path.write_text(_ORG.format(role="agent"), encoding="utf-8")
    db = f"sqlite:///{tmp_path / 'seed.db'}"
    settings = Settings(database=db, org_file=str(path), org_check_s=0.0)
    first = Services(settings)
    try:
        assert first.seed_org() == 1
        first.engine.org_admin("hanna", groups=("liucheng-admins",)).update_person(
            "anna", email="anna@example.org"
        )
    finally:
        first.stop()
    again = Services(settings)
    try:
        assert again.seed_org() is None
        org = again.org()
        assert org is not None and org.people["anna"].email == "anna@example.org"
        assert [h["author"] for h in again.engine.org_admin().history()] == [None, "hanna"]
    finally:
        again.stop()


def _get_metrics(
    settings: Settings, calls: list[tuple[str, dict[str, str]]]
) -> list[tuple[int, str]]:
    """``GET /metrics`` from each (client address, headers) on one application."""
    import asyncio

    import httpx

    from liucheng.api import create_app

    app = create_app(settings)

    async def go() -> list[tuple[int, str]]:
        out = []
        for client, headers in calls:
            transport = httpx.ASGITransport(app=app, client=(client, 40000))
            async with httpx.AsyncClient(transport=transport, base_url="http://lc") as c:
                r = await c.get("/metrics", headers=headers)
                out.append((r.status_code, r.text))
        return out

    try:
        return asyncio.run(go())
    finally:
        app.state.services.stop()


def test_metrics_token(tmp_path: Path) -> None:
    db = f"sqlite:///{tmp_path / 'm.db'}"
    local, remote = _get_metrics(
        Settings(database=db, run_jobs=False), [("127.0.0.1", {}), ("10.1.2.3", {})]
    )
    assert local[0] == 200  # no token: loopback only
    assert remote[0] == 403 and "auth.forbidden" in remote[1]
    tokened = Settings(database=db, run_jobs=False, metrics_token="s3cret-metrics")
    none, bad, good = _get_metrics(
        tokened,
        [
            ("127.0.0.1", {}),
            ("10.1.2.3", {"Authorization": "Bearer nope"}),
            ("10.1.2.3", {"Authorization": "Bearer s3cret-metrics"}),
        ],
    )
    assert none[0] == 401 and bad[0] == 401
    assert good[0] == 200 and "liucheng_process_instances_active" in good[1]
