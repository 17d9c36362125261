"""Sync rules that need no warehouse: email normalization and hashing for ad platforms,
batching, and the destinations' configuration."""

from __future__ import annotations

import pytest

from audience.syncs import (
    Change,
    SyncError,
    _batches,
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
    }
    assert configs["lead_routing"].append_only
    assert configs["marketing_lists"].channels == ("email", "any")


def test_a_destination_of_unknown_kind_is_refused(tmp_path):
    path = tmp_path / "syncs.yml"
    path.write_text("destinations:\n  x: {kind: fax, model: m, fields: {a: b}}\n")
    with pytest.raises(SyncError, match="destination x: kind must be one of"):
        load_config(path)
