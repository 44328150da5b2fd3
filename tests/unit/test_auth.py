"""Sign-in rules without Streamlit: throttle (growing delay, lockout, per account and per
session, parallel guesses), what is logged, OIDC roles, permissions, demo accounts."""

from __future__ import annotations

import json
import logging
import stat
import subprocess
import threading

import pytest
from typer.testing import CliRunner

from churn_core import auth, cli
from churn_core.auth import (
    PUBLIC_ELIGIBLE_PAGES,
    SignInThrottle,
    ThrottlePolicy,
    can,
    create_demo_accounts,
    hash_password,
    load_accounts,
    may_open_page,
    oidc_role,
    sign_in,
)
from churn_core.config import PROJECT_ROOT, Settings, get_settings
from churn_core.i18n import catalog

pytestmark = pytest.mark.unit

PASSWORD = "a long passphrase 1"
WRONG = "Tr0ub4dor&3-wrong"
POLICY = ThrottlePolicy(base_delay_s=0.5, max_delay_s=30.0, max_failures=5, lockout_s=900.0)


class FakeClock:
    def __init__(self) -> None:
        self.now = 1000.0

    def __call__(self) -> float:
        return self.now


@pytest.fixture(scope="module")
def users() -> dict:
    return {"kim": {"password_hash": hash_password(PASSWORD), "role": "staff"}}


@pytest.fixture
def clock() -> FakeClock:
    return FakeClock()


@pytest.fixture
def throttle(clock) -> SignInThrottle:
    return SignInThrottle(POLICY, clock=clock)


def test_growing_delay_then_lockout_refuses_even_the_right_password(users, throttle, clock) -> None:
    waits = []
    for _ in range(4):
        result = sign_in(users, "kim", WRONG, session="s1", throttle=throttle)
        assert result.role is None and not result.refused
        waits.append(result.retry_after_s)
        early = sign_in(users, "kim", PASSWORD, session="s1", throttle=throttle)  # too soon: not even checked
        assert early.refused and early.role is None
        clock.now += result.retry_after_s
    assert waits == [0.5, 1.0, 2.0, 4.0]
    fifth = sign_in(users, "kim", WRONG, session="s1", throttle=throttle)
    assert fifth.locked and fifth.retry_after_s == 900.0
    clock.now += 899.0
    assert sign_in(users, "kim", PASSWORD, session="s1", throttle=throttle).locked  # the right password, still locked
    clock.now += 1.0
    assert sign_in(users, "kim", PASSWORD, session="s1", throttle=throttle).role == "staff"
    assert throttle.failures("account:kim") == 0  # a success forgets the failures


def test_a_failure_after_the_lockout_locks_again(users, throttle, clock) -> None:
    for _ in range(5):
        clock.now += 1000.0
        sign_in(users, "kim", WRONG, session="s", throttle=throttle)
    clock.now += 901.0
    again = sign_in(users, "kim", WRONG, session="s", throttle=throttle)
    assert again.locked and again.retry_after_s == 900.0


def test_a_new_session_per_guess_does_not_reset_the_account(users, throttle, clock) -> None:
    for i in range(5):
        clock.now += 60.0  # past any growing delay
        assert sign_in(users, "kim", WRONG, session=f"fresh-{i}", throttle=throttle).role is None
    clock.now += 60.0
    result = sign_in(users, "kim", PASSWORD, session="yet-another", throttle=throttle)
    assert result.role is None and result.locked and result.retry_after_s == pytest.approx(840.0)


def test_one_session_guessing_many_accounts_is_throttled(users, throttle, clock) -> None:
    first = sign_in(users, "alice", WRONG, session="s1", throttle=throttle)
    assert first.role is None and not first.refused
    other = sign_in(users, "kim", PASSWORD, session="s1", throttle=throttle)  # another account, same session
    assert other.refused and other.retry_after_s == pytest.approx(0.5)
    assert sign_in(users, "kim", PASSWORD, session="s2", throttle=throttle).role == "staff"


def test_unknown_accounts_are_throttled_like_known_ones(users, throttle, clock) -> None:
    def run(name: str) -> list:
        out = []
        for _ in range(6):
            r = sign_in(users, name, WRONG, session=f"s-{name}", throttle=throttle)
            out.append((r.role, r.refused, r.locked, r.retry_after_s))
            clock.now += r.retry_after_s
        return out

    assert run("kim") == run("nobody")


def test_parallel_guesses_on_one_account_check_at_most_one_password(users) -> None:
    throttle = SignInThrottle(POLICY)  # the real clock: the threads run within the first delay
    barrier = threading.Barrier(8, timeout=30)
    results = []

    def guess(i: int) -> None:
        barrier.wait()
        results.append(sign_in(users, "kim", f"{WRONG}{i}", session=f"p{i}", throttle=throttle))

    threads = [threading.Thread(target=guess, args=(i,)) for i in range(8)]
    for th in threads:
        th.start()
    for th in threads:
        th.join(timeout=60)
    assert len(results) == 8
    assert sum(not r.refused for r in results) == 1 and throttle.failures("account:kim") == 1


def test_sign_ins_are_logged_with_time_and_account_never_the_password(users, throttle, clock, caplog) -> None:
    caplog.set_level(logging.INFO, logger="churn_core.auth")
    sign_in(users, "kim", WRONG, session="abcdef123456", throttle=throttle)
    sign_in(users, "kim", WRONG, session="abcdef123456", throttle=throttle)  # refused: too soon
    clock.now += 10
    sign_in(users, "kim", PASSWORD, session="abcdef123456", throttle=throttle)
    sign_in(users, PASSWORD, WRONG, session="zzz", throttle=throttle)  # a password typed as the user name
    records = [r for r in caplog.records if r.name == "churn_core.auth"]
    messages = [r.getMessage() for r in records]
    assert len(records) == 4, messages
    assert "sign-in failed" in messages[0] and "account='kim'" in messages[0] and "failures=1" in messages[0]
    assert "sign-in refused" in messages[1] and "sign-in at" in messages[2] and "role=staff" in messages[2]
    assert all(r.created for r in records) and all("T" in m.split(" at ")[1][:20] for m in messages[:3])
    assert "<unknown " in messages[3]
    for text in (*messages, caplog.text):
        assert PASSWORD not in text and WRONG not in text


def test_throttle_memory_stays_bounded(clock) -> None:
    throttle = SignInThrottle(POLICY, clock=clock, max_keys=100)
    for i in range(500):
        throttle.acquire([f"account:spray-{i}"])
        throttle.record([f"account:spray-{i}"], ok=False)
        clock.now += 1
    assert len(throttle._state) <= 100


@pytest.mark.parametrize(
    ("info", "expected"),
    [
        ({"is_logged_in": True, "email": "Lee@Corp.example", "email_verified": True}, "analyst"),
        ({"is_logged_in": True, "email": "lee@corp.example", "email_verified": False}, None),
        ({"is_logged_in": True, "email": "lee@corp.example"}, None),  # no claim: not verified
        ({"is_logged_in": True, "email": "lee@corp.example", "email_verified": "true"}, None),
        ({"is_logged_in": False, "email": "lee@corp.example", "email_verified": True}, None),
        ({"is_logged_in": True, "email": "eve@corp.example", "email_verified": True}, None),
        ({"is_logged_in": True, "email": "root@corp.example", "email_verified": True}, None),  # unknown role
        ({"is_logged_in": True, "email_verified": True}, None),
    ],
)
def test_oidc_role_needs_a_verified_mapped_address(info, expected) -> None:
    roles = {"lee@corp.example": "analyst", "root@corp.example": "admin"}
    assert oidc_role(info, roles) == expected


def test_permissions_table() -> None:
    assert can("analyst", "read_customers") and can("analyst", "download_customers") and not can("analyst", "send")
    assert can("marketer", "read_customers") and can("marketer", "map") and not can("marketer", "download_customers")
    assert all(can("staff", p) for p in ("read_customers", "download_customers", "map", "send"))
    assert not can(None, "read") and not can("admin", "read")
    assert all(f"auth.perm_{p}" in catalog() for p in set().union(*auth.ROLE_PERMISSIONS.values()))
    public = ["home", "eda", "models", "map", "privacy"]
    assert may_open_page(None, "map", public) and not may_open_page(None, "scoring", public)
    assert may_open_page(None, "scoring", [*public, "scoring"]) is False  # never public, whatever the list says
    assert may_open_page("analyst", "scoring", public) and not may_open_page("analyst", "outreach", public)
    assert not may_open_page("analyst", "map", []) and may_open_page("marketer", "map", [])


def test_settings_refuse_public_customer_pages() -> None:
    assert set(Settings().public_pages) == PUBLIC_ELIGIBLE_PAGES
    with pytest.raises(ValueError, match="scoring"):
        Settings(public_pages=["home", "scoring"])


def test_demo_accounts_file_holds_only_hashes(tmp_path) -> None:
    path = tmp_path / "demo_accounts.json"
    passwords = create_demo_accounts(path)
    assert set(passwords) == {"demo-analyst", "demo-marketer", "demo-staff"}
    assert stat.S_IMODE(path.stat().st_mode) == 0o600
    text = path.read_text(encoding="utf-8")
    assert all(pw not in text for pw in passwords.values()) and "$argon2id$" in text
    assert create_demo_accounts(path) is None  # printed once: never again
    accounts = load_accounts(Settings(staff_users={}, oidc_roles={}, demo_accounts_file=path))
    assert accounts.demo and auth.authenticate(accounts.users, "demo-staff", passwords["demo-staff"]) == "staff"
    assert auth.authenticate(accounts.users, "demo-analyst", passwords["demo-staff"]) is None
    configured = {"kim": {"password_hash": "x", "role": "staff"}}
    assert load_accounts(Settings(staff_users=configured, demo_accounts_file=path)).users == configured
    assert load_accounts(Settings(oidc_roles={"a@b.c": "staff"}, demo_accounts_file=path)).users == {}
    renewed = create_demo_accounts(path, replace=True)
    assert renewed["demo-staff"] != passwords["demo-staff"]


def test_demo_accounts_file_is_git_ignored() -> None:
    path = get_settings().demo_accounts_file
    assert subprocess.run(["git", "check-ignore", "-q", str(path)], cwd=PROJECT_ROOT, check=False).returncode == 0


def test_demo_accounts_command_prints_passwords_once(monkeypatch, tmp_path) -> None:
    path = tmp_path / "demo.json"
    monkeypatch.setenv("CHURN_DEMO_ACCOUNTS_FILE", str(path))
    monkeypatch.setenv("CHURN_STAFF_USERS", "{}")
    monkeypatch.setenv("CHURN_OIDC_ROLES", "{}")
    get_settings.cache_clear()
    try:
        runner = CliRunner()
        first = runner.invoke(cli.app, ["demo-accounts"])
        assert first.exit_code == 0, first.output
        lines = {ln.split()[0]: ln.split()[1] for ln in first.output.splitlines() if ln.strip().startswith("demo-")}
        users = json.loads(path.read_text(encoding="utf-8"))["users"]
        assert auth.authenticate(users, "demo-analyst", lines["demo-analyst"]) == "analyst"
        second = runner.invoke(cli.app, ["demo-accounts"])
        assert second.exit_code == 0 and all(pw not in second.output for pw in lines.values())
        monkeypatch.setenv("CHURN_STAFF_USERS", json.dumps({"kim": {"password_hash": "x", "role": "staff"}}))
        get_settings.cache_clear()
        assert "CHURN_STAFF_USERS" in runner.invoke(cli.app, ["demo-accounts"]).output
    finally:
        get_settings.cache_clear()
