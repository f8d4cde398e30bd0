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
