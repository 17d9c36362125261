"""The demo data generator: deterministic, contract-shaped, linked, and exactly as messy as
its manifest says."""

from __future__ import annotations

import csv
import json
from datetime import datetime, timedelta
from pathlib import Path

import duckdb
import pytest

from audience.contract import FILE_FORMATS, RAW_TABLES
from audience.generator import (
    BAD_REASONS,
    DEFAULT_AS_OF,
    EVENT_VARIANTS,
    EVENTS,
    GenerationManifest,
    canonical_email,
    generate,
)

AS_OF = "2026-06-30 00:00:00+00"


def _seed_event_names(source: str) -> set[str]:
    """The event names the warehouse maps (seeds/event_name_map.csv), normalized."""
    seed = Path(__file__).parents[2] / "seeds" / "event_name_map.csv"
    with seed.open() as handle:
        return {row["raw_name"] for row in csv.DictReader(handle) if row["event_source"] == source}


# the generator must speak the warehouse's vocabulary: every name it writes, bar the
# planted unmapped ones, is in the seed that maps event names to canonical events
KNOWN_TRACK_EVENTS = _seed_event_names("tracks")
EMAIL_EVENTS = tuple(sorted(_seed_event_names("email")))


def _reader(path: Path) -> str:
    literal = "'" + str(path) + "'"
    if path.suffix == ".parquet":
        return f"read_parquet({literal})"
    if path.suffix == ".csv":
        return f"read_csv({literal}, header = true, all_varchar = true)"
    return f"read_json({literal}, format = 'newline_delimited', records = true)"


class Raw:
    """SQL over one generated folder: ``{pages}`` etc. in a query name the table files."""

    def __init__(self, folder: Path, fmt: str = "parquet") -> None:
        self.folder = folder
        self.fmt = fmt
        self.con = duckdb.connect()
        self.con.execute("set TimeZone = 'UTC'")
        self.tables = {t: _reader(folder / f"{t}.{fmt}") for t in RAW_TABLES}

    def rows(self, sql: str) -> list[tuple]:
        return self.con.execute(sql.format(**self.tables)).fetchall()

    def scalar(self, sql: str) -> object:
        return self.rows(sql)[0][0]


@pytest.fixture(scope="module")
def big(tmp_path_factory: pytest.TempPathFactory) -> tuple[Raw, GenerationManifest]:
    folder = tmp_path_factory.mktemp("gen2000")
    manifest = generate(folder, people=2000, seed=42)
    return Raw(folder), manifest


@pytest.fixture(scope="module")
def truth(big: tuple[Raw, GenerationManifest]) -> list[dict[str, str]]:
    raw, _ = big
    with (raw.folder / "_truth" / "identifiers.csv").open(newline="", encoding="utf-8") as f:
        return list(csv.DictReader(f))


# ---- determinism ----------------------------------------------------------------------------


def _files(folder: Path) -> dict[str, bytes]:
    return {
        str(p.relative_to(folder)): p.read_bytes() for p in sorted(folder.rglob("*")) if p.is_file()
    }


@pytest.mark.parametrize("fmt", FILE_FORMATS)
def test_same_seed_gives_identical_bytes(tmp_path: Path, fmt: str) -> None:
    generate(tmp_path / "a", people=200, seed=7, fmt=fmt)
    generate(tmp_path / "b", people=200, seed=7, fmt=fmt)
    a, b = _files(tmp_path / "a"), _files(tmp_path / "b")
    assert len(a) == len(RAW_TABLES) + 2
    assert a == b


def test_different_seed_gives_different_data(tmp_path: Path) -> None:
    generate(tmp_path / "a", people=200, seed=7)
    generate(tmp_path / "b", people=200, seed=8)
    a, b = _files(tmp_path / "a"), _files(tmp_path / "b")
    assert a.keys() == b.keys()
    for name in ("pages.parquet", "tracks.parquet", "email_events.parquet"):
        assert a[name] != b[name]


# ---- the contract -----------------------------------------------------------------------------


@pytest.mark.parametrize("fmt", FILE_FORMATS)
def test_every_table_has_exactly_the_contract_columns(tmp_path: Path, fmt: str) -> None:
    manifest = generate(tmp_path, people=200, seed=3, fmt=fmt)
    raw = Raw(tmp_path, fmt)
    for name, table in RAW_TABLES.items():
        path = tmp_path / f"{name}.{fmt}"
        assert path.exists(), name
        columns = [r[0] for r in raw.rows(f"describe select * from {{{name}}}")]
        assert columns == list(table.columns), name
        assert raw.scalar(f"select count(*) from {{{name}}}") == manifest.rows[name] > 0, name
    # Everything is landed as text.
    if fmt == "parquet":
        for name in RAW_TABLES:
            types = {r[1] for r in raw.rows(f"describe select * from {{{name}}}")}
            assert types == {"VARCHAR"}, name
    saved = json.loads((tmp_path / "_manifest.json").read_text())
    assert saved == json.loads(manifest.to_json())
    assert saved["rows"] == manifest.rows and saved["bad_rows"] == manifest.bad_rows


def test_a_new_format_replaces_the_old_files(tmp_path: Path) -> None:
    generate(tmp_path, people=50, fmt="csv")
    generate(tmp_path, people=50, fmt="parquet")
    assert not list(tmp_path.glob("*.csv"))


def test_rejects_unknown_format(tmp_path: Path) -> None:
    with pytest.raises(ValueError):
        generate(tmp_path, people=50, fmt="xlsx")


# ---- the manifest is exact ----------------------------------------------------------------------


def _ts(col: str) -> str:
    return f"try_cast({col} as timestamptz)"


def _normalized(col: str) -> str:
    """An event name as the seed is keyed (macros/quality/normalize_event_name.sql)."""
    separators = f"regexp_replace(lower(trim({col})), '[ _./:-]+', '_', 'g')"
    return f"regexp_replace({separators}, '^_+|_+$', '', 'g')"


def _unmapped(col: str, known: set[str] | tuple[str, ...]) -> str:
    names = ", ".join("'" + e.replace("'", "''") + "'" for e in sorted(known))
    return f"{_normalized(col)} not in ({names})"


def _recount_web(raw: Raw, table: str) -> dict[str, int]:
    json_col = {"tracks": "properties", "identifies": "traits"}.get(table)
    checks = {
        "missing_id": "coalesce(id, '') = ''",
        "missing_identity": "coalesce(anonymous_id, '') = '' and coalesce(user_id, '') = ''",
        "invalid_timestamp": f"{_ts('timestamp')} is null",
        "future_timestamp": f"{_ts('timestamp')} > {_ts('received_at')} + interval 2 day",
        "malformed_json": f"{json_col} is not null and not json_valid({json_col})",
    }
    counts = {
        reason: raw.scalar(f"select count(*) from {{{table}}} where {checks[reason]}")
        for reason in BAD_REASONS[table]
    }
    if table != "identifies":
        counts["duplicate_id"] = raw.scalar(
            f"select count(*) - count(distinct id) from {{{table}}} where coalesce(id, '') <> ''"
        )
    return counts


@pytest.mark.parametrize("table", ["pages", "tracks", "identifies"])
def test_manifest_counts_web_defects_exactly(big: tuple[Raw, GenerationManifest], table: str):
    raw, manifest = big
    assert raw.scalar(f"select count(*) from {{{table}}}") == manifest.rows[table]
    recount = _recount_web(raw, table)
    assert recount == manifest.bad_rows[table]
    assert sum(recount.values()) > 0
    rows = manifest.rows[table]
    bad = sum(v for k, v in recount.items() if k != "duplicate_id")
    assert 0.001 * rows < bad < 0.006 * rows
    if table != "identifies":
        assert 0.003 * rows < recount["duplicate_id"] < 0.008 * rows


def test_manifest_counts_planted_unmapped_events_exactly(big: tuple[Raw, GenerationManifest]):
    """Event names the seed does not map are kept (flow through unmapped), not bad rows."""
    raw, manifest = big
    tracks = raw.scalar(
        f"select count(*) from {{tracks}} where {_unmapped('event', KNOWN_TRACK_EVENTS)}"
    )
    emails = raw.scalar(
        f"select count(*) from {{email_events}} where {_unmapped('event', EMAIL_EVENTS)}"
    )
    assert tracks == manifest.kept_rows["tracks"]["unmapped_event"] > 0
    assert emails == manifest.kept_rows["email_events"]["unmapped_event"] > 0
    assert "unknown_event" not in manifest.bad_rows["tracks"]


def test_manifest_counts_email_defects_exactly(big: tuple[Raw, GenerationManifest]) -> None:
    raw, manifest = big
    checks = {
        "missing_id": "coalesce(event_id, '') = ''",
        "missing_email": "coalesce(email, '') = ''",
        "invalid_timestamp": f"{_ts('timestamp')} is null",
    }
    recount = {
        reason: raw.scalar(f"select count(*) from {{email_events}} where {sql}")
        for reason, sql in checks.items()
    }
    recount["duplicate_id"] = raw.scalar(
        "select count(*) - count(distinct event_id) from {email_events} "
        "where coalesce(event_id, '') <> ''"
    )
    assert recount == manifest.bad_rows["email_events"]
    assert all(v > 0 for v in recount.values())
    # an ESP event dated years ahead is kept: taken as received when it happens
    dated_ahead = raw.scalar(
        "select count(*) from {email_events} "
        f"where {_ts('timestamp')} > timestamptz '{AS_OF}' + interval 1 year"
    )
    assert dated_ahead == manifest.kept_rows["email_events"]["dated_after_as_of"] > 0


def test_manifest_counts_crm_defects_exactly(big: tuple[Raw, GenerationManifest]) -> None:
    raw, manifest = big
    recount = {
        "missing_id": raw.scalar(
            "select count(*) from {crm_contacts} where coalesce(contact_id, '') = ''"
        ),
        "duplicate_id": raw.scalar(
            "select count(*) - count(distinct contact_id) from {crm_contacts} "
            "where coalesce(contact_id, '') <> ''"
        ),
    }
    assert recount == manifest.bad_rows["crm_contacts"]
    assert all(v > 0 for v in recount.values())
    # The duplicate keeps the id but is an older version of the contact.
    versions = raw.rows(
        "select count(distinct updated_at) from {crm_contacts} where contact_id in "
        "(select contact_id from {crm_contacts} where contact_id <> '' group by 1 "
        "having count(*) > 1) group by contact_id"
    )
    assert versions and all(v == (2,) for v in versions)


def test_duplicates_are_exact_copies(big: tuple[Raw, GenerationManifest]) -> None:
    raw, _ = big
    for table, key in (("pages", "id"), ("tracks", "id"), ("email_events", "event_id")):
        distinct_rows = raw.scalar(
            f"select count(*) from (select distinct * from {{{table}}} "
            f"where coalesce({key}, '') <> '')"
        )
        distinct_ids = raw.scalar(
            f"select count(distinct {key}) from {{{table}}} where coalesce({key}, '') <> ''"
        )
        assert distinct_rows == distinct_ids, table


# ---- volume and time ----------------------------------------------------------------------------


def test_volume(big: tuple[Raw, GenerationManifest]) -> None:
    _, manifest = big
    assert manifest.events >= 150_000
    assert 60 <= manifest.events / 2000 <= 100
    assert manifest.persons["b2b"] == 1300 and manifest.persons["b2c"] == 500
    assert manifest.rows["crm_companies"] == round(2000 / 6)


def test_nothing_happens_after_as_of_except_injected_defects(
    big: tuple[Raw, GenerationManifest],
) -> None:
    raw, _ = big
    start = f"timestamptz '{AS_OF}' - interval 365 day"
    for table in ("pages", "tracks", "identifies"):
        ts, rec = _ts("timestamp"), _ts("received_at")
        late, early = raw.rows(
            f"select count(*) filter ({ts} > timestamptz '{AS_OF}'), "
            f"count(*) filter ({ts} < {start}) "
            f"from {{{table}}} where not ({ts} > {rec} + interval 2 day)"
        )[0]
        assert (late, early) == (0, 0), table
        # Late arrivals exist: received a day or more after the event.
        assert raw.scalar(f"select count(*) from {{{table}}} where {rec} > {ts} + interval 1 day")
    ts = _ts("timestamp")
    assert (
        raw.scalar(
            f"select count(*) from {{email_events}} where {ts} > timestamptz '{AS_OF}' "
            f"and {ts} < timestamptz '{AS_OF}' + interval 1 year"
        )
        == 0
    )
    # Most timestamps are UTC with Z, some carry an explicit offset.
    share = raw.scalar(
        "select avg(case when timestamp like '%Z' then 0 else 1 end) from {pages} "
        "where timestamp like '20%'"
    )
    assert 0.03 < share < 0.07


# ---- linked behaviour ---------------------------------------------------------------------------


def test_anonymous_browsing_before_and_after_identify(big: tuple[Raw, GenerationManifest]) -> None:
    raw, _ = big
    good_ids = "user_id not in ('', 'null', 'anonymous', 'undefined')"
    linked = raw.rows(
        f"""
        with first_identify as (
            select anonymous_id, min(try_cast(timestamp as timestamptz)) as at
            from {{identifies}} where {good_ids} group by 1
        )
        select
            count(distinct p.anonymous_id) filter (
                where try_cast(p.timestamp as timestamptz) < f.at and p.user_id is null),
            count(distinct p.anonymous_id) filter (
                where try_cast(p.timestamp as timestamptz) > f.at and p.user_id is not null)
        from {{pages}} p join first_identify f using (anonymous_id)
        """
    )[0]
    assert linked[0] > 100 and linked[1] > 100
    # Shared devices: one anonymous id identified as two different users.
    assert raw.scalar(
        f"select count(*) from (select anonymous_id from {{identifies}} where {good_ids} "
        "group by 1 having count(distinct user_id) > 1)"
    )
    # Garbage user ids exist in identifies.
    assert raw.scalar(
        "select count(*) from {identifies} where user_id in ('null', 'anonymous', 'undefined')"
    )


def test_tracks_tell_stories(big: tuple[Raw, GenerationManifest]) -> None:
    raw, _ = big
    events = dict(raw.rows("select event, count(*) from {tracks} group by 1"))
    variants = sum(events.get(v, 0) for vs in EVENT_VARIANTS.values() for v in vs)
    canonical = sum(events.get(e, 0) for e in EVENTS)
    assert 0.12 < variants / (variants + canonical) < 0.28
    assert all(events.get(v) for v in ("cart_add", "purchase", "demo_request", "signup"))
    added_not_ordered = raw.scalar(
        """
        select count(*) from (
            select anonymous_id from {tracks}
            group by 1
            having count(*) filter (where event in ('Product Added', 'cart_add', 'add_to_cart')) > 0
               and count(*) filter (
                   where event in ('Order Completed', 'ORDER COMPLETED', 'purchase')) = 0
        )
        """
    )
    assert added_not_ordered > 10
    orders = raw.rows(
        "select properties from {tracks} where json_valid(properties) "
        "and event in ('Order Completed', 'ORDER COMPLETED', 'purchase')"
    )
    parsed = [json.loads(r[0]) for r in orders]
    assert parsed and all({"order_id", "revenue", "discount", "coupon"} <= p.keys() for p in parsed)
    assert any(p["coupon"] for p in parsed) and any(p["discount"] == 0 for p in parsed)
    started_only = raw.scalar(
        """
        select count(*) from (
            select anonymous_id from {tracks} group by 1
            having count(*) filter (where event = 'Form Started') > 0
               and count(*) filter (where event in ('Form Submitted', 'form_submit')) = 0
        )
        """
    )
    assert started_only > 10


def test_email_events_behave_like_an_esp(big: tuple[Raw, GenerationManifest]) -> None:
    raw, _ = big
    by_type = dict(raw.rows("select event, count(*) from {email_events} group by 1"))
    assert by_type["delivered"] < by_type["processed"]
    assert by_type["open"] > by_type["click"] > by_type["unsubscribe"] > by_type["spamreport"]
    machine = dict(
        raw.rows(
            "select machine_open, count(*) from {email_events} where event = 'open' group by 1"
        )
    )
    assert machine.get("true", 0) > 0 and machine.get("false", 0) > 0
    assert (
        raw.scalar(
            "select count(*) from {email_events} "
            f"where event in ({', '.join(repr(e) for e in EMAIL_EVENTS if e != 'open')}) "
            "and machine_open <> ''"
        )
        == 0
    )
    assert raw.scalar(
        "select count(*) from {email_events} where event = 'click' and url like 'https://%'"
    )
    # Bounces say their type, drops their reason; no other event says either.
    types = dict(
        raw.rows(
            "select bounce_type, count(*) from {email_events} where event = 'bounce' group by 1"
        )
    )
    assert set(types) == {"hard", "soft", "block"} and types["soft"] > types["hard"]
    reasons = dict(
        raw.rows("select reason, count(*) from {email_events} where event = 'dropped' group by 1")
    )
    assert set(reasons) == {"Bounced Address", "Spam Content (if spam checker app enabled)"}
    assert (
        raw.scalar(
            "select count(*) from {email_events} where (event <> 'bounce' and bounce_type <> '') "
            "or (event <> 'dropped' and reason <> '')"
        )
        == 0
    )
    # Nobody gets a send after unsubscribing.
    after = raw.scalar(
        """
        with unsub as (
            select email, min(try_cast(timestamp as timestamptz)) as at
            from {email_events} where event = 'unsubscribe' group by 1
        )
        select count(*) from {email_events} e join unsub u using (email)
        where e.event = 'processed' and try_cast(e.timestamp as timestamptz) > u.at
        """
    )
    assert after == 0


def test_accounts_deals_usage_and_intent(big: tuple[Raw, GenerationManifest]) -> None:
    raw, _ = big
    assert (
        raw.scalar(
            "select count(*) from {crm_deals} d left join {crm_companies} c using (company_id) "
            "where c.company_id is null"
        )
        == 0
    )
    won = raw.scalar("select count(*) from {crm_deals} where is_won = 'true'")
    assert won == raw.scalar("select count(*) from {subscriptions}") > 0
    statuses = dict(raw.rows("select status, count(*) from {subscriptions} group by 1"))
    assert statuses.get("active", 0) > 0
    # One usage row per customer per day, never after as_of.
    assert (
        raw.scalar(
            "select count(*) - count(distinct (company_id, usage_date)) from {product_usage}"
        )
        == 0
    )
    assert raw.scalar("select max(usage_date) from {product_usage}") < "2026-06-30"
    assert (
        raw.scalar(
            "select count(*) from {intent_signals} i left join {crm_companies} c "
            "on i.company_domain = c.domain where c.domain is null"
        )
        == 0
    )
    assert raw.scalar(
        "select count(*) from {crm_contacts} where email like 'info@%' or email like 'team@%'"
    )


# ---- ground truth -------------------------------------------------------------------------------


def test_truth_is_consistent_with_the_files(
    big: tuple[Raw, GenerationManifest], truth: list[dict[str, str]]
) -> None:
    raw, _ = big
    owner: dict[tuple[str, str], str] = {}
    for row in truth:
        key = (row["identifier_type"], row["identifier"])
        assert key not in owner, key  # every raw string belongs to exactly one person
        owner[key] = row["person_id"]
    kinds = {row["person_kind"] for row in truth}
    assert kinds == {"b2b", "b2c", "anonymous", "shared_mailbox"}
    assert not any(row["identifier"] in ("", "null", "anonymous", "undefined") for row in truth)

    def strings(sql: str) -> set[str]:
        return {r[0] for r in raw.rows(sql)}

    anon_raw = strings(
        "select anonymous_id from {pages} union select anonymous_id from {tracks} "
        "union select anonymous_id from {identifies}"
    )
    anon_truth = {i for t, i in owner if t == "anonymous_id"}
    assert anon_truth == anon_raw - {"", None}
    users_raw = strings(
        "select user_id from {pages} union select user_id from {tracks} "
        "union select user_id from {identifies}"
    )
    users_truth = {i for t, i in owner if t == "user_id"}
    assert users_truth == users_raw - {"", None, "null", "anonymous", "undefined"}
    emails_raw = strings(
        "select email from {identifies} union select email from {email_events} "
        "union select email from {crm_contacts}"
    )
    emails_truth = {i for t, i in owner if t == "email"}
    assert emails_truth == emails_raw - {"", None}
    contacts_raw = strings("select contact_id from {crm_contacts}") - {"", None}
    assert {i for t, i in owner if t == "crm_contact_id"} == contacts_raw
    # The same email person never spans two people after normalisation, except mailboxes.
    people_by_canonical: dict[str, set[str]] = {}
    for (t, identifier), person in owner.items():
        if t == "email":
            people_by_canonical.setdefault(canonical_email(identifier), set()).add(person)
    assert all(len(p) == 1 for p in people_by_canonical.values())


def test_truth_has_the_hard_cases(
    big: tuple[Raw, GenerationManifest], truth: list[dict[str, str]]
) -> None:
    raw, _ = big
    emails: dict[str, set[str]] = {}
    kinds: dict[str, str] = {}
    types: dict[str, set[str]] = {}
    contacts: dict[str, int] = {}
    for row in truth:
        kinds[row["person_id"]] = row["person_kind"]
        types.setdefault(row["person_id"], set()).add(row["identifier_type"])
        if row["identifier_type"] == "email":
            emails.setdefault(row["person_id"], set()).add(row["identifier"])
        if row["identifier_type"] == "crm_contact_id":
            contacts[row["person_id"]] = contacts.get(row["person_id"], 0) + 1
    variants = [e for e in emails.values() if len(e) > 1]
    assert len(variants) > 100
    flat = {e for es in emails.values() for e in es}
    assert any(e != e.strip() for e in flat)  # whitespace
    assert any("+" in e for e in flat)  # plus tags
    assert any(e.endswith("@googlemail.com") for e in flat)
    assert any(e != e.lower() for e in flat)
    # B2B people with a personal gmail next to their work address.
    assert any(
        kinds[p] == "b2b"
        and any(x.endswith("gmail.com") for x in es)
        and any(not x.endswith("gmail.com") for x in es)
        for p, es in emails.items()
    )
    # B2C shoppers known only by user id (and devices).
    assert sum(1 for p, t in types.items() if kinds[p] == "b2c" and "email" not in t) > 50
    assert all(t == {"anonymous_id"} for p, t in types.items() if kinds[p] == "anonymous")
    assert any(n > 1 for n in contacts.values())  # duplicate CRM contacts
    mailboxes = [p for p, k in kinds.items() if k == "shared_mailbox"]
    assert mailboxes and all(
        all(e.split("@")[0].lower() in ("info", "team") for e in emails[p]) for p in mailboxes
    )
    # A shared device belongs to the first person identified on it.
    shared = raw.rows(
        """
        select anonymous_id, arg_min(user_id, try_cast(timestamp as timestamptz))
        from {identifies}
        where user_id not in ('', 'null', 'anonymous', 'undefined')
          and try_cast(timestamp as timestamptz) is not null
        group by 1 having count(distinct user_id) > 1
        """
    )
    owner = {(r["identifier_type"], r["identifier"]): r["person_id"] for r in truth}
    assert shared
    for anonymous_id, first_user in shared:
        assert owner[("anonymous_id", anonymous_id)] == owner[("user_id", first_user)]


def test_as_of_and_days_are_respected(tmp_path: Path) -> None:
    as_of = datetime(2025, 1, 15, 12, 0)
    manifest = generate(tmp_path, people=100, as_of=as_of, days=30)
    assert manifest.as_of == "2025-01-15T12:00:00.000Z"
    raw = Raw(tmp_path)
    lo, hi = raw.rows(
        "select min(try_cast(timestamp as timestamptz)), max(try_cast(timestamp as timestamptz)) "
        "from {pages} where try_cast(timestamp as timestamptz) "
        "<= try_cast(received_at as timestamptz) + interval 2 day"
    )[0]
    assert hi.replace(tzinfo=None) <= as_of
    assert lo.replace(tzinfo=None) >= as_of - timedelta(days=30)
    assert DEFAULT_AS_OF.isoformat() == "2026-06-30T00:00:00+00:00"
