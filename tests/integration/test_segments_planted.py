"""Each catalog segment has its planted members and leaves out its planted near-misses.

The planted people are added to a generated demo data set (so they sit among realistic
noise) and the whole warehouse is built as of 2026-06-30.

Membership says who qualifies, whatever the channel: every segment has planted members whose
email channel is closed (one reason each, SUPPRESSED), and a cart abandoner without an email.
They are members; no email destination sends them, and report_destination_reach counts them.
"""

from __future__ import annotations

import json
import shutil
from datetime import datetime
from pathlib import Path

import pytest
from planting import Planting
from warehouses import DAILY_BUILD, BuiltWarehouse, environment

from audience.consent import suppress
from audience.dbt import run_dbt
from audience.diff import SAMPLE_SIZE, diff_projects
from audience.loader import load_dir
from audience.project import project_dir
from audience.syncs import _export_query, load_config
from audience.warehouse import DuckDBWarehouse

pytestmark = pytest.mark.slow

AS_OF = datetime(2026, 6, 30)

#: segment -> (planted members, planted non-members)
EXPECTED: dict[str, tuple[set[str], set[str]]] = {
    "recent_visitor_unconverted": ({"rv_in"}, {"rv_out", "tofu_converted"}),
    # unsubscribed, yet qualified: a member the email channel does not reach
    "tofu_content_engaged": ({"tofu_in", "tofu_unsubscribed"}, {"tofu_converted"}),
    "early_intent_account": ({"pair_a", "pair_b", "intent_in"}, {"intent_low"}),
    "engaged_target_account": ({"fi_in"}, {"target_idle"}),
    "decision_stage_viewer": ({"dsv_in"}, {"dsv_customer", "dsv_old"}),
    "buying_committee": ({"committee_a", "committee_b", "committee_c"}, {"pair_a", "pair_b"}),
    "fit_and_intent": ({"fi_in"}, {"fi_lowfit"}),
    "declining_usage": ({"decl_in"}, {"cust_in"}),
    "competitor_researcher": ({"comp_in"}, {"comp_prospect"}),
    "renewal_at_risk": ({"renew_in"}, {"cust_in"}),
    "power_user_advocate": ({"power_in"}, {"cust_in"}),
    "lapsed_lead_60_90": ({"lapsed_in"}, {"lapsed_recent", "webd_in"}),
    "churned_customer": ({"churn_in"}, {"cust_in"}),
    "email_dormant": ({"dormant_in", "dormant_unsub"}, {"streak_in"}),
    "web_dormant_6m": ({"webd_in"}, {"webd_out"}),
    "hot_return_visitor": ({"hot_in"}, {"hot_gap"}),
    "pricing_repeat_viewer": ({"prv_in"}, {"prv_two"}),
    "demo_requested": ({"demo_in"}, {"demo_old"}),
    "form_abandoner": ({"fa_in"}, {"fa_submitted"}),
    "demo_page_bouncer": ({"dpb_in"}, {"dpb_requested"}),
    "email_streak_opener": ({"streak_in"}, {"streak_machine", "dormant_in"}),
    "email_cta_clicker": ({"click_in"}, {"click_old"}),
    "review_site_clicker": ({"review_in"}, {"review_old"}),
    # the three return patterns, each its own window: a hot return a month ago is none
    "researching_return_visitor": ({"rr_in"}, {"rr_old", "hot_in", "fv_in"}),
    "first_visit_in_6_months": ({"fv_in"}, {"rr_in", "webd_in", "fv_old"}),
    "case_study_reader": ({"cs_in"}, {"cs_old"}),
    "integration_guide_reader": ({"ig_in"}, {"committee_a"}),
    "demo_video_viewer": ({"vid_in"}, {"vid_old"}),
    # topic pages: the product and feature pages (var segments__topic_page_categories)
    "topic_page_visitor": ({"topic_in", "hot_in"}, {"tofu_in", "topic_old"}),
    # time on page: the gap to the next page view, or the source's engaged seconds
    "engaged_reader": ({"read_in", "read_source"}, {"read_skim", "power_in"}),
    # cart_noaddr's events carry a user id only: a member all the same
    "cart_abandoner": ({"cart_in", "cart_noaddr"}, {"cart_ordered", "cart_fresh"}),
    "category_browser": ({"cat_in"}, {"cat_bought"}),
    "price_sensitive_shopper": ({"price_in"}, {"price_full"}),
    "loyalty_member": ({"loyal_in"}, {"cart_in"}),
    "customer": ({"cust_in", "price_in"}, {"churn_in", "rv_in"}),
    "nurture": ({"webd_in"}, {"rv_in", "cust_in"}),
    "executive_audience": ({"exec_in"}, {"exec_champion"}),
    "mql_routed": ({"fi_in"}, {"fi_lowfit"}),
}

#: planted member -> the reason their email channel is closed (marts.contact_suppressions):
#: at least one in every segment, every email reason at least twice
SUPPRESSED: dict[str, str] = {
    "rv_in": "spam_complaint",
    "tofu_in": "unsubscribed",
    "intent_in": "crm_opt_out",
    "fi_in": "hard_bounce",
    "dsv_in": "dropped_spam_reporting_address",
    "committee_a": "crm_opt_out",
    "decl_in": "dropped_unsubscribed_address",
    "comp_in": "dropped_bounced_address",
    "renew_in": "repeated_soft_bounces",
    "power_in": "manual",
    "lapsed_in": "spam_complaint",
    "churn_in": "unsubscribed",
    "dormant_in": "manual",
    "webd_in": "hard_bounce",
    "hot_in": "dropped_spam_reporting_address",
    "prv_in": "dropped_unsubscribed_address",
    "demo_in": "dropped_bounced_address",
    "fa_in": "repeated_soft_bounces",
    "dpb_in": "spam_complaint",
    "streak_in": "unsubscribed",
    "click_in": "spam_complaint",
    "review_in": "hard_bounce",
    "cart_in": "repeated_soft_bounces",
    "cat_in": "dropped_bounced_address",
    "price_in": "manual",
    "loyal_in": "unsubscribed",
    "cust_in": "crm_opt_out",
    "exec_in": "hard_bounce",
    "rr_in": "fatigued",
    "fv_in": "spam_complaint",
    "cs_in": "unsubscribed",
    "ig_in": "hard_bounce",
    "vid_in": "crm_opt_out",
    "topic_in": "fatigued",
    "read_in": "repeated_soft_bounces",
    # the segment's own near-misses of before: unsubscribed members now
    "tofu_unsubscribed": "unsubscribed",
    "dormant_unsub": "unsubscribed",
}
#: planted members who stay reachable by email: a group unsubscribe closes one group only,
#: a global resubscribe lifts a global unsubscribe, one soft bounce is not a streak, and a
#: manual suppression of ads leaves email open
EMAIL_REACHABLE = {"pair_a", "pair_b", "committee_b", "committee_c"}
#: planted member -> channel suppressed by hand (`audience suppress`)
MANUAL = {"power_in": "email", "dormant_in": "email", "price_in": "email", "committee_c": "ads"}


def close_email_channels(p: Planting) -> None:
    """Give each SUPPRESSED member the evidence of their reason (manual ones are entered in
    the warehouse before the build), and the EMAIL_REACHABLE ones evidence that does not
    close the channel."""
    for key, reason in SUPPRESSED.items():
        person = p.people[key]
        if reason == "spam_complaint":
            p.esp_event(person, "spamreport", 6)
        elif reason == "unsubscribed":
            p.esp_event(person, "unsubscribe", 0.5)
        elif reason == "hard_bounce":
            p.esp_event(person, "bounce", 6, bounce_type="hard")
        elif reason.startswith("dropped_"):
            words = reason.removeprefix("dropped_").replace("_", " ").title()
            p.esp_event(person, "dropped", 6, reason=words)  # e.g. Bounced Address
        elif reason == "repeated_soft_bounces":
            for days_ago in (9, 6, 3):
                p.esp_event(person, "bounce", days_ago, bounce_type="soft")
        elif reason == "crm_opt_out":
            p.opt_out_in_crm(person)
        elif reason == "fatigued":
            p.deliveries(person, ["none"] * 5)  # the last 5 sends ignored
    p.esp_event(p.people["pair_a"], "group_unsubscribe", 5, unsubscribe_group_id="newsletter")
    p.esp_event(p.people["pair_b"], "unsubscribe", 8)
    p.esp_event(p.people["pair_b"], "resubscribe", 4)
    p.esp_event(p.people["committee_b"], "bounce", 4, bounce_type="soft")


def plant(p: Planting) -> None:
    # lead generation
    rv_in = p.person("rv_in")
    p.page(rv_in, "/docs/setup", days_ago=13.5)
    rv_out = p.person("rv_out")
    p.page(rv_out, "/docs/setup", days_ago=15.5)
    tofu_in = p.person("tofu_in")
    p.page(tofu_in, "/blog/launch", days_ago=10)
    tofu_converted = p.person("tofu_converted")
    p.page(tofu_converted, "/blog/launch", days_ago=10)
    p.track(tofu_converted, "Form Submitted", days_ago=9)
    tofu_unsubscribed = p.person("tofu_unsubscribed")
    p.page(tofu_unsubscribed, "/blog/launch", days_ago=10)
    p.email(tofu_unsubscribed, "unsubscribe", 30, "msg_unsub")

    pair = p.company("pairco")
    for key in ("pair_a", "pair_b"):
        p.page(p.person(key, company_id=pair, crm=True), "/product", days_ago=5)
    intent_co = p.company("intentco")
    p.intent(intent_co, 80)
    p.person("intent_in", company_id=intent_co, crm=True)
    low_co = p.company("lowco")
    p.intent(low_co, 30)
    p.page(p.person("intent_low", company_id=low_co, crm=True), "/product", days_ago=5)

    # sales acceleration
    fit_co = p.company("fitco", industry="software", employees=5000, target=True)
    fi_in = p.person("fi_in", company_id=fit_co, crm=True, persona="decision_maker")
    for hours in range(5):
        p.page(fi_in, "/pricing", hours_ago=hours + 1)
    p.track(fi_in, "Demo Requested", hours_ago=0.5)
    p.person("target_idle", company_id=fit_co, crm=True)
    fi_lowfit = p.person("fi_lowfit")
    for hours in range(5):
        p.page(fi_lowfit, "/pricing", hours_ago=hours + 1)
    p.track(fi_lowfit, "Demo Requested", hours_ago=0.5)
    dsv_in = p.person("dsv_in")
    p.page(dsv_in, "/security", days_ago=3)
    dsv_old = p.person("dsv_old")
    p.page(dsv_old, "/security", days_ago=15.5)
    committee = p.company("committeeco")
    for key in ("committee_a", "committee_b", "committee_c"):
        p.page(p.person(key, company_id=committee, crm=True), "/integrations/crm", days_ago=3)

    # retention
    cust_co = p.company("custco")
    p.subscription(cust_co, "active", renews_in_days=200)
    p.usage(cust_co, prior_per_day=100, recent_per_day=100)
    p.person("cust_in", company_id=cust_co, crm=True)
    dsv_customer = p.person("dsv_customer", company_id=cust_co, crm=True)
    p.page(dsv_customer, "/pricing", days_ago=3)
    comp_in = p.person("comp_in", company_id=cust_co, crm=True)
    p.page(comp_in, "/compare/acme-vs-initech", days_ago=5)
    comp_prospect = p.person("comp_prospect")
    p.page(comp_prospect, "/compare/acme-vs-initech", days_ago=5)
    power_in = p.person("power_in", company_id=cust_co, crm=True)
    for hours in range(30):  # 60 points a day old: engagement 74
        p.page(power_in, f"/docs/page-{hours}", hours_ago=hours + 1)
    decl_co = p.company("declco")
    p.subscription(decl_co, "active", renews_in_days=200)
    p.usage(decl_co, prior_per_day=100, recent_per_day=20)
    p.person("decl_in", company_id=decl_co, crm=True)
    renew_co = p.company("renewco")
    p.subscription(renew_co, "active", renews_in_days=60)
    p.person("renew_in", company_id=renew_co, crm=True)
    churn_co = p.company("churnco")
    p.subscription(churn_co, "churned", renews_in_days=-30)
    p.person("churn_in", company_id=churn_co, crm=True)

    # re-engagement
    lapsed_in = p.person("lapsed_in")
    p.page(lapsed_in, "/docs/setup", days_ago=75)
    lapsed_recent = p.person("lapsed_recent")
    p.page(lapsed_recent, "/docs/setup", days_ago=50)
    dormant_in = p.person("dormant_in")
    p.deliveries(dormant_in, ["none"] * 5)
    dormant_unsub = p.person("dormant_unsub")
    p.deliveries(dormant_unsub, ["none"] * 5)
    p.email(dormant_unsub, "unsubscribe", 1, "msg_dormant_unsub_4")
    webd_in = p.person("webd_in", first_seen_days_ago=300)
    p.page(webd_in, "/docs/setup", days_ago=200)
    webd_out = p.person("webd_out")
    p.page(webd_out, "/docs/setup", days_ago=170)

    # triggers
    hot_in = p.person("hot_in")
    p.page(hot_in, "/product", hours_ago=30)
    p.page(hot_in, "/product", hours_ago=10)
    hot_gap = p.person("hot_gap")
    p.page(hot_gap, "/product", hours_ago=60)
    p.page(hot_gap, "/product", hours_ago=10)
    prv_in = p.person("prv_in")
    for days_ago in (6.5, 3, 1):
        p.page(prv_in, "/pricing", days_ago=days_ago)
    prv_two = p.person("prv_two")
    for days_ago in (8.5, 3, 1):
        p.page(prv_two, "/pricing", days_ago=days_ago)
    p.track(p.person("demo_in"), "Demo Requested", days_ago=2)
    p.track(p.person("demo_old"), "Demo Requested", days_ago=10)
    p.track(p.person("fa_in"), "Form Started", days_ago=2)
    fa_submitted = p.person("fa_submitted")
    p.track(fa_submitted, "Form Started", days_ago=2)
    p.track(fa_submitted, "Form Submitted", days_ago=1.9)
    p.page(p.person("dpb_in"), "/demo", days_ago=1)
    dpb_requested = p.person("dpb_requested")
    p.page(dpb_requested, "/demo", days_ago=1)
    p.track(dpb_requested, "Demo Requested", days_ago=0.9)
    p.deliveries(p.person("streak_in"), ["none", "human", "human", "human"])
    p.deliveries(p.person("streak_machine"), ["machine", "machine", "machine"])
    click_in = p.person("click_in")
    p.email(click_in, "delivered", 3.1, "msg_click_in")
    p.email(click_in, "click", 3, "msg_click_in")
    click_old = p.person("click_old")
    p.email(click_old, "delivered", 20.1, "msg_click_old")
    p.email(click_old, "click", 20, "msg_click_old")
    p.track(p.person("review_in"), "Review Site Clicked", days_ago=5)
    p.track(p.person("review_old"), "Review Site Clicked", days_ago=20)
    rr_in = p.person("rr_in")
    p.page(rr_in, "/docs/setup", days_ago=30)
    p.page(rr_in, "/docs/setup", days_ago=3)
    rr_old = p.person("rr_old")  # came back after 30 days, but 10 days ago
    p.page(rr_old, "/docs/setup", days_ago=40)
    p.page(rr_old, "/docs/setup", days_ago=10)
    fv_in = p.person("fv_in")
    p.page(fv_in, "/docs/setup", days_ago=250)
    p.page(fv_in, "/docs/setup", days_ago=2)
    fv_old = p.person("fv_old")  # back after 8 months, but 20 days ago
    p.page(fv_old, "/docs/setup", days_ago=260)
    p.page(fv_old, "/docs/setup", days_ago=20)
    p.page(p.person("cs_in"), "/case-studies/initech", days_ago=5)
    p.page(p.person("cs_old"), "/case-studies/initech", days_ago=20)
    ig_in = p.person("ig_in")
    p.page(ig_in, "/integrations/salesforce", days_ago=4)
    p.page(ig_in, "/integrations/slack", days_ago=2)
    p.track(p.person("vid_in", crm=True), "Video Watched", days_ago=3, video_id="vid_demo")
    p.track(p.person("vid_old"), "Video Watched", days_ago=20, video_id="vid_demo")
    p.page(p.person("topic_in"), "/features/segments", days_ago=2)
    p.page(p.person("topic_old"), "/features/segments", days_ago=20)
    read_in = p.person("read_in")  # six minutes on the guide before the next page
    p.page(read_in, "/blog/long-guide", hours_ago=5)
    p.page(read_in, "/blog/next", hours_ago=4.9)
    p.page(p.person("read_source"), "/blog/long-guide", days_ago=2, engaged_seconds=600)
    read_skim = p.person("read_skim")  # half a minute, then another page
    p.page(read_skim, "/blog/long-guide", hours_ago=5)
    p.page(read_skim, "/blog/next", hours_ago=4.99)
    p.page(read_skim, "/blog/third", hours_ago=4.98, engaged_seconds=20)

    # B2C
    cart_in = p.person("cart_in")
    p.track(cart_in, "Product Added", days_ago=2, category="shoes")
    cart_ordered = p.person("cart_ordered")
    p.track(cart_ordered, "Product Added", days_ago=2, category="shoes")
    p.track(cart_ordered, "Order Completed", days_ago=1.9, category="shoes", revenue=50)
    cart_noaddr = p.person("cart_noaddr", email=False)
    p.track(cart_noaddr, "Product Added", days_ago=2, category="shoes")
    cart_fresh = p.person("cart_fresh")
    p.track(cart_fresh, "Checkout Started", hours_ago=3)
    cat_in = p.person("cat_in")
    for days_ago in (5, 4, 3):
        p.track(cat_in, "Product Viewed", days_ago=days_ago, category="outerwear")
    cat_bought = p.person("cat_bought")
    for days_ago in (5, 4, 3):
        p.track(cat_bought, "Product Viewed", days_ago=days_ago, category="outerwear")
    p.track(cat_bought, "Order Completed", days_ago=40, category="outerwear", revenue=90)
    price_in = p.person("price_in")
    for days_ago, coupon in ((30, "SPRING15"), (20, "VIP20"), (10, None)):
        p.track(price_in, "Order Completed", days_ago=days_ago, revenue=40, coupon=coupon)
    price_full = p.person("price_full")
    for days_ago in (30, 20, 10):
        p.track(price_full, "Order Completed", days_ago=days_ago, revenue=40)
    p.person("loyal_in", loyalty_tier="gold")

    # lifecycle
    exec_co = p.company("execco")
    p.person("exec_in", company_id=exec_co, crm=True, persona="decision_maker")
    p.person("exec_champion", company_id=exec_co, crm=True, persona="champion")

    # hygiene: a CRM record not verified in 400 days gets a re-verification task
    p.person("stale_crm", company_id=exec_co, crm=True, verified_days_ago=400)


@pytest.fixture(scope="module")
def planted_warehouse(tmp_path_factory):
    from audience.generator import generate

    root = tmp_path_factory.mktemp("planted")
    generate(root / "generated", people=200, seed=5, as_of=AS_OF)
    planting = Planting(AS_OF)
    plant(planting)
    close_email_channels(planting)
    data = planting.write_with(root / "generated", root / "data")
    path = root / "planted.duckdb"
    with environment(AUDIENCE_DUCKDB_PATH=str(path)):
        warehouse = DuckDBWarehouse(path)
        try:
            load_dir(data, warehouse)
            for key, channel in MANUAL.items():
                suppress(warehouse, str(planting.people[key].email), channel, "planted")
        finally:
            warehouse.close()
        run_dbt(DAILY_BUILD, target="duckdb", as_of=AS_OF)
    built = BuiltWarehouse("duckdb", data, AS_OF, path=path)
    contact_of = {}
    for key, person in planting.people.items():
        rows = built.query(
            "select contact_key from marts.identity_map "
            f"where identifier_type = 'user_id' and identifier = '{person.user_id}'"
        )
        contact_of[key] = rows[0][0]
    return built, contact_of


def members(warehouse, segment_id: str) -> set[str]:
    rows = warehouse.query(
        f"select contact_key from marts.segment_membership where segment_id = '{segment_id}'"
    )
    return {row[0] for row in rows}


@pytest.mark.parametrize("segment_id", sorted(EXPECTED))
def test_segment_has_its_planted_members_only(planted_warehouse, segment_id):
    warehouse, contact_of = planted_warehouse
    inside, outside = EXPECTED[segment_id]
    found = members(warehouse, segment_id)
    missing = {key for key in inside if contact_of[key] not in found}
    intruders = {key for key in outside if contact_of[key] in found}
    assert (missing, intruders) == (set(), set())


def test_every_catalog_segment_is_checked_but_the_lookalikes(planted_warehouse):
    warehouse, _ = planted_warehouse
    catalog = {row[0] for row in warehouse.query("select segment_id from marts.segments")}
    # lookalikes depend on the centroid of all customers: covered by its YAML docs and the
    # similarity bound test below, not by a planted person
    assert catalog - set(EXPECTED) == {"lookalike_best_customers"}
    assert len(catalog) == 39


def test_lookalikes_are_non_customers_above_the_similarity_bound(planted_warehouse):
    warehouse, _ = planted_warehouse
    rows = warehouse.query(
        "select contacts.is_customer, membership.reason "
        "from marts.segment_membership as membership "
        "inner join marts.contacts on membership.contact_key = contacts.contact_key "
        "where membership.segment_id = 'lookalike_best_customers'"
    )
    assert rows, "the demo data has lookalikes"
    assert not any(is_customer for is_customer, _ in rows)
    for _, reason in rows:
        similarity = int(reason.split("similarity ")[1].split(" ")[0])
        assert similarity >= 85


def test_primary_segment_is_the_highest_priority_membership(planted_warehouse):
    warehouse, contact_of = planted_warehouse
    primary = dict(
        warehouse.query(
            "select contact_key, primary_segment_id from marts.contacts "
            "where primary_segment_id is not null"
        )
    )
    assert primary[contact_of["fi_in"]] == "mql_routed"
    wrong = warehouse.query(
        """
        select contacts.contact_key
        from marts.contacts
        inner join marts.segments on contacts.primary_segment_id = segments.segment_id
        inner join marts.segment_membership as membership
            on contacts.contact_key = membership.contact_key
        inner join marts.segments as other on membership.segment_id = other.segment_id
        where other.priority < segments.priority
        """
    )
    assert wrong == []


def test_routing_queue_has_owner_and_evidence(planted_warehouse):
    warehouse, contact_of = planted_warehouse
    row = warehouse.query(
        "select owner_id, routing_reason, lead_score from marts.mql_routing_queue "
        f"where contact_key = '{contact_of['fi_in']}'"
    )
    assert row and row[0][0] == "O_planted"
    assert "lead score" in row[0][1] and row[0][2] >= 60


def sent_by(warehouse: BuiltWarehouse, destination: str, column: str) -> set[str]:
    """What a destination of syncs.yml would send of its export: its sync's own query."""
    query = _export_query(load_config()[destination])
    return {row[0] for row in warehouse.query(f"select {column} from ({query}) as sent")}


def test_no_suppressed_member_reaches_an_email_destination(planted_warehouse):
    warehouse, contact_of = planted_warehouse
    # every segment has a suppressed planted member, of every email reason
    assert all(inside & set(SUPPRESSED) for inside, _ in EXPECTED.values())
    reasons = set(SUPPRESSED.values())
    assert len(reasons) == 10
    in_lists = sent_by(warehouse, "marketing_lists", "external_id")
    suppressions = set(
        warehouse.query("select contact_key, reason from marts.contact_suppressions")
    )
    membership = {
        row[0] for row in warehouse.query("select contact_key from marts.segment_membership")
    }
    wrong = {}
    for key, reason in SUPPRESSED.items():
        contact = contact_of[key]
        if contact not in membership:
            wrong[key] = "not a member"
        elif (contact, reason) not in suppressions:
            wrong[key] = f"no {reason} in contact_suppressions"
        elif contact in in_lists:
            wrong[key] = "sent to marketing_lists"
    assert wrong == {}
    assert {key for key in EMAIL_REACHABLE if contact_of[key] not in in_lists} == set()
    assert (contact_of["pair_a"], "group_unsubscribe") in suppressions


def test_an_ads_suppression_closes_the_ad_audiences_only(planted_warehouse):
    warehouse, contact_of = planted_warehouse
    email = warehouse.scalar(
        "select primary_email from marts.contacts "
        f"where contact_key = '{contact_of['committee_c']}'"
    )
    assert email in sent_by(warehouse, "marketing_lists", "email")
    assert email not in sent_by(warehouse, "ad_audiences", "email")
    # email suppressions say nothing about ads: a spam complainer is in the ad files
    any_segments = warehouse.scalar(
        f"select primary_email from marts.contacts where contact_key = '{contact_of['rv_in']}'"
    )
    assert any_segments in sent_by(warehouse, "ad_audiences", "email")


def test_a_member_without_an_email_counts_as_unreachable(planted_warehouse):
    warehouse, contact_of = planted_warehouse
    noaddr = contact_of["cart_noaddr"]
    assert noaddr in members(warehouse, "cart_abandoner")
    assert warehouse.query(
        "select email, email_reach, ads_reach from marts.export_audience_members "
        f"where contact_key = '{noaddr}' and segment_id = 'cart_abandoner'"
    ) == [(None, "no_address", "no_address")]
    assert noaddr not in sent_by(warehouse, "marketing_lists", "external_id")
    members_, reachable, suppressed, no_address, rate = warehouse.query(
        "select members, reachable, suppressed, no_address, match_rate "
        "from marts.report_destination_reach "
        "where destination = 'marketing_lists' and audience_key = 'cart_abandoner'"
    )[0]
    assert no_address >= 1 and suppressed >= 1  # cart_noaddr, cart_in
    assert members_ == reachable + suppressed + no_address
    assert rate == pytest.approx(round(reachable / members_, 3))


def test_fatigued_contacts_are_members_yet_reach_no_email_destination(planted_warehouse):
    """Ignoring the last 5 sends pauses email (reason fatigued): the contact stays a member,
    the lists do not send them, the ad audiences still do, and report_hygiene says so."""
    warehouse, contact_of = planted_warehouse
    fatigued = {
        row[0]
        for row in warehouse.query(
            "select contact_key from marts.contact_suppressions "
            "where channel = 'email' and reason = 'fatigued' and is_channel_wide"
        )
    }
    planted = {contact_of[key] for key in ("rr_in", "topic_in", "dormant_in", "dormant_unsub")}
    assert planted <= fatigued
    assert contact_of["streak_in"] not in fatigued  # opened the last three
    membership = {
        row[0] for row in warehouse.query("select contact_key from marts.segment_membership")
    }
    assert planted <= membership
    assert fatigued & sent_by(warehouse, "marketing_lists", "external_id") == set()
    rr_email = warehouse.scalar(
        f"select primary_email from marts.contacts where contact_key = '{contact_of['rr_in']}'"
    )
    assert rr_email in sent_by(warehouse, "ad_audiences", "email")
    assert warehouse.query(
        "select action_taken, affected from marts.report_hygiene "
        "where hygiene_check = 'email_fatigue'"
    ) == [("suppressed from email destinations", len(fatigued))]


def test_a_stale_crm_record_gets_one_reverification_task_for_its_owner(planted_warehouse):
    warehouse, contact_of = planted_warehouse
    tasks = warehouse.query(
        "select contact_key, owner_id, task_type, crm_reach from marts.export_crm_tasks"
    )
    assert (contact_of["stale_crm"], "O_planted", "reverify_firmographics", "reachable") in tasks
    assert contact_of["exec_in"] not in {row[0] for row in tasks}  # verified 30 days ago
    reachable = sum(1 for row in tasks if row[3] == "reachable")
    assert warehouse.query(
        "select action_taken, affected from marts.report_hygiene "
        "where hygiene_check = 'stale_firmographics' and subject = 'CRM tasks'"
    ) == [("task sent to the record owner", reachable)]
    sent = sent_by(warehouse, "crm_tasks", "contact_id")
    assert len(sent) == reachable


def _project_copy(dest: Path) -> Path:
    """The project's files (not its environment, outputs or tests) under `dest`."""
    skipped = shutil.ignore_patterns(
        ".git", ".venv", ".uv", "target", "logs", "warehouse", "output", "tests", "benchmarks"
    )
    shutil.copytree(project_dir(), dest, ignore=skipped)
    return dest


def test_diff_reports_what_full_builds_of_both_versions_differ_by(planted_warehouse, tmp_path):
    """A threshold lowered (pricing viewed 2+ times, not 3+): `audience diff` builds only the
    changed models, on copies, and reports exactly the members a full run of the changed
    project adds and removes; the warehouse it read is left as it was."""
    warehouse, contact_of = planted_warehouse
    after = _project_copy(tmp_path / "after")
    model = after / "models" / "segments" / "trigger" / "pricing_repeat_viewer.sql"
    text = model.read_text()
    assert "at_least=3" in text
    model.write_text(text.replace("at_least=3", "at_least=2"))
    history = "select count(*), max(dbt_updated_at) from snapshots.segment_membership_snapshot"
    before_history = warehouse.query(history)
    old = members(warehouse, "pricing_repeat_viewer")

    result = diff_projects(
        project_dir(),
        after,
        warehouse=warehouse.path,
        as_of=AS_OF,
        base_name="HEAD",
        scratch=tmp_path / "scratch",
    )

    # the full run of the changed project, on a copy of the same warehouse
    full = tmp_path / "full.duckdb"
    shutil.copyfile(warehouse.path, full)
    with environment(
        AUDIENCE_PROJECT_DIR=str(after),
        AUDIENCE_DUCKDB_PATH=str(full),
        DBT_TARGET_PATH=str(tmp_path / "scratch" / "after" / "target"),  # parsed by the diff
    ):
        run_dbt(["run"], target="duckdb", as_of=AS_OF)
    assert members(warehouse, "pricing_repeat_viewer") == old
    full_build = BuiltWarehouse("duckdb", warehouse.data_dir, AS_OF, path=full)
    new = members(full_build, "pricing_repeat_viewer")
    assert new - old, "the lower threshold admits someone on demo data"
    assert contact_of["prv_two"] in new - old

    every = "select segment_id, contact_key, reason from marts.segment_membership"
    base_rows = {(s, c): r for s, c, r in warehouse.query(every)}
    full_rows = {(s, c): r for s, c, r in full_build.query(every)}
    differing = {s for s, _ in base_rows.keys() ^ full_rows.keys()}
    assert [seg.segment_id for seg in result.segments] == sorted(differing)
    [seg] = result.segments
    assert seg.segment_id == "pricing_repeat_viewer"
    assert (seg.before, seg.after) == (len(old), len(new))
    assert (seg.added_count, seg.removed_count) == (len(new - old), len(old - new))
    assert dict(seg.added) == {
        key: full_rows[("pricing_repeat_viewer", key)] for key in sorted(new - old)[:SAMPLE_SIZE]
    }
    assert all(reason.startswith("viewed pricing 2 times") for _, reason in seg.added)
    assert (
        {"pricing_repeat_viewer", "segment_membership"}
        <= set(result.models)
        <= {"pricing_repeat_viewer", "segment_membership", "segment_membership_treated"}
        | {"segments"}
        | {config.model for config in load_config(project_dir() / "syncs.yml").values()}
    )
    marketing = seg.destinations.get("marketing_lists")
    assert marketing is None or marketing[1] >= marketing[0]
    markdown = result.to_markdown()
    assert f"{len(old):,} → {len(new):,} members" in markdown
    assert json.loads(result.to_json())["segments"][0]["added_count"] == len(new - old)
    # nothing written to the warehouse the diff read
    assert warehouse.query(history) == before_history
