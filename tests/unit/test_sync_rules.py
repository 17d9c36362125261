"""Sync rules that need no warehouse: email normalization and hashing for ad platforms,
batching, the circuit breaker, and the destinations' configuration."""

from __future__ import annotations

import pytest

from audience.syncs import (
    Change,
    SyncError,
    _batches,
    _export_query,
    breaker_trips,
    hashed_email,
    load_config,
    normalize_email,
)


@pytest.mark.parametrize(
    ("email", "platform", "normalized"),
    [
        # every platform: trim and lower-case
        ("  Test@Example.COM ", "meta", "test@example.com"),
        ("\tJane.Doe@Acme.io\n", "linkedin", "jane.doe@acme.io"),
        # Google drops the dots of a gmail.com / googlemail.com local part ...
        (" John.Smith@GMail.com", "google", "johnsmith@gmail.com"),
        ("j.o.h.n@googlemail.com", "google", "john@googlemail.com"),
        # ... and only there; Meta keeps them
        ("John.Smith@gmail.com", "meta", "john.smith@gmail.com"),
        ("jane.doe@example.com", "google", "jane.doe@example.com"),
        # no platform asks for plus tags to go: they stay
        ("John.Smith+News@Gmail.com", "google", "johnsmith+news@gmail.com"),
        ("john+ads@example.com", "meta", "john+ads@example.com"),
    ],
)
def test_emails_are_normalized_as_each_platform_asks(email, platform, normalized):
    assert normalize_email(email, platform) == normalized


def test_hashes_are_sha256_hex_of_the_normalized_email():
    # published test vector: sha256("test@example.com")
    vector = "973dfe463ec85785f5f95af5ba3906eedb2d931c24e69824a89ea65dba4e813b"
    assert hashed_email(" TEST@example.com ", "meta") == vector
    assert hashed_email("Te.st@example.com", "google") != vector  # dots kept off gmail
    assert hashed_email("t.e.s.t@gmail.com", "google") == hashed_email("test@gmail.com", "meta")


def test_batches_hold_one_audience_and_one_operation_each():
    changes = [
        Change(op, f"k{i}", audience, None, {})
        for i, (audience, op) in enumerate(
            [("a", "remove"), ("a", "add"), ("a", "add"), ("a", "add"), ("b", "add")]
        )
    ]
    batches = [[c.record_key for c in batch] for batch in _batches(changes, 2)]
    assert batches == [["k0"], ["k1", "k2"], ["k3"], ["k4"]]


def test_the_shipped_destinations_load():
    configs = load_config()
    assert {c.kind for c in configs.values()} == {
        "crm_postgres",
        "audience_api",
        "ad_files",
        "webhook",
        "sequence_api",
    }
    assert configs["crm_tasks"].options["table"] == "crm_tasks"
    assert configs["lead_routing"].append_only
    # every segment's list, of the members the email channel reaches
    assert configs["marketing_lists"].channels == ()
    assert {name: c.options.get("reaches") for name, c in configs.items()} == {
        "crm": "crm",
        "crm_tasks": "crm",
        "marketing_lists": "email",
        "sequences": "email",
        "ad_audiences": "ads",
        "lead_routing": "crm",
    }


def test_a_destination_reaching_an_unknown_channel_is_refused(tmp_path):
    path = tmp_path / "syncs.yml"
    path.write_text("destinations:\n  x: {kind: webhook, model: m, fields: {a: b}, reaches: fax}\n")
    with pytest.raises(SyncError, match="destination x: reaches must be one of email, ads, crm"):
        load_config(path)


def test_a_destination_sends_only_whom_its_channel_reaches():
    configs = load_config()
    assert _export_query(configs["marketing_lists"]).endswith(
        " where \"email_reach\" = 'reachable'"
    )
    assert _export_query(configs["ad_audiences"]).endswith(
        " where channel in ('any') and \"ads_reach\" = 'reachable'"
    )


def test_a_destination_of_unknown_kind_is_refused(tmp_path):
    path = tmp_path / "syncs.yml"
    path.write_text("destinations:\n  x: {kind: fax, model: m, fields: {a: b}}\n")
    with pytest.raises(SyncError, match="destination x: kind must be one of"):
        load_config(path)


# --- secrets never shown ----------------------------------------------------------------------


def test_a_url_keeps_scheme_host_and_port_only():
    from audience.redaction import redact_url

    url = "https://bob:fakepw1234@hooks.example.com:8443/T000/B000/XXXX?api_key=FAKEKEY123&v=2"
    assert redact_url(url) == "https://hooks.example.com:8443/…?api_key=***&v=***"
    assert redact_url("http://127.0.0.1:5000") == "http://127.0.0.1:5000"
    assert redact_url("http://127.0.0.1:5000/") == "http://127.0.0.1:5000/"


def test_redact_hides_urls_tokens_query_values_and_configured_secrets():
    from audience.redaction import redact, secret_values

    url = "https://bob:fakepw1234@hooks.example.com/T000SECRET/B000?api_key=FAKEKEY123"
    secrets = secret_values(url) | secret_values("tok_abcdef")
    texts = [
        f"POST {url}: 503",
        "Max retries exceeded with url: /T000SECRET/B000/lists/a?api_key=FAKEKEY123 (refused)",
        "server said: Authorization: Bearer tok_abcdef, path /T000SECRET/B000",
        "the token tok_abcdef is invalid; decoded: /T000SECRET/B000 and FAKEKEY123",
    ]
    for text in texts:
        shown = redact(text, secrets)
        for secret in ("fakepw1234", "T000SECRET", "FAKEKEY123", "tok_abcdef"):
            assert secret not in shown, shown
    shown = redact(f"POST {url}: 503", secrets)
    assert shown == "POST https://hooks.example.com/…?api_key=***: 503"
    # ordinary text is left alone
    assert redact("where destination = ? and x", secrets) == "where destination = ? and x"


def test_each_destination_setting_it_reads_is_a_secret(monkeypatch):
    from audience.syncs import all_secrets

    configs = load_config()
    monkeypatch.setenv("AUDIENCE_LISTS_API_URL", "https://lists.example.com/v1?api_key=K3Y-lists")
    monkeypatch.setenv("AUDIENCE_LISTS_API_TOKEN", "tok-lists-123")
    monkeypatch.setenv("AUDIENCE_ROUTING_WEBHOOK_URL", "https://hooks.example.com/T0/B0/W3bh00k")
    monkeypatch.setenv("AUDIENCE_CRM_DATABASE", "dbname=crm user=sync password=crm-pass-7")
    monkeypatch.setenv("PGPASSWORD", "fake-pg-pass-42")
    monkeypatch.setenv("AUDIENCE_AD_FILES_DIR", "/data/ads")
    secrets = all_secrets(configs)
    for value in ("K3Y-lists", "tok-lists-123", "/T0/B0/W3bh00k", "crm-pass-7", "fake-pg-pass-42"):
        assert value in secrets
    assert "/data/ads" not in secrets  # a folder is not a secret
    monkeypatch.setenv("AUDIENCE_CRM_DATABASE", "audience")  # nor a database's name
    assert "audience" not in all_secrets(configs)
    assert configs["marketing_lists"].secrets() >= {"K3Y-lists", "tok-lists-123"}


def test_log_records_are_redacted_whoever_logs_them(caplog):
    import logging

    from audience.redaction import redacting_logs

    caplog.set_level(logging.DEBUG)
    with redacting_logs({"FAKEKEY123"}):
        logging.getLogger("urllib3.connectionpool").warning(
            "Retrying after %s: %s", "refused", "/hook?api_key=FAKEKEY123"
        )
    logging.getLogger("audience").warning("after: %s", "FAKEKEY123")  # the context is over
    assert caplog.records[0].getMessage() == "Retrying after refused: /hook?api_key=***"
    assert "FAKEKEY123" not in caplog.records[0].getMessage()
    assert caplog.records[1].getMessage() == "after: FAKEKEY123"


LIMITS = {"max_remove_share": 0.3, "max_change_share": 0.5, "min_protected_records": 5}


def trips(held, removes=None, changes=None, **limits):
    found = breaker_trips(held, removes or {}, changes or {}, **{**LIMITS, **limits})
    return [(t.audience, t.op, t.count, t.held) for t in found]


def test_a_small_list_emptied_or_rewritten_trips_the_breaker():
    assert trips({"vip": 10}, removes={"vip": 10}) == [("vip", "remove", 10, 10)]
    assert trips({"vip": 10}, changes={"vip": 10}) == [("vip", "change", 10, 10)]
    # the smallest protected audience: 5 records, all removed
    assert trips({"vip": 5}, removes={"vip": 5}) == [("vip", "remove", 5, 5)]


def test_every_crm_contact_changed_trips_the_change_limit():
    assert trips({"crm": 400}, changes={"crm": 400}) == [("crm", "change", 400, 400)]
    assert trips({"crm": 400}, changes={"crm": 201}) == [("crm", "change", 201, 400)]


def test_a_first_sync_and_daily_churn_go_through():
    # a first sync: the destination holds nothing of the audience yet
    assert trips({}, changes={"vip": 10}) == []
    # daily churn: a few removed and changed, within the shares
    assert trips({"vip": 10, "crm": 400}, removes={"vip": 3}, changes={"crm": 200}) == []
    # the limits are shares: at the limit is allowed, above it is not
    assert trips({"vip": 10}, removes={"vip": 3}, changes={"vip": 5}) == []
    assert trips({"vip": 10}, removes={"vip": 5}) == [("vip", "remove", 5, 10)]
    # fewer records than the floor is churn, whatever the share: a small windowed segment
    # of 7 losing 4 in a day (measured on demo data)
    assert trips({"browsers": 7}, removes={"browsers": 4}) == []


def test_audiences_under_the_floor_are_not_protected():
    # fewer than min_protected_records can never be at least that many removed or changed
    assert trips({"tiny": 4}, removes={"tiny": 4}, changes={"tiny": 4}) == []
    assert trips({"tiny": 4}, removes={"tiny": 4}, min_protected_records=1) == [
        ("tiny", "remove", 4, 4)
    ]


def test_a_trip_says_what_it_saw_and_which_setting_it_hit():
    (trip,) = breaker_trips({"crm": 400}, {}, {"crm": 400}, **LIMITS)
    assert trip.describe() == (
        "audience crm: holds 400, would change 400 (100%, limit max_change_share 50%)"
    )


def test_the_shipped_destinations_limit_changes_and_protect_small_audiences():
    configs = load_config()
    for config in configs.values():
        assert 0 < config.max_change_share < 1  # changing every record is always refused
        assert 1 <= config.min_protected_records <= 10
    # the lists and ad audiences change a member's fields rarely; the CRM's scores daily
    assert configs["marketing_lists"].max_change_share == 0.5
    assert configs["crm"].max_change_share == 0.9
