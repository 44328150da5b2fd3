"""Unsubscribe tokens and the opt-out they record: signatures, no expiry, the generated key file,
and the write on both warehouse backends (DuckDB and the BigQuery emulator)."""

from __future__ import annotations

import datetime as dt
import os
import stat
import threading
import time
import uuid

import pytest
from itsdangerous.timed import TimestampSigner

from churn_core.config import Settings
from churn_core.outreach import unsubscribe
from churn_core.outreach.unsubscribe import InvalidTokenError

pytestmark = pytest.mark.api

KEY = "k" * 20 + "-test-key-not-secret"


def test_a_token_binds_customer_channel_campaign_and_issue_time() -> None:
    before = dt.datetime.now(dt.UTC).replace(microsecond=0)
    token = unsubscribe.mint("7590-VHVEG", KEY, "sms", "camp-1")
    assert len(token) < 200 and set(token) <= set("ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_.")
    got = unsubscribe.verify(token, KEY)
    assert (got.customer_id, got.channel, got.campaign_id) == ("7590-VHVEG", "sms", "camp-1")
    assert before <= got.issued_at <= dt.datetime.now(dt.UTC) and len(got.token_id) == 16
    assert got.evidence.startswith(f"token {got.token_id}; campaign camp-1; issued ")
    assert unsubscribe.mint("7590-VHVEG", KEY) != unsubscribe.mint("7590-VHVEG", KEY + "x")  # keyed
    for bad in ({"customer_id": ""}, {"customer_id": "x" * 65}, {"channel": "fax"}):
        args = {"customer_id": "7590-VHVEG", "channel": "email"} | bad
        with pytest.raises(ValueError):
            unsubscribe.mint(args["customer_id"], KEY, args["channel"])


def test_a_five_year_old_link_still_works(monkeypatch) -> None:
    five_years_ago = int(time.time()) - 5 * 365 * 86_400
    monkeypatch.setattr(TimestampSigner, "get_timestamp", lambda self: five_years_ago)  # the signer's clock hook
    token = unsubscribe.mint("7590-VHVEG", KEY)
    monkeypatch.undo()
    got = unsubscribe.verify(token, KEY)
    assert got.customer_id == "7590-VHVEG" and got.issued_at.year == dt.datetime.now(dt.UTC).year - 5


@pytest.mark.parametrize(
    "mangle",
    [
        lambda tok: unsubscribe.mint("7590-VHVEG", KEY + "-other"),  # another key
        # one character of the signature: its first (the last one's low bits are base64 padding, not signature)
        lambda tok: _flip_signature(tok),
        lambda tok: tok.split(".")[0][:-2] + "x" + tok.split(".", 1)[1],  # the payload
        lambda tok: tok[: len(tok) // 2],  # truncated
        lambda tok: "",
        lambda tok: None,
        lambda tok: tok + "A" * 1_000,  # oversized
        lambda tok: __import__("itsdangerous").URLSafeTimedSerializer(KEY).dumps({"c": "7590-VHVEG", "ch": "email"}),
        lambda tok: unsubscribe._serializer(KEY).dumps(["7590-VHVEG", "email"]),  # signed, but not a token's shape
        lambda tok: unsubscribe._serializer(KEY).dumps({"c": "7590-VHVEG", "ch": "fax"}),
    ],
    ids=["other_key", "signature", "payload", "truncated", "empty", "none", "oversized", "no_salt", "list", "channel"],
)
def test_forged_altered_and_garbled_tokens_are_refused(mangle) -> None:
    with pytest.raises(InvalidTokenError):
        unsubscribe.verify(mangle(unsubscribe.mint("7590-VHVEG", KEY)), KEY)


def test_the_link_keeps_other_parameters_and_the_fragment() -> None:
    token = unsubscribe.mint("7590-VHVEG", KEY)
    url = unsubscribe.with_token("https://example.com/privacy?lang=en&token=old#opt-out", token)
    assert url == f"https://example.com/privacy?lang=en&token={token}#opt-out"


def test_the_generated_key_is_made_once_private_and_shared_by_a_concurrent_first_use(tmp_path) -> None:
    settings = Settings(unsubscribe_secret=None, unsubscribe_secret_file=tmp_path / "keys" / ".unsubscribe_secret")
    keys: list[str] = []
    threads = [threading.Thread(target=lambda: keys.append(unsubscribe.secret(settings))) for _ in range(8)]
    for th in threads:
        th.start()
    for th in threads:
        th.join(timeout=10)
    path = settings.unsubscribe_secret_file
    assert len(keys) == 8 and len(set(keys)) == 1 and len(keys[0]) >= 64
    assert stat.S_IMODE(path.stat().st_mode) == 0o600
    assert sorted(p.name for p in path.parent.iterdir()) == [path.name]  # no temporary files left
    path.chmod(0o644)  # a careless copy
    assert unsubscribe.secret(settings) == keys[0] and stat.S_IMODE(path.stat().st_mode) == 0o600
    path.write_text("short\n")
    with pytest.raises(ValueError, match="delete it to regenerate"):
        unsubscribe.secret(settings)
    with pytest.raises(ValueError, match="at least 32"):
        unsubscribe.secret(Settings(unsubscribe_secret="too-short"))
    assert unsubscribe.secret(Settings(unsubscribe_secret=KEY)) == KEY


def test_no_usable_key_means_unavailable_not_a_crash(tmp_path) -> None:
    blocker = tmp_path / "not-a-dir"
    blocker.write_text("")
    settings = Settings(unsubscribe_secret=None, unsubscribe_secret_file=blocker / ".unsubscribe_secret")
    outcome = unsubscribe.check(unsubscribe.mint("7590-VHVEG", KEY), settings)
    assert (outcome.status, outcome.reason) == ("unavailable", "signing_key")
    assert not os.path.exists(blocker / ".unsubscribe_secret")


def test_the_opt_out_is_recorded_in_the_consent_history_on_both_backends(warehouse) -> None:
    settings = Settings(unsubscribe_secret=KEY)
    customer = f"OPTOUT-{uuid.uuid4().hex[:8]}"
    token = unsubscribe.mint(customer, KEY, "email", "camp-bq")
    assert unsubscribe.opt_out(warehouse, token[:-3], settings).status == "invalid"
    outcome = unsubscribe.opt_out(warehouse, token, settings, source="privacy_form")
    assert outcome.status == "recorded" and outcome.when_kst
    rows = warehouse.query("SELECT * FROM {consent_events} WHERE customer_id = @c", {"c": customer})
    assert len(rows) == 1
    row = rows.iloc[0]
    assert (row["channel"], row["event"], row["source"], row["recorded_by"]) == (
        "email", "withdrawn", "privacy_form", "recipient"
    )  # fmt: skip
    assert row["evidence"] == unsubscribe.verify(token, KEY).evidence
    with pytest.raises(ValueError, match="source"):
        unsubscribe.opt_out(warehouse, token, settings, source="anything")


def _flip_signature(token: str) -> str:
    payload, stamp, signature = token.rsplit(".", 2)
    return f"{payload}.{stamp}." + ("A" if signature[0] != "A" else "B") + signature[1:]
