"""Synthetic raw data for the audience warehouse: linked people, their behaviour, and its mess.

``generate()`` writes the ten tables of :data:`audience.contract.RAW_TABLES` as text-only files
(parquet, csv or jsonl) plus ``_manifest.json`` (rows and injected defects per table) and
``_truth/identifiers.csv`` (which raw identifier belongs to which person), for identity tests.

The population is built once (people, companies, deals, subscriptions); the event streams
(pages, tracks, identifies, email events) are then generated vectorised per chunk of people and
appended to the files, so memory stays bounded by the chunk size rather than the event count.
Everything is drawn from ``numpy.random.default_rng`` seeded by ``seed``: same arguments,
byte-identical files. The wall clock is never read.
"""

from __future__ import annotations

import csv
import json
import time
from dataclasses import asdict, dataclass, field
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import numpy as np
import pyarrow as pa
import pyarrow.compute as pc
import pyarrow.csv as pacsv
import pyarrow.parquet as pq

from audience.contract import FILE_FORMATS, RAW_TABLES
from audience.progress import SILENT, Reporter

DEFAULT_AS_OF = datetime(2026, 6, 30, tzinfo=UTC)
#: People per generation chunk; the output depends on it, so it is a constant.
CHUNK_PEOPLE = 5_000
#: The tables written chunk by chunk of people; the CRM, product and intent tables follow.
EVENT_TABLES = ("pages", "tracks", "identifies", "email_events")

SEC = 1_000
MIN = 60 * SEC
HOUR = 60 * MIN
DAY = 24 * HOUR
YEAR = 365 * DAY
NO_TIME = np.iinfo(np.int64).max // 4  # "never": far beyond any as_of

KIND_NAMES = ("b2b", "b2c", "anonymous", "shared_mailbox")
B2B, B2C, ANON, MAILBOX = 0, 1, 2, 3

#: What a planted row has, per table: exactly one of these (drawn in this order, which the
#: data depends on). Most are bad-row reasons; the KEPT_ODDITIES are not.
PLANTED: dict[str, tuple[str, ...]] = {
    "pages": ("missing_id", "missing_identity", "invalid_timestamp", "future_timestamp"),
    "tracks": (
        "missing_id",
        "missing_identity",
        "invalid_timestamp",
        "future_timestamp",
        "unmapped_event",
        "malformed_json",
    ),
    "identifies": (
        "missing_id",
        "missing_identity",
        "invalid_timestamp",
        "future_timestamp",
        "malformed_json",
    ),
    "email_events": (
        "missing_id",
        "missing_email",
        "invalid_timestamp",
        "dated_after_as_of",
        "unmapped_event",
    ),
    "crm_contacts": ("missing_id",),
}
#: Planted oddities staging keeps: an event name the warehouse does not map (it flows through
#: unmapped, scored 0, listed in report_unmapped_events), and an ESP event dated in 2099 (the
#: webhook has no received_at, so it is taken as received when it happened, and every build
#: before then leaves it out).
KEPT_ODDITIES: dict[str, tuple[str, ...]] = {
    "tracks": ("unmapped_event",),
    "email_events": ("dated_after_as_of", "unmapped_event"),
}
#: Bad-row reasons per table (duplicates are counted under ``duplicate_id``).
BAD_REASONS: dict[str, tuple[str, ...]] = {
    table: tuple(r for r in planted if r not in KEPT_ODDITIES.get(table, ()))
    for table, planted in PLANTED.items()
}
DUPLICATE_TABLES = ("pages", "tracks", "email_events", "crm_contacts")
BAD_RATE = 0.003
DUP_RATE = 0.005

# --------------------------------------------------------------------------------------------
# Vocabularies
# --------------------------------------------------------------------------------------------

SITE_B2B = "https://www.acmesoft.example"
SITE_SHOP = "https://shop.example"

FIRST_NAMES = [
    "james",
    "mary",
    "john",
    "patricia",
    "robert",
    "jennifer",
    "michael",
    "linda",
    "william",
    "elizabeth",
    "david",
    "barbara",
    "richard",
    "susan",
    "joseph",
    "jessica",
    "thomas",
    "sarah",
    "charles",
    "karen",
    "daniel",
    "nancy",
    "matthew",
    "lisa",
    "anthony",
    "betty",
    "mark",
    "margaret",
    "donald",
    "sandra",
    "steven",
    "ashley",
    "paul",
    "kimberly",
    "andrew",
    "emily",
    "joshua",
    "donna",
    "kenneth",
    "michelle",
    "kevin",
    "carol",
    "brian",
    "amanda",
    "george",
    "melissa",
    "timothy",
    "deborah",
    "lukas",
    "sofia",
    "mateo",
    "emma",
    "noah",
    "olivia",
    "liam",
    "mia",
    "arjun",
    "priya",
    "kenji",
    "yuki",
    "lucas",
    "ana",
    "oliver",
    "chloe",
    "ethan",
    "hannah",
    "felix",
    "clara",
]
LAST_NAMES = [
    "smith",
    "johnson",
    "williams",
    "brown",
    "jones",
    "garcia",
    "miller",
    "davis",
    "rodriguez",
    "martinez",
    "hernandez",
    "lopez",
    "gonzalez",
    "wilson",
    "anderson",
    "thomas",
    "taylor",
    "moore",
    "jackson",
    "martin",
    "lee",
    "perez",
    "thompson",
    "white",
    "harris",
    "sanchez",
    "clark",
    "ramirez",
    "lewis",
    "robinson",
    "walker",
    "young",
    "allen",
    "king",
    "wright",
    "scott",
    "torres",
    "nguyen",
    "hill",
    "flores",
    "green",
    "adams",
    "nelson",
    "baker",
    "hall",
    "rivera",
    "campbell",
    "mitchell",
    "carter",
    "roberts",
    "mueller",
    "schmidt",
    "schneider",
    "fischer",
    "weber",
    "dubois",
    "moreau",
    "laurent",
    "tanaka",
    "suzuki",
    "sato",
    "patel",
    "sharma",
    "kumar",
    "silva",
    "santos",
    "oliveira",
    "jansen",
    "devries",
    "bakker",
]
COMPANY_PREFIXES = [
    "acme",
    "globex",
    "initech",
    "umbrella",
    "hooli",
    "vandelay",
    "stark",
    "wayne",
    "tyrell",
    "cyberdyne",
    "soylent",
    "wonka",
    "oscorp",
    "aperture",
    "black-mesa",
    "massive",
    "pied-piper",
    "dunder",
    "prestige",
    "vehement",
    "monarch",
    "sterling",
    "blue-sun",
    "kappa",
    "northwind",
    "contoso",
    "fabrikam",
    "tailspin",
    "adatum",
    "litware",
    "proseware",
    "wingtip",
    "woodgrove",
    "alpine",
    "fourth-coffee",
    "margie",
    "lucerne",
    "trey",
    "coho",
    "bellows",
    "nimbus",
    "quantum",
    "zenith",
    "apex",
    "vertex",
    "orbit",
    "helix",
    "summit",
    "harbor",
]
COMPANY_SUFFIXES: tuple[tuple[str, str], ...] = (
    ("Analytics", "software"),
    ("Systems", "software"),
    ("Labs", "software"),
    ("Software", "software"),
    ("Cloud", "software"),
    ("Networks", "software"),
    ("Health", "healthcare"),
    ("Medical", "healthcare"),
    ("Bank", "financial_services"),
    ("Capital", "financial_services"),
    ("Insurance", "financial_services"),
    ("Logistics", "manufacturing"),
    ("Robotics", "manufacturing"),
    ("Industries", "manufacturing"),
    ("Energy", "manufacturing"),
    ("Retail", "retail"),
    ("Foods", "retail"),
    ("Learning", "education"),
    ("Academy", "education"),
    ("Media", "media"),
    ("Studios", "media"),
    ("Group", "other"),
    ("Partners", "other"),
)
COUNTRIES = ("US", "GB", "DE", "FR", "CA", "AU", "NL", "IN", "BR", "JP")
COUNTRY_P = (0.42, 0.12, 0.1, 0.07, 0.06, 0.05, 0.05, 0.06, 0.04, 0.03)
PERSONAS = ("decision_maker", "champion", "influencer", "end_user", "")
PERSONA_P = (0.15, 0.15, 0.25, 0.3, 0.15)
JOB_TITLES: dict[str, tuple[str, ...]] = {
    "decision_maker": (
        "VP Marketing",
        "Chief Marketing Officer",
        "Head of Growth",
        "VP Revenue Operations",
        "Director of Marketing",
    ),
    "champion": (
        "Marketing Operations Manager",
        "Growth Lead",
        "Head of Marketing Operations",
        "Senior Manager, Lifecycle Marketing",
    ),
    "influencer": (
        "Data Analyst",
        "Marketing Manager",
        "Demand Generation Manager",
        "Analytics Engineer",
        "Product Marketing Manager",
    ),
    "end_user": (
        "Marketing Specialist",
        "Email Marketing Specialist",
        "Content Marketer",
        "Marketing Coordinator",
        "CRM Specialist",
    ),
}
ALL_TITLES = tuple(t for ts in JOB_TITLES.values() for t in ts)
INTENT_TOPICS = (
    "customer data platform",
    "marketing automation",
    "email deliverability",
    "identity resolution",
    "reverse etl",
    "product analytics",
    "lead scoring",
    "account based marketing",
    "data warehouse",
    "attribution modeling",
)
USER_AGENTS = (
    "Mozilla/5.0 (Macintosh; Intel Mac OS X 10_15_7) AppleWebKit/537.36 (KHTML, like Gecko) "
    "Chrome/126.0.0.0 Safari/537.36",
    "Mozilla/5.0 (Windows NT 10.0; Win64; x64) AppleWebKit/537.36 (KHTML, like Gecko) "
    "Chrome/126.0.0.0 Safari/537.36",
    "Mozilla/5.0 (Windows NT 10.0; Win64; x64) AppleWebKit/537.36 (KHTML, like Gecko) "
    "Chrome/126.0.0.0 Safari/537.36 Edg/126.0.2592.87",
    "Mozilla/5.0 (Macintosh; Intel Mac OS X 10_15_7) AppleWebKit/605.1.15 (KHTML, like Gecko) "
    "Version/17.5 Safari/605.1.15",
    "Mozilla/5.0 (Windows NT 10.0; Win64; x64; rv:127.0) Gecko/20100101 Firefox/127.0",
    "Mozilla/5.0 (iPhone; CPU iPhone OS 17_5 like Mac OS X) AppleWebKit/605.1.15 (KHTML, like "
    "Gecko) Version/17.5 Mobile/15E148 Safari/604.1",
    "Mozilla/5.0 (Linux; Android 14; Pixel 8) AppleWebKit/537.36 (KHTML, like Gecko) "
    "Chrome/126.0.0.0 Mobile Safari/537.36",
    "Mozilla/5.0 (iPad; CPU OS 17_5 like Mac OS X) AppleWebKit/605.1.15 (KHTML, like Gecko) "
    "Version/17.5 Mobile/15E148 Safari/604.1",
)
UA_DESKTOP_P = np.array([0.34, 0.3, 0.1, 0.16, 0.1, 0.0, 0.0, 0.0])
UA_MOBILE_P = np.array([0.0, 0.0, 0.0, 0.0, 0.0, 0.55, 0.35, 0.1])
UA_ANY_P = np.array([0.14, 0.12, 0.04, 0.08, 0.04, 0.35, 0.18, 0.05])

GARBAGE_USER_IDS = ("null", "anonymous", "undefined", "")
INVALID_TIMESTAMPS = ("not-a-date", "2026-13-45T99:00:00Z", "", None, "31/02/2026 25:61", "NaN")
UNMAPPED_TRACK_EVENTS = ("xyz_debug", "Test Event 123", "__heartbeat", "tmp_qa_click")
UNMAPPED_EMAIL_EVENTS = ("bounced_twice", "test_event", "opened?", "group_resubscribe_v0")
PLUS_TAGS = ("news", "newsletter", "mkt", "promo")

# Event codes and their raw variants.
EVENTS = (
    "Form Started",
    "Form Submitted",
    "Demo Requested",
    "Content Downloaded",
    "Video Watched",
    "Review Site Clicked",
    "Signed Up",
    "Trial Started",
    "Product Viewed",
    "Product Added",
    "Checkout Started",
    "Order Completed",
)
(
    EV_FORM_STARTED,
    EV_FORM_SUBMITTED,
    EV_DEMO,
    EV_CONTENT,
    EV_VIDEO,
    EV_REVIEW,
    EV_SIGNUP,
    EV_TRIAL,
    EV_VIEWED,
    EV_ADDED,
    EV_CHECKOUT,
    EV_ORDER,
) = range(len(EVENTS))
EVENT_VARIANTS: dict[str, tuple[str, ...]] = {
    "Product Added": ("cart_add", "add_to_cart"),
    "Order Completed": ("ORDER COMPLETED", "purchase"),
    "Signed Up": ("signup", "sign_up"),
    "Demo Requested": ("demo_request",),
    "Form Submitted": ("form_submit",),
    "Checkout Started": ("checkout_start",),
    "Trial Started": ("trial_start",),
    "Product Viewed": ("product_view",),
    "Content Downloaded": ("whitepaper_download",),
    "Video Watched": ("video_play",),
    "Review Site Clicked": ("review_click",),
}
VARIANT_SHARE = 0.2
EMAIL_EVENT_TYPES = (
    "processed",
    "delivered",
    "deferred",
    "bounce",
    "dropped",
    "open",
    "click",
    "unsubscribe",
    "spamreport",
)
EE_PROCESSED, EE_DELIVERED, EE_DEFERRED, EE_BOUNCE, EE_DROPPED, EE_OPEN, EE_CLICK = range(7)
EE_UNSUB, EE_SPAM = 7, 8
#: bounce_type of a bounce, as the contract spells it
BOUNCE_TYPES = ("hard", "soft", "block")
#: reason of a drop, as SendGrid words it
DROP_REASONS = ("Bounced Address", "Spam Content (if spam checker app enabled)")

# Page categories.
(
    C_HOME,
    C_PRICING,
    C_CASE,
    C_CUSTOMERS,
    C_PRODUCT,
    C_FEATURES,
    C_COMPARE,
    C_SECURITY,
    C_TRUST,
    C_ROI,
    C_INTEGRATIONS,
    C_DOCS,
    C_BLOG,
    C_RESOURCES,
    C_DEMO,
    C_CONTACT,
    C_CAREERS,
    C_SHOP_HOME,
    C_SHOP_PRODUCT,
    C_CART,
    C_CHECKOUT,
    C_SHOP_BLOG,
) = range(22)
N_CATS = 22
SEG_GENERAL, SEG_DECISION, SEG_CUSTOMER, SEG_SHOP = range(4)
SEGMENT_WEIGHTS: dict[int, dict[int, float]] = {
    SEG_GENERAL: {
        C_HOME: 16,
        C_PRICING: 4,
        C_CASE: 4,
        C_CUSTOMERS: 3,
        C_PRODUCT: 8,
        C_FEATURES: 8,
        C_COMPARE: 1.5,
        C_SECURITY: 1,
        C_TRUST: 0.8,
        C_ROI: 0.5,
        C_INTEGRATIONS: 5,
        C_DOCS: 5,
        C_BLOG: 20,
        C_RESOURCES: 8,
        C_DEMO: 1,
        C_CONTACT: 1,
        C_CAREERS: 5,
    },
    SEG_DECISION: {
        C_HOME: 6,
        C_PRICING: 15,
        C_CASE: 8,
        C_CUSTOMERS: 6,
        C_PRODUCT: 6,
        C_FEATURES: 6,
        C_COMPARE: 10,
        C_SECURITY: 7,
        C_TRUST: 5,
        C_ROI: 6,
        C_INTEGRATIONS: 5,
        C_DOCS: 4,
        C_BLOG: 4,
        C_RESOURCES: 4,
        C_DEMO: 6,
        C_CONTACT: 4,
    },
    SEG_CUSTOMER: {
        C_HOME: 8,
        C_DOCS: 40,
        C_INTEGRATIONS: 20,
        C_BLOG: 10,
        C_FEATURES: 8,
        C_PRODUCT: 4,
        C_PRICING: 4,
        C_SECURITY: 2,
        C_TRUST: 2,
        C_RESOURCES: 2,
    },
    SEG_SHOP: {C_SHOP_HOME: 17, C_SHOP_PRODUCT: 70, C_SHOP_BLOG: 8, C_CART: 5},
}
# Follow-up tracks per page category: (event, probability given the previous step, delay s).
TRACK_CHAINS: dict[int, tuple[tuple[int, float, float], ...]] = {
    C_PRICING: ((EV_FORM_STARTED, 0.04, 20), (EV_FORM_SUBMITTED, 0.5, 60)),
    C_CASE: ((EV_VIDEO, 0.15, 15),),
    C_CUSTOMERS: ((EV_REVIEW, 0.06, 30),),
    C_PRODUCT: ((EV_VIDEO, 0.12, 10),),
    C_FEATURES: ((EV_VIDEO, 0.1, 10),),
    C_COMPARE: ((EV_REVIEW, 0.15, 25),),
    C_SECURITY: ((EV_CONTENT, 0.1, 30),),
    C_ROI: ((EV_FORM_STARTED, 0.25, 40), (EV_FORM_SUBMITTED, 0.6, 90)),
    C_BLOG: ((EV_VIDEO, 0.03, 30),),
    C_RESOURCES: (
        (EV_FORM_STARTED, 0.4, 15),
        (EV_FORM_SUBMITTED, 0.8, 45),
        (EV_CONTENT, 0.95, 5),
    ),
    C_DEMO: ((EV_FORM_STARTED, 0.65, 10), (EV_FORM_SUBMITTED, 0.75, 60), (EV_DEMO, 0.95, 1)),
    C_CONTACT: ((EV_FORM_STARTED, 0.55, 10), (EV_FORM_SUBMITTED, 0.7, 50)),
}
FORM_IDS = {
    C_PRICING: "pricing_contact",
    C_ROI: "roi_calculator",
    C_RESOURCES: "content_gate",
    C_DEMO: "demo_request",
    C_CONTACT: "contact_sales",
}

SLUGS_CUSTOMERS = [
    "northwind-traders",
    "contoso-retail",
    "fabrikam-health",
    "tailspin-toys",
    "woodgrove-bank",
    "litware-media",
    "adatum-logistics",
    "proseware-labs",
    "coho-vineyard",
    "lucerne-publishing",
]
SLUGS_FEATURES = [
    "identity-resolution",
    "audience-builder",
    "lead-scoring",
    "journeys",
    "reverse-etl",
    "predictive-segments",
    "consent-management",
]
SLUGS_COMPARE = [
    "acmesoft-vs-hubspot",
    "acmesoft-vs-segment",
    "acmesoft-vs-marketo",
    "acmesoft-vs-braze",
    "acmesoft-vs-salesforce",
    "hubspot-vs-marketo",
]
SLUGS_INTEGRATIONS = [
    "salesforce",
    "hubspot",
    "snowflake",
    "bigquery",
    "slack",
    "segment",
    "shopify",
    "zendesk",
    "google-ads",
    "linkedin-ads",
]
SLUGS_DOCS = [
    "getting-started",
    "api-reference",
    "javascript-sdk",
    "python-sdk",
    "webhooks",
    "identity-resolution",
    "data-model",
    "sso-setup",
    "warehouse-sync",
    "troubleshooting",
    "rate-limits",
    "changelog",
]
SLUGS_BLOG = [
    "what-is-a-cdp",
    "lead-scoring-101",
    "b2b-attribution-guide",
    "email-deliverability-checklist",
    "first-party-data-strategy",
    "account-based-marketing-playbook",
    "building-audiences-in-sql",
    "identity-resolution-explained",
    "reverse-etl-patterns",
    "marketing-ops-stack-2026",
    "intent-data-primer",
    "churn-signals",
]
SLUGS_RESOURCES = [
    "cdp-buyers-guide",
    "state-of-b2b-marketing-2026",
    "roi-whitepaper",
    "identity-resolution-ebook",
    "webinar-scoring-that-works",
    "abm-benchmark-report",
    "security-whitepaper",
    "migration-checklist",
]
SLUGS_SHOP_BLOG = [
    "spring-lookbook",
    "how-to-choose-running-shoes",
    "care-guide-leather",
    "gift-guide",
    "skincare-routine-basics",
    "cozy-home-ideas",
    "packing-list-weekend-trip",
    "sustainable-materials",
]
SHOP_CATEGORIES: dict[str, tuple[tuple[str, ...], float, float]] = {
    "shoes": (("Trail Runner", "Canvas Sneaker", "Leather Boot", "Court Classic"), 59, 189),
    "outerwear": (("Rain Shell", "Puffer Jacket", "Wool Coat", "Fleece Hoodie"), 89, 349),
    "accessories": (("Leather Belt", "Canvas Tote", "Wool Scarf", "Sunglasses"), 15, 89),
    "home": (("Linen Throw", "Ceramic Mug Set", "Scented Candle", "Cotton Towel Set"), 19, 149),
    "beauty": (("Face Serum", "Hand Cream", "Lip Balm Trio", "Hair Oil"), 9, 69),
}
SHOP_ADJECTIVES = ("Classic", "Urban", "Alpine")
COUPONS = (("WELCOME10", 0.10), ("SPRING15", 0.15), ("VIP20", 0.20), ("FLASH25", 0.25))


# --------------------------------------------------------------------------------------------
# Manifest
# --------------------------------------------------------------------------------------------


@dataclass
class GenerationManifest:
    """What one ``generate()`` call wrote: rows and injected defects per table."""

    rows: dict[str, int]
    bad_rows: dict[str, dict[str, int]]
    #: planted rows staging keeps (KEPT_ODDITIES), per table
    kept_rows: dict[str, dict[str, int]] = field(default_factory=dict)
    people: int = 0
    seed: int = 0
    as_of: str = ""
    days: int = 0
    fmt: str = "parquet"
    persons: dict[str, int] = field(default_factory=dict)
    mess: dict[str, int] = field(default_factory=dict)

    @property
    def events(self) -> int:
        """Raw behavioural events: pages + tracks + email events (bad rows included)."""
        return sum(self.rows.get(t, 0) for t in ("pages", "tracks", "email_events"))

    def to_json(self) -> str:
        return json.dumps(asdict(self), indent=2, sort_keys=True) + "\n"


# --------------------------------------------------------------------------------------------
# Vectorised string helpers
# --------------------------------------------------------------------------------------------

_HEX = np.frombuffer(b"0123456789abcdef", dtype=np.uint8)
_OFFSET_MINUTES = np.array([0, 60, 120, 330, 540, -300, -420, -180, 600], dtype=np.int64)
_OFFSET_SUFFIX = [b"Z", b"+01:00", b"+02:00", b"+05:30", b"+09:00", b"-05:00", b"-07:00"]
_OFFSET_SUFFIX += [b"-03:00", b"+10:00"]
_SUFFIX_MAT = np.zeros((len(_OFFSET_SUFFIX), 6), dtype=np.uint8)
for _i, _s in enumerate(_OFFSET_SUFFIX):
    _SUFFIX_MAT[_i, : len(_s)] = np.frombuffer(_s, dtype=np.uint8)
_SUFFIX_LEN = np.array([len(s) for s in _OFFSET_SUFFIX], dtype=np.int64)


def _strings_from_matrix(mat: np.ndarray, lengths: np.ndarray | None = None) -> pa.Array:
    """Turn a (n, width) uint8 matrix of ASCII bytes into a string array (rows cut to lengths)."""
    n, width = mat.shape
    if lengths is None:
        data = np.ascontiguousarray(mat).tobytes()
        offsets = np.arange(0, (n + 1) * width, width, dtype=np.int32)
    else:
        keep = np.arange(width)[None, :] < lengths[:, None]
        data = mat[keep].tobytes()
        offsets = np.zeros(n + 1, dtype=np.int32)
        np.cumsum(lengths, out=offsets[1:])
    return pa.StringArray.from_buffers(n, pa.py_buffer(offsets), pa.py_buffer(data))


def _hex_ids(rng: np.random.Generator, n: int, prefix: str = "", nhex: int = 32) -> pa.Array:
    """Random ids: ``prefix`` + ``nhex`` hex digits, or a UUID-v4-like string when no prefix."""
    nbytes = (nhex + 1) // 2
    raw = np.frombuffer(rng.bytes(n * nbytes), dtype=np.uint8).reshape(n, nbytes)
    nib = np.empty((n, nbytes * 2), dtype=np.uint8)
    nib[:, 0::2] = raw >> 4
    nib[:, 1::2] = raw & 15
    chars = _HEX[nib[:, :nhex]]
    if not prefix and nhex == 32:
        chars[:, 12] = ord("4")
        chars[:, 16] = _HEX[8 + (nib[:, 16] & 3)]
        dash = np.full((n, 1), ord("-"), dtype=np.uint8)
        parts = [chars[:, :8], dash, chars[:, 8:12], dash, chars[:, 12:16], dash]
        parts += [chars[:, 16:20], dash, chars[:, 20:]]
        return _strings_from_matrix(np.concatenate(parts, axis=1))
    pre = np.broadcast_to(np.frombuffer(prefix.encode(), dtype=np.uint8), (n, len(prefix)))
    return _strings_from_matrix(np.concatenate([pre, chars], axis=1))


def _civil(days: np.ndarray) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Days since 1970-01-01 -> (year, month, day), vectorised (H. Hinnant's algorithm)."""
    z = days + 719468
    era = np.floor_divide(z, 146097)
    doe = z - era * 146097
    yoe = (doe - doe // 1460 + doe // 36524 - doe // 146096) // 365
    doy = doe - (365 * yoe + yoe // 4 - yoe // 100)
    mp = (5 * doy + 2) // 153
    d = doy - (153 * mp + 2) // 5 + 1
    m = np.where(mp < 10, mp + 3, mp - 9)
    y = yoe + era * 400 + (m <= 2)
    return y, m, d


def _put_digits(mat: np.ndarray, col: int, values: np.ndarray, width: int) -> None:
    for k in range(width):
        mat[:, col + width - 1 - k] = 48 + (values // 10**k) % 10


def _datetime_matrix(ms: np.ndarray, width: int) -> np.ndarray:
    """(n, width) matrix whose first 23 bytes are ``YYYY-MM-DDTHH:MM:SS.mmm``."""
    n = len(ms)
    mat = np.zeros((n, width), dtype=np.uint8)
    secs, msr = np.divmod(ms, 1000)
    days, sod = np.divmod(secs, 86400)
    y, m, d = _civil(days)
    _put_digits(mat, 0, y, 4)
    mat[:, 4] = mat[:, 7] = ord("-")
    _put_digits(mat, 5, m, 2)
    _put_digits(mat, 8, d, 2)
    if width > 10:
        hh, rem = np.divmod(sod, 3600)
        mm, ss = np.divmod(rem, 60)
        mat[:, 10] = ord("T")
        _put_digits(mat, 11, hh, 2)
        mat[:, 13] = mat[:, 16] = ord(":")
        _put_digits(mat, 14, mm, 2)
        _put_digits(mat, 17, ss, 2)
        mat[:, 19] = ord(".")
        _put_digits(mat, 20, msr, 3)
    return mat


def _timestamps(ms: np.ndarray, rng: np.random.Generator, offset_share: float = 0.05) -> pa.Array:
    """ISO 8601 strings: UTC with ``Z``, about ``offset_share`` with an explicit offset instead.

    ``NO_TIME`` entries become nulls.
    """
    ms = np.asarray(ms, dtype=np.int64)
    n = len(ms)
    null = ms >= NO_TIME
    off = np.zeros(n, dtype=np.int64)
    if offset_share > 0 and n:
        pick = rng.random(n) < offset_share
        off[pick] = rng.integers(1, len(_OFFSET_MINUTES), int(pick.sum()))
    local = np.where(null, 0, ms) + _OFFSET_MINUTES[off] * MIN
    mat = _datetime_matrix(local, 29)
    mat[:, 23:29] = _SUFFIX_MAT[off]
    arr = _strings_from_matrix(mat, 23 + _SUFFIX_LEN[off])
    if null.any():
        arr = pc.if_else(pa.array(null), pa.nulls(n, pa.string()), arr)
    return arr


def _dates(days: np.ndarray) -> pa.Array:
    return _strings_from_matrix(_datetime_matrix(np.asarray(days, np.int64) * DAY, 10))


def _take(vocab: list[Any] | pa.Array, idx: np.ndarray) -> pa.Array:
    """``vocab[idx]`` as a string array; negative indices become nulls."""
    arr = vocab if isinstance(vocab, pa.Array) else pa.array(vocab, type=pa.string())
    idx = np.asarray(idx, dtype=np.int64)
    neg = idx < 0
    return pc.take(arr, pa.array(np.where(neg, 0, idx), mask=neg if neg.any() else None))


def _starts(counts: np.ndarray) -> np.ndarray:
    """Start offset of each group in a flat array of groups with these sizes."""
    counts = np.asarray(counts, dtype=np.int64)
    return np.cumsum(counts) - counts


def _ints(values: np.ndarray) -> pa.Array:
    return pa.array(np.asarray(values, dtype=np.int64)).cast(pa.string())


def _iso(ms: int) -> str:
    return _datetime_matrix(np.array([ms], dtype=np.int64), 24)[0, :23].tobytes().decode() + "Z"


def _string_data(arr: pa.Array) -> bytes:
    """Concatenated bytes of a null-free string array."""
    if len(arr) == 0:
        return b""
    offsets = np.frombuffer(arr.buffers()[1], dtype=np.int32)[
        arr.offset : arr.offset + len(arr) + 1
    ]
    return arr.buffers()[2].to_pybytes()[offsets[0] : offsets[-1]]


# --------------------------------------------------------------------------------------------
# Writers
# --------------------------------------------------------------------------------------------


class _TableWriter:
    """Appends all-string tables to one file in parquet, csv or jsonl."""

    def __init__(self, path: Path, columns: tuple[str, ...], fmt: str) -> None:
        self.path = path
        self.columns = columns
        self.fmt = fmt
        self.schema = pa.schema([pa.field(c, pa.string()) for c in columns])
        self.rows = 0
        self._parquet: pq.ParquetWriter | None = None
        self._csv: pacsv.CSVWriter | None = None
        self._file: Any = None
        if fmt == "parquet":
            self._parquet = pq.ParquetWriter(path, self.schema, compression="zstd")
        elif fmt == "csv":
            options = pacsv.WriteOptions(include_header=True, quoting_style="all_valid")
            self._csv = pacsv.CSVWriter(path, self.schema, write_options=options)
        else:
            self._file = path.open("wb")
        self._keys = [json.dumps(c) for c in columns]

    def write(self, table: pa.Table) -> None:
        if table.num_rows == 0:
            return
        # a contract column the generator does not plant is written empty
        columns = [
            table.column(c) if c in table.column_names else pa.nulls(table.num_rows, pa.string())
            for c in self.columns
        ]
        columns = [c if c.type == pa.string() else c.cast(pa.string()) for c in columns]
        table = pa.Table.from_arrays(columns, schema=self.schema)  # (Table.cast imports pandas)
        self.rows += table.num_rows
        if self._parquet is not None:
            self._parquet.write_table(table, row_group_size=1 << 20)
        elif self._csv is not None:
            self._csv.write_table(table)
        else:
            self._file.write(_string_data(self._jsonl_lines(table)))

    def _jsonl_lines(self, table: pa.Table) -> pa.Array:
        parts: list[Any] = []
        for i, key in enumerate(self._keys):
            col = table.column(i).combine_chunks()
            esc = pc.replace_substring(col, "\\", "\\\\")
            esc = pc.replace_substring(esc, '"', '\\"')
            quoted = pc.fill_null(pc.binary_join_element_wise('"', esc, '"', ""), "null")
            parts += [("{" if i == 0 else ",") + key + ":", quoted]
        parts.append("}\n")
        return pc.binary_join_element_wise(*parts, "")

    def close(self) -> None:
        if self._parquet is not None:
            self._parquet.close()
        elif self._csv is not None:
            self._csv.close()
        else:
            self._file.close()


# --------------------------------------------------------------------------------------------
# Static catalogue of pages, products and track properties
# --------------------------------------------------------------------------------------------


def _title(slug: str) -> str:
    return slug.replace("-", " ").title()


class _Catalogue:
    """Every page that exists on the two sites, products, and precomputed property JSON."""

    def __init__(self) -> None:
        price_rng = np.random.default_rng(20260630)
        entries: list[tuple[int, str, str, str, int]] = []  # cat, path, name, title, product
        self.products: list[tuple[str, str, str, float, str]] = []  # id, category, name, ...

        def add(cat: int, path: str, name: str, title: str, product: int = -1) -> None:
            entries.append((cat, path, name, title, product))

        add(C_HOME, "/", "Home", "AcmeSoft | The behavioral audience platform")
        add(C_PRICING, "/pricing", "Pricing", "Pricing | AcmeSoft")
        for s in SLUGS_CUSTOMERS:
            add(C_CASE, f"/case-studies/{s}", "Case Study", f"{_title(s)} Case Study | AcmeSoft")
        for s in SLUGS_CUSTOMERS:
            add(C_CUSTOMERS, f"/customers/{s}", "Customer Story", f"{_title(s)} | AcmeSoft")
        add(C_PRODUCT, "/product", "Product", "Product Overview | AcmeSoft")
        for s in SLUGS_FEATURES:
            add(C_FEATURES, f"/features/{s}", "Feature", f"{_title(s)} | AcmeSoft")
        for s in SLUGS_COMPARE:
            a, b = s.split("-vs-")
            add(C_COMPARE, f"/compare/{s}", "Comparison", f"{_title(a)} vs {_title(b)}")
        add(C_SECURITY, "/security", "Security", "Security | AcmeSoft")
        add(C_TRUST, "/trust", "Trust Center", "Trust Center | AcmeSoft")
        add(C_ROI, "/roi-calculator", "ROI Calculator", "ROI Calculator | AcmeSoft")
        for s in SLUGS_INTEGRATIONS:
            add(C_INTEGRATIONS, f"/integrations/{s}", "Integration", f"{_title(s)} Integration")
        for s in SLUGS_DOCS:
            add(C_DOCS, f"/docs/{s}", "Docs", f"{_title(s)} | AcmeSoft Docs")
        for s in SLUGS_BLOG:
            add(C_BLOG, f"/blog/{s}", "Blog Post", f"{_title(s)} | AcmeSoft Blog")
        for s in SLUGS_RESOURCES:
            add(C_RESOURCES, f"/resources/{s}", "Resource", f"{_title(s)} | AcmeSoft")
        add(C_DEMO, "/demo", "Request a Demo", "Request a Demo | AcmeSoft")
        add(C_CONTACT, "/contact-sales", "Contact Sales", "Contact Sales | AcmeSoft")
        add(C_CAREERS, "/careers", "Careers", "Careers at AcmeSoft")
        add(C_SHOP_HOME, "/", "Home", "Shop Example | Everyday goods, made well")
        for category, (nouns, lo, hi) in SHOP_CATEGORIES.items():
            for adjective in SHOP_ADJECTIVES:
                for noun in nouns:
                    name = f"{adjective} {noun}"
                    slug = name.lower().replace(" ", "-")
                    price = float(np.floor(price_rng.uniform(lo, hi))) + 0.99
                    pid = f"SKU-{category[:3].upper()}-{len(self.products) + 1:03d}"
                    self.products.append((pid, category, name, round(price, 2), slug))
                    add(
                        C_SHOP_PRODUCT,
                        f"/shop/{category}/{slug}",
                        "Product",
                        f"{name} | Shop Example",
                        len(self.products) - 1,
                    )
        add(C_CART, "/cart", "Cart", "Your Cart | Shop Example")
        add(C_CHECKOUT, "/checkout", "Checkout", "Checkout | Shop Example")
        for s in SLUGS_SHOP_BLOG:
            add(C_SHOP_BLOG, f"/blog/{s}", "Blog Post", f"{_title(s)} | Shop Example Journal")

        self.n = len(entries)
        self.cat = np.array([e[0] for e in entries], dtype=np.int64)
        self.product = np.array([e[4] for e in entries], dtype=np.int64)
        self.cat_start = np.array([int(np.argmax(self.cat == c)) for c in range(N_CATS)])
        self.cat_count = np.bincount(self.cat, minlength=N_CATS)
        shop = self.cat >= C_SHOP_HOME
        paths = [e[1] for e in entries]
        urls = [(SITE_SHOP if s else SITE_B2B) + p for s, p in zip(shop, paths, strict=True)]
        utm = [u + "?utm_source=newsletter&utm_medium=email" for u in urls]
        self.path = pa.array(paths)
        self.name = pa.array([e[2] for e in entries])
        self.title = pa.array([e[3] for e in entries])
        # url vocabulary: plain urls, then newsletter-tagged urls.
        self.url = pa.array(urls + utm)
        # referrer vocabulary: externals, then every page url.
        self.externals = [
            "https://www.google.com/",
            "https://www.linkedin.com/",
            "https://newsletter.acmesoft.example/",
            "https://newsletter.shop.example/",
        ]
        self.referrer = pa.array(self.externals + urls)

        # Segment category distributions.
        self.seg_cats: list[np.ndarray] = []
        self.seg_cdf: list[np.ndarray] = []
        for seg in range(4):
            weights = SEGMENT_WEIGHTS[seg]
            cats = np.array(sorted(weights), dtype=np.int64)
            p = np.array([weights[c] for c in cats], dtype=np.float64)
            self.seg_cats.append(cats)
            self.seg_cdf.append(np.cumsum(p) / p.sum())

        # Track chains as arrays (category, step).
        self.chain_ev = np.full((N_CATS, 3), -1, dtype=np.int64)
        self.chain_p = np.zeros((N_CATS, 3))
        self.chain_delay = np.zeros((N_CATS, 3), dtype=np.int64)
        for cat, steps in TRACK_CHAINS.items():
            for k, (ev, p, delay) in enumerate(steps):
                self.chain_ev[cat, k] = ev
                self.chain_p[cat, k] = p
                self.chain_delay[cat, k] = int(delay * SEC)

        # Property JSON vocabulary.
        self.props: list[str] = []
        self._props_index: dict[str, int] = {}
        self.page_props = np.full((len(EVENTS), self.n), -1, dtype=np.int64)
        review_sites = ("g2", "capterra", "trustradius")
        for i, (cat, path, _name, _page_title, product) in enumerate(entries):
            slug = path.rsplit("/", 1)[-1]
            if cat in FORM_IDS:
                form = {"form_id": FORM_IDS[cat], "page_path": path}
                self.page_props[EV_FORM_STARTED, i] = self._prop(form)
                self.page_props[EV_FORM_SUBMITTED, i] = self._prop(form)
            self.page_props[EV_DEMO, i] = self._prop(
                {"form_id": "demo_request", "source": "website"}
            )
            asset_type = "whitepaper" if "whitepaper" in slug else "ebook"
            if cat == C_SECURITY:
                slug, asset_type = "security-whitepaper", "whitepaper"
            self.page_props[EV_CONTENT, i] = self._prop(
                {"asset_id": slug, "asset_type": asset_type, "page_path": path}
            )
            self.page_props[EV_VIDEO, i] = self._prop(
                {"video_id": f"vid_{slug or 'home'}", "page_path": path}
            )
            self.page_props[EV_REVIEW, i] = self._prop(
                {"site": review_sites[i % 3], "page_path": path}
            )
            if product >= 0:
                pid, category, pname, price, _ = self.products[product]
                self.page_props[EV_VIEWED, i] = self._prop(
                    {"product_id": pid, "category": category, "name": pname, "price": price}
                )
        n_prod = len(self.products)
        self.added_props = np.zeros(n_prod * 3, dtype=np.int64)
        self.checkout_props = np.zeros(n_prod * 3, dtype=np.int64)
        for j, (pid, category, _pname, price, _) in enumerate(self.products):
            for q in (1, 2, 3):
                item = {"product_id": pid, "category": category, "price": price, "quantity": q}
                self.added_props[j * 3 + q - 1] = self._prop(item)
                value = round(price * q, 2)
                self.checkout_props[j * 3 + q - 1] = self._prop(
                    {**item, "value": value, "currency": "USD"}
                )
        self.signup_props = np.array(
            [self._prop({"method": m}) for m in ("email", "google", "sso", "email")]
        )
        self.newsletter_props = self._prop({"form_id": "newsletter_signup"})
        self.trial_props = np.array(
            [self._prop({"plan": p, "trial_days": 14}) for p in ("starter", "growth", "growth")]
        )
        self.product_price = np.array([p[3] for p in self.products])

        # Event-name vocabulary: canonical names, then raw variants.
        self.event_names = list(EVENTS)
        self.variant_start = np.zeros(len(EVENTS), dtype=np.int64)
        self.variant_count = np.zeros(len(EVENTS), dtype=np.int64)
        for e, name in enumerate(EVENTS):
            variants = EVENT_VARIANTS.get(name, ())
            self.variant_start[e] = len(self.event_names)
            self.variant_count[e] = len(variants)
            self.event_names.extend(variants)

    def _prop(self, obj: dict[str, Any]) -> int:
        text = json.dumps(obj)
        if text not in self._props_index:
            self._props_index[text] = len(self.props)
            self.props.append(text)
        return self._props_index[text]


# --------------------------------------------------------------------------------------------
# Emails
# --------------------------------------------------------------------------------------------


def canonical_email(email: str) -> str:
    """Lower-case, trimmed, +tag removed; for gmail/googlemail also dots removed."""
    local, _, domain = email.strip().lower().partition("@")
    local = local.split("+", 1)[0]
    if domain in ("gmail.com", "googlemail.com"):
        local, domain = local.replace(".", ""), "gmail.com"
    return f"{local}@{domain}"


def _case_variant(email: str) -> str:
    local, _, domain = email.partition("@")
    local = ".".join(p[:1].upper() + p[1:] for p in local.split("."))
    domain = domain[:1].upper() + domain[1:]
    return f"{local}@{domain}"


def _plus_variant(email: str, tag: str) -> str:
    local, _, domain = email.partition("@")
    return f"{local}+{tag}@{domain}"


def _spaced_gmail(letters: str, domain: str) -> str:
    k = min(4, len(letters) - 1)
    return ".".join(letters[:k]) + "." + letters[k:] + "@" + domain


# --------------------------------------------------------------------------------------------
# The world: people, companies, deals, subscriptions, campaigns
# --------------------------------------------------------------------------------------------


def _add_years(ms: int, years: int) -> int:
    dt = datetime(1970, 1, 1, tzinfo=UTC) + timedelta(milliseconds=ms)
    try:
        moved = dt.replace(year=dt.year + years)
    except ValueError:  # 29 February
        moved = dt.replace(year=dt.year + years, day=28)
    return int((moved - datetime(1970, 1, 1, tzinfo=UTC)) / timedelta(milliseconds=1))


class _World:
    """Everything that is per person or per company, built once before the event chunks."""

    def __init__(self, people: int, seed: int, as_of_ms: int, days: int) -> None:
        rng = np.random.default_rng(seed)
        self.cat = _Catalogue()
        self.as_of = as_of_ms
        self.days = days
        self.start = as_of_ms - days * DAY
        self.mess: dict[str, int] = {}
        n = people
        n_b2b = round(0.65 * n)
        n_b2c = round(0.25 * n)
        kinds = np.repeat([B2B, B2C, ANON], [n_b2b, n_b2c, n - n_b2b - n_b2c])
        rng.shuffle(kinds)
        self._companies(rng, kinds, n_b2b)
        self._deals(rng)
        self._people(rng, kinds)
        self._campaigns(rng)

    # ---- companies --------------------------------------------------------------------------

    def _companies(self, rng: np.random.Generator, kinds: np.ndarray, n_b2b: int) -> None:
        n_comp = max(1, min(n_b2b, round(len(kinds) / 6)))
        weights = rng.lognormal(0.0, 1.0, n_comp)
        sizes = np.ones(n_comp, dtype=np.int64)
        rest = n_b2b - n_comp
        while rest > 0:
            room = 12 - sizes
            w = np.where(room > 0, weights, 0.0)
            add = np.minimum(rng.multinomial(rest, w / w.sum()), room)
            sizes += add
            rest -= int(add.sum())
        b2b_people = np.flatnonzero(kinds == B2B)
        rng.shuffle(b2b_people)
        self.company_of_b2b = np.repeat(np.arange(n_comp), sizes)
        self.b2b_people = b2b_people
        self.members: list[np.ndarray] = np.split(b2b_people, np.cumsum(sizes)[:-1])
        self.n_comp = n_comp
        prefix = rng.integers(0, len(COMPANY_PREFIXES), n_comp)
        suffix = rng.integers(0, len(COMPANY_SUFFIXES), n_comp)
        self.comp_id = [f"C{c + 1:06d}" for c in range(n_comp)]
        self.comp_domain = [f"{COMPANY_PREFIXES[p]}-{c + 1}.com" for c, p in enumerate(prefix)]
        self.comp_name = [
            f"{COMPANY_PREFIXES[p].replace('-', ' ').title()} {COMPANY_SUFFIXES[s][0]}"
            for p, s in zip(prefix, suffix, strict=True)
        ]
        self.comp_industry = [COMPANY_SUFFIXES[s][1] for s in suffix]
        self.comp_employees = np.clip(
            np.round(np.exp(rng.normal(4.3, 1.6, n_comp))), 5, 50_000
        ).astype(np.int64)
        per_employee = np.exp(rng.normal(np.log(160_000), 0.5, n_comp))
        self.comp_revenue = (np.round(self.comp_employees * per_employee / 1000) * 1000).astype(
            np.int64
        )
        self.comp_revenue_missing = rng.random(n_comp) < 0.05
        self.comp_country = rng.choice(len(COUNTRIES), n_comp, p=COUNTRY_P)
        self.comp_target = rng.random(n_comp) < 0.15
        self.comp_updated = self.as_of - rng.integers(HOUR, 400 * DAY, n_comp)

    # ---- deals and subscriptions ------------------------------------------------------------

    def _deals(self, rng: np.random.Generator) -> None:
        nc, as_of, start = self.n_comp, self.as_of, self.start
        has_deal = rng.random(nc) < np.where(self.comp_target, 0.45, 0.15)
        old = rng.random(nc) < 0.3
        created = np.where(
            old,
            start - rng.integers(30 * DAY, 760 * DAY, nc),
            start + (rng.random(nc) * (self.days - 5) * DAY).astype(np.int64),
        )
        created += rng.integers(8 * HOUR, 18 * HOUR, nc) - created % DAY
        age_days = (as_of - created) / DAY
        p_closed = np.where(age_days > 200, 1.0, np.clip(age_days / 150, 0, 1) * 0.85)
        closed = (rng.random(nc) < p_closed) & (age_days > 21)
        won = closed & (rng.random(nc) < 0.5)
        span = np.minimum(age_days - 1, 160)
        closed_at = created + ((20 + rng.random(nc) * np.maximum(span - 20, 0)) * DAY).astype(
            np.int64
        )
        if nc >= 3 and has_deal.any() and not (has_deal & won).any():
            oldest = int(np.flatnonzero(has_deal)[np.argmin(created[has_deal])])
            created[oldest] = min(int(created[oldest]), as_of - 200 * DAY)
            closed[oldest], won[oldest] = True, True
            closed_at[oldest] = created[oldest] + 60 * DAY
        if nc >= 3 and not has_deal.any():
            i = int(np.argmax(self.comp_employees))
            has_deal[i], closed[i], won[i] = True, True, True
            created[i] = as_of - 200 * DAY
            closed_at[i] = created[i] + 60 * DAY
        open_stage = np.minimum(4, (age_days / 25 + rng.random(nc) * 2).astype(np.int64))
        self.deal = has_deal
        self.deal_created = created
        self.deal_closed = np.where(closed, closed_at, NO_TIME)
        self.deal_won = won & has_deal
        self.deal_stage = np.where(closed, np.where(won, 5, 6), open_stage)
        plan = np.where(self.comp_employees < 100, 0, np.where(self.comp_employees < 1000, 1, 2))
        base = np.array([9_000, 40_000, 160_000])[plan]
        self.deal_amount = (np.round(base * rng.uniform(0.6, 1.8, nc) / 500) * 500).astype(np.int64)
        self.plan = plan
        # Decision window: the weeks around the deal where its people research seriously.
        self.dec_start = np.where(has_deal, created - 60 * DAY, NO_TIME)
        self.dec_end = np.where(has_deal, np.where(closed, closed_at, created + 30 * DAY), NO_TIME)
        # Subscriptions of won companies.
        self.sub_start = np.full(nc, NO_TIME, dtype=np.int64)
        self.sub_end = np.full(nc, NO_TIME, dtype=np.int64)
        self.sub_renews = np.full(nc, NO_TIME, dtype=np.int64)
        self.sub_declining = np.zeros(nc, dtype=bool)
        won_idx = np.flatnonzero(self.deal_won)
        sub_start = np.minimum(
            self.deal_closed[won_idx] + rng.integers(0, 10 * DAY, len(won_idx)), as_of - DAY
        )
        anniversaries = [0] * len(won_idx)
        for j, s in enumerate(sub_start):
            k = 0
            while _add_years(int(s), k + 1) <= as_of:
                k += 1
            anniversaries[j] = k
        eligible = np.array([k >= 1 for k in anniversaries], dtype=bool)
        p_churn = min(0.6, 0.15 * len(won_idx) / max(1, int(eligible.sum())))
        churn = eligible & (rng.random(len(won_idx)) < p_churn)
        if len(won_idx) and churn.all():
            churn[0] = False
        churn_k = rng.random(len(won_idx))
        for j, c in enumerate(won_idx):
            s = int(sub_start[j])
            self.sub_start[c] = s
            if churn[j]:
                k = 1 + int(churn_k[j] * anniversaries[j])
                self.sub_end[c] = self.sub_renews[c] = _add_years(s, k)
            else:
                self.sub_renews[c] = _add_years(s, anniversaries[j] + 1)
        self.sub_churned = self.sub_end < NO_TIME
        self.sub_declining = (self.sub_start < NO_TIME) & (
            self.sub_churned | (rng.random(nc) < 0.25)
        )

    # ---- people -----------------------------------------------------------------------------

    def _people(self, rng: np.random.Generator, kinds: np.ndarray) -> None:
        n = len(kinds)
        nc = self.n_comp
        # Shared mailboxes are persons of their own, appended after the real people.
        mailbox_companies = np.flatnonzero(rng.random(nc) < 0.04)
        if nc >= 8 and len(mailbox_companies) == 0:
            mailbox_companies = np.array([int(rng.integers(0, nc))])
        m = len(mailbox_companies)
        total = n + m
        self.people = n
        self.total = total
        self.kind = np.concatenate([kinds, np.full(m, MAILBOX)]).astype(np.int64)
        self.company = np.full(total, -1, dtype=np.int64)
        self.company[self.b2b_people] = self.company_of_b2b
        self.company[n:] = mailbox_companies
        self.first = rng.integers(0, len(FIRST_NAMES), total)
        self.last = rng.integers(0, len(LAST_NAMES), total)
        kind = self.kind
        # Behaviour parameters.
        act = rng.lognormal(0.0, 1.0, total) / np.exp(0.5)
        comp = self.company
        deal_people = (comp >= 0) & self.deal[np.maximum(comp, 0)]
        act = np.where(deal_people, act * 1.4, act)
        self.activity = np.where(kind == MAILBOX, 0.0, act)
        self.web_start = np.where(
            rng.random(total) < 0.55,
            self.start,
            self.start + (rng.random(total) * 0.85 * self.days * DAY).astype(np.int64),
        )
        self.anon_site = (rng.random(total) < 0.5).astype(np.int64)  # 1 = shop
        self.discount_heavy = rng.random(total) < 0.15
        self.p_open = np.where(
            rng.random(total) < 0.12, rng.uniform(0.7, 0.98, total), rng.beta(0.7, 4.0, total)
        )
        self.p_click = rng.beta(1.2, 6.0, total)
        self.p_recv = rng.uniform(0.3, 0.7, total)
        self.apple = rng.random(total) < 0.3
        self.email_sub_start = np.where(
            rng.random(total) < 0.6,
            self.start - rng.integers(DAY, 400 * DAY, total),
            self.start + (rng.random(total) * 0.9 * self.days * DAY).astype(np.int64),
        )
        self.first_ident = np.full(total, NO_TIME, dtype=np.int64)
        self.had_form = np.zeros(total, dtype=bool)

        salt = int(rng.integers(0, 1 << 47))
        u = rng.random((total, 8))
        tiers = ("bronze", "silver", "gold", "platinum")
        tier_draw = rng.choice(4, total, p=(0.45, 0.3, 0.18, 0.07))
        digits = rng.integers(10, 1000, total)
        b2c_domains = ("gmail.com", "yahoo.com", "outlook.com", "hotmail.com", "icloud.com")
        b2c_domains += ("proton.me",)
        b2c_domain_draw = rng.choice(6, total, p=(0.45, 0.12, 0.12, 0.08, 0.13, 0.1))
        pattern_draw = rng.integers(0, 4, total)
        tag_draw = rng.integers(0, len(PLUS_TAGS), total)

        self.uid: list[str | None] = [None] * total
        self.ident_email: list[str | None] = [None] * total
        self.esp_email: list[str | None] = [None] * total
        self.crm_email: list[str | None] = [None] * total
        self.crm_dup_email: list[str | None] = [None] * total
        self.gmail: list[str | None] = [None] * total
        self.traits: list[str | None] = [None] * total
        self.subscribed = np.zeros(total, dtype=bool)
        self.email_owner: dict[str, int] = {}
        used: set[str] = set()

        def unique(local: str, domain: str) -> str:
            email = f"{local}@{domain}"
            k = 2
            while canonical_email(email) in used:
                email = f"{local}{k}@{domain}"
                k += 1
            used.add(canonical_email(email))
            return email

        def own(i: int, *emails: str | None) -> None:
            for e in emails:
                if e is not None:
                    self.email_owner[e] = i

        # Mailbox persons first so that no real person takes info@/team@ of a domain.
        for j, c in enumerate(mailbox_companies):
            i = n + j
            local = "info" if u[i, 0] < 0.6 else "team"
            email = unique(local, self.comp_domain[c])
            crm = email if u[i, 1] < 0.8 else _case_variant(email)
            self.esp_email[i] = email
            self.crm_email[i] = crm
            self.subscribed[i] = True
            own(i, email, crm)
        self.mailbox_email = {
            int(c): self.esp_email[n + j] for j, c in enumerate(mailbox_companies)
        }
        self.mailbox_person = {int(c): n + j for j, c in enumerate(mailbox_companies)}

        for i in range(n):
            k = kind[i]
            if k == ANON:
                continue
            first, last = FIRST_NAMES[self.first[i]], LAST_NAMES[self.last[i]]
            h = (i * 0x9E3779B97F4A7C15 + salt) & ((1 << 48) - 1)
            self.uid[i] = f"{'b' if k == B2B else 'u'}_{h:012x}"
            traits: dict[str, Any] = {}
            if k == B2B:
                c = int(comp[i])
                base = unique(f"{first}.{last}", self.comp_domain[c])
                r = u[i]
                self.ident_email[i] = base if r[0] < 0.85 else _case_variant(base)
                if r[1] < 0.8:
                    esp = base
                elif r[1] < 0.92:
                    esp = _plus_variant(base, PLUS_TAGS[tag_draw[i]])
                else:
                    esp = _case_variant(base)
                self.esp_email[i] = esp
                self.subscribed[i] = r[2] < 0.85
                if r[3] < 0.72:
                    crm = base
                elif r[3] < 0.84:
                    crm = f"  {_case_variant(base)} "
                elif r[3] < 0.92:
                    crm = _case_variant(base)
                elif r[3] < 0.96:
                    crm = _plus_variant(base, "crm")
                else:
                    crm = base.upper()
                self.crm_email[i] = crm
                if r[4] < 0.04:
                    # A second contact id whose email differs by case or a plus tag.
                    self.crm_dup_email[i] = base
                    if crm == base:
                        self.crm_dup_email[i] = (
                            _case_variant(base) if r[7] < 0.5 else _plus_variant(base, "sales")
                        )
                if r[5] < 0.1:
                    letters = f"{first}{last}{digits[i]}"
                    gm = unique(letters, "gmail.com")
                    dotted = f"{first}.{last}{digits[i]}@gmail.com"
                    self.gmail[i] = dotted if r[6] < 0.5 and gm == f"{letters}@gmail.com" else gm
                traits = {
                    "email": self.ident_email[i],
                    "first_name": first.title(),
                    "last_name": last.title(),
                    "company": self.comp_name[c],
                }
                own(i, base, self.ident_email[i], esp, crm, self.crm_dup_email[i], self.gmail[i])
            else:
                r = u[i]
                traits = {"first_name": first.title(), "last_name": last.title()}
                if r[0] < 0.6:
                    domain = b2c_domains[b2c_domain_draw[i]]
                    pattern = pattern_draw[i]
                    local = (
                        f"{first}.{last}",
                        f"{first}{last}",
                        f"{first}_{last}",
                        f"{first[0]}{last}",
                    )[pattern]
                    if r[1] < 0.5:
                        local += str(digits[i])
                    base = unique(local, domain)
                    if domain == "gmail.com":
                        letters = base.split("@")[0].replace(".", "")
                        ident = base if r[2] < 0.7 else f"{letters}@gmail.com"
                        esp = (
                            base,
                            f"{letters}@gmail.com",
                            _spaced_gmail(letters, "googlemail.com"),
                            _spaced_gmail(letters, "gmail.com"),
                            f"{letters}@googlemail.com",
                        )[int(r[3] * 5)]
                    else:
                        ident = base if r[2] < 0.85 else _case_variant(base)
                        if r[3] < 0.8:
                            esp = base
                        elif r[3] < 0.9:
                            esp = _plus_variant(base, PLUS_TAGS[tag_draw[i]])
                        else:
                            esp = _case_variant(base)
                    self.ident_email[i] = ident
                    self.esp_email[i] = esp
                    self.subscribed[i] = r[4] < 0.9
                    traits = {"email": ident, **traits}
                    own(i, base, ident, esp)
                if r[5] < 0.35:
                    traits["loyalty_tier"] = tiers[tier_draw[i]]
            self.traits[i] = json.dumps(traits)
        # Two people of some shared-mailbox companies also submit forms with info@/team@.
        self.uses_mailbox = np.full(total, -1, dtype=np.int64)
        for c, person in self.mailbox_person.items():
            for i in self.members[c][:2]:
                self.uses_mailbox[i] = person
        self.mess["shared_mailboxes"] = m
        self.mess["b2c_without_email"] = int(
            sum(1 for i in range(n) if kind[i] == B2C and self.ident_email[i] is None)
        )

    # ---- email campaigns --------------------------------------------------------------------

    def _campaigns(self, rng: np.random.Generator) -> None:
        nc = max(2, round(self.days * 2 / 7))
        step = self.days * DAY / nc
        day = ((self.start + (np.arange(nc) + 0.5) * step) // DAY).astype(np.int64)
        t = day * DAY + 14 * HOUR + rng.integers(0, 90 * MIN, nc)
        self.camp_time = np.minimum(t, self.as_of - 2 * HOUR)
        self.camp_aud = np.arange(nc) % 2  # 0 = B2B audience, 1 = shoppers
        self.camp_id = [f"cmp_{i + 1:04d}" for i in range(nc)]
        b2b_pages = [f"/blog/{s}" for s in SLUGS_BLOG] + [
            f"/resources/{s}" for s in SLUGS_RESOURCES
        ]
        b2b_pages += ["/demo", "/pricing", "/product"]
        shop_pages = [f"/shop/{p[1]}/{p[4]}" for p in self.cat.products]
        shop_pages += [f"/blog/{s}" for s in SLUGS_SHOP_BLOG]
        links: list[str] = []
        for i in range(nc):
            site, pages = (
                (SITE_B2B, b2b_pages) if self.camp_aud[i] == 0 else (SITE_SHOP, shop_pages)
            )
            for p in rng.choice(len(pages), 3, replace=False):
                links.append(
                    f"{site}{pages[p]}?utm_source=newsletter&utm_medium=email"
                    f"&utm_campaign={self.camp_id[i]}"
                )
        self.camp_links = links


# --------------------------------------------------------------------------------------------
# Bad rows and duplicates
# --------------------------------------------------------------------------------------------


def _future(ts: str | None, far: bool) -> str:
    ts = ts or "2026-01-01T00:00:00.000Z"
    year = "2099" if far else f"{int(ts[:4]) + 1:04d}"  # a client clock a year ahead
    rest = ts[4:]
    if rest.startswith("-02-29"):
        rest = "-02-28" + rest[6:]
    return year + rest


class _Stats:
    def __init__(self) -> None:
        self.bad: dict[str, dict[str, int]] = {
            t: dict.fromkeys(BAD_REASONS.get(t, ()), 0) for t in RAW_TABLES
        }
        for t in DUPLICATE_TABLES:
            self.bad[t]["duplicate_id"] = 0
        self.kept: dict[str, dict[str, int]] = {
            t: dict.fromkeys(kept, 0) for t, kept in KEPT_ODDITIES.items()
        }

    def count(self, table: str, planted: str) -> None:
        counts = self.kept[table] if planted in KEPT_ODDITIES.get(table, ()) else self.bad[table]
        counts[planted] += 1


def _inject(
    name: str,
    table: pa.Table,
    sort_ms: np.ndarray,
    rng: np.random.Generator,
    stats: _Stats,
) -> pa.Table:
    """Add exact duplicates of valid rows and rows with exactly one defect; sort by time."""
    n = table.num_rows
    if n == 0:
        return table
    n_dup = int(rng.binomial(n, DUP_RATE)) if name in DUPLICATE_TABLES else 0
    n_bad = int(rng.binomial(n, BAD_RATE))
    dup_src = np.sort(rng.choice(n, n_dup, replace=False)) if n_dup else np.zeros(0, np.int64)
    bad_src = np.sort(rng.choice(n, n_bad, replace=False)) if n_bad else np.zeros(0, np.int64)
    reasons = PLANTED[name]
    reason_idx = rng.integers(0, len(reasons), n_bad)
    variant = rng.integers(0, 1 << 30, n_bad)
    id_col = "event_id" if name == "email_events" else "id"
    json_col = "properties" if name == "tracks" else "traits"
    new_ids = _hex_ids(rng, n_bad, "ev_", 24) if name == "email_events" else _hex_ids(rng, n_bad)
    new_ids_py = new_ids.to_pylist()
    rows = table.take(pa.array(bad_src, type=pa.int64())).to_pylist()
    for j, row in enumerate(rows):
        reason = reasons[reason_idx[j]]
        v = int(variant[j])
        stats.count(name, reason)
        row[id_col] = ("", None)[v % 2] if reason == "missing_id" else new_ids_py[j]
        if reason == "missing_identity":
            row["anonymous_id"] = ("", None)[v % 2]
            row["user_id"] = ("", None)[(v // 2) % 2]
        elif reason == "invalid_timestamp":
            row["timestamp"] = INVALID_TIMESTAMPS[v % len(INVALID_TIMESTAMPS)]
        elif reason == "future_timestamp":
            row["timestamp"] = _future(row["timestamp"], v % 3 > 0)
        elif reason == "dated_after_as_of":
            row["timestamp"] = _future(row["timestamp"], True)
        elif reason == "unmapped_event":
            pool = UNMAPPED_EMAIL_EVENTS if name == "email_events" else UNMAPPED_TRACK_EVENTS
            row["event"] = pool[v % len(pool)]
            if name == "email_events":
                row["machine_open"], row["url"] = "", None
                row["bounce_type"], row["reason"] = None, None
        elif reason == "malformed_json":
            text = row[json_col] or '{"price": 12.5}'
            row[json_col] = text[: max(1, len(text) // 2)]
        elif reason == "missing_email":
            row["email"] = ("", None)[v % 2]
    if name in DUPLICATE_TABLES:
        stats.bad[name]["duplicate_id"] += n_dup
    parts = [table]
    keys = [sort_ms]
    if n_dup:
        parts.append(table.take(pa.array(dup_src, type=pa.int64())))
        keys.append(sort_ms[dup_src])
    if n_bad:
        parts.append(pa.Table.from_pylist(rows, schema=table.schema))
        keys.append(sort_ms[bad_src])
    combined = pa.concat_tables(parts)
    order = np.argsort(np.concatenate(keys), kind="stable")
    return combined.take(pa.array(order, type=pa.int64()))


# --------------------------------------------------------------------------------------------
# One chunk of people: web, tracks, identifies, email events
# --------------------------------------------------------------------------------------------


def _received(t: np.ndarray, rng: np.random.Generator, counter: dict[str, int]) -> np.ndarray:
    rec = t + rng.integers(40, 4_000, len(t))
    late = rng.random(len(t)) < 0.01
    rec[late] += rng.integers(DAY, 5 * DAY, int(late.sum()))
    counter["late_received_at"] = counter.get("late_received_at", 0) + int(late.sum())
    return rec


def _event_names(
    cat: _Catalogue, ev: np.ndarray, rng: np.random.Generator, counter: dict[str, int]
) -> pa.Array:
    idx = ev.copy()
    count = cat.variant_count[ev]
    use = (count > 0) & (rng.random(len(ev)) < VARIANT_SHARE)
    pick = (rng.random(len(ev)) * np.maximum(count, 1)).astype(np.int64)
    idx[use] = cat.variant_start[ev[use]] + pick[use]
    counter["raw_event_variants"] = counter.get("raw_event_variants", 0) + int(use.sum())
    return _take(cat.event_names, idx)


class _Chunk:
    """Generates the event tables of people [lo, hi)."""

    def __init__(self, w: _World, lo: int, hi: int, rng: np.random.Generator) -> None:
        self.w = w
        self.rng = rng
        self.persons = np.arange(lo, hi)
        self.lo = lo
        self.tables: dict[str, tuple[pa.Table, np.ndarray]] = {}
        self.truth: list[tuple[int, str, str]] = []
        self.mess: dict[str, int] = {}

    def run(self) -> None:
        self._web()
        self._email()

    # ---- web --------------------------------------------------------------------------------

    def _web(self) -> None:
        w, rng, cat = self.w, self.rng, self.w.cat
        as_of = w.as_of
        P = self.persons
        npers = len(P)
        kind = w.kind[P]
        comp = w.company[P]
        comp0 = np.maximum(comp, 0)
        base = np.array([13.0, 15.0, 3.0, 0.0])[kind]
        web_start = w.web_start[P]
        lam = w.activity[P] * base * (as_of - web_start) / YEAR
        n_sess = rng.poisson(lam)
        dev_draw = np.where(
            kind == ANON,
            rng.choice([1, 2], npers, p=[0.8, 0.2]),
            rng.choice([1, 2, 3], npers, p=[0.5, 0.32, 0.18]),
        )
        n_dev = np.minimum(dev_draw, n_sess)
        n_devices = int(n_dev.sum())
        dev_person = np.repeat(np.arange(npers), n_dev)
        dev_first = _starts(n_dev)
        dev_rank = np.arange(n_devices) - dev_first[dev_person]
        ua_p = np.where(
            (dev_rank == 0)[:, None] & (kind[dev_person] == B2B)[:, None],
            UA_DESKTOP_P[None, :],
            np.where((dev_rank > 0)[:, None], UA_MOBILE_P[None, :], UA_ANY_P[None, :]),
        )
        ua_cdf = np.cumsum(ua_p, axis=1)
        dev_ua = np.minimum((rng.random(n_devices)[:, None] > ua_cdf).sum(axis=1), 7)
        anon_ids = _hex_ids(rng, n_devices)

        # Sessions.
        S = int(n_sess.sum())
        sp = np.repeat(np.arange(npers), n_sess)
        cdf = np.array([[1.0, 1.0, 1.0], [0.72, 1.0, 1.0], [0.6, 0.88, 1.0]])
        nd = n_dev[sp]
        sess_dev = dev_first[sp] + (rng.random(S)[:, None] > cdf[nd - 1]).sum(axis=1)
        ws = web_start[sp]
        t = ws + (rng.random(S) * (as_of - ws)).astype(np.int64)
        scomp = comp0[sp]
        in_deal = (comp[sp] >= 0) & (w.dec_start[scomp] < as_of) & (rng.random(S) < 0.45)
        d0 = np.maximum(w.dec_start[scomp], ws)
        d1 = np.minimum(w.dec_end[scomp], as_of)
        in_deal &= d1 > d0
        t = np.where(in_deal, d0 + (rng.random(S) * (d1 - d0)).astype(np.int64), t)
        skind = kind[sp]
        hour = np.where(skind == B2B, rng.normal(14.5, 3.0, S), rng.normal(19.5, 3.5, S)) % 24
        day = t // DAY
        weekday = (day + 3) % 7
        shift = (skind == B2B) & (weekday >= 5) & (rng.random(S) < 0.7)
        day = np.where(shift, day - (weekday - 4), day)
        t = day * DAY + (hour * HOUR).astype(np.int64)
        t = np.clip(t, np.maximum(ws, w.start), as_of - MIN)

        seg = np.full(S, SEG_GENERAL)
        seg[skind == B2C] = SEG_SHOP
        seg[(skind == ANON) & (w.anon_site[P][sp] == 1)] = SEG_SHOP
        is_b2b = skind == B2B
        customer = is_b2b & (w.sub_start[scomp] <= t) & (t < w.sub_end[scomp])
        deciding = is_b2b & ~customer & (w.dec_start[scomp] <= t) & (t <= w.dec_end[scomp])
        seg[deciding] = SEG_DECISION
        seg[customer] = SEG_CUSTOMER

        shop = seg == SEG_SHOP
        u = rng.random(S)
        known = skind == B2C
        stage = np.zeros(S, dtype=np.int64)
        stage[shop & known & (u < 0.16)] = 1
        stage[shop & known & (u < 0.08)] = 2
        stage[shop & known & (u < 0.05)] = 3
        stage[shop & ~known & (u < 0.08)] = 1
        stage[shop & ~known & (u < 0.02)] = 2
        heavy = w.discount_heavy[P][sp]
        n_browse = np.minimum(
            np.where(seg == SEG_DECISION, rng.geometric(1 / 4.0, S), rng.geometric(1 / 3.0, S)),
            30,
        )
        n_pages = n_browse + (stage >= 1) + (stage >= 2)

        # Pages.
        E = int(n_pages.sum())
        ps = np.repeat(np.arange(S), n_pages)
        sess_first = _starts(n_pages)
        pos = np.arange(E) - sess_first[ps]
        gaps = (rng.exponential(50_000, E) + 2_000).astype(np.int64)
        gaps[sess_first] = 0
        cs = np.cumsum(gaps)
        pt = t[ps] + cs - cs[sess_first][ps]
        pseg = seg[ps]
        ucat = rng.random(E)
        pcat = np.zeros(E, dtype=np.int64)
        for s in range(4):
            m = pseg == s
            pick = np.searchsorted(cat.seg_cdf[s], ucat[m], side="right")
            pcat[m] = cat.seg_cats[s][np.minimum(pick, len(cat.seg_cats[s]) - 1)]
        nb = n_browse[ps]
        pst = stage[ps]
        added_page = (pst >= 1) & (pos == nb - 1)
        pcat[added_page] = C_SHOP_PRODUCT
        pcat[(pst >= 1) & (pos == nb)] = C_CART
        checkout_page = (pst >= 2) & (pos == nb + 1)
        pcat[checkout_page] = C_CHECKOUT
        entry = cat.cat_start[pcat] + (rng.random(E) * cat.cat_count[pcat]).astype(np.int64)
        pdev = sess_dev[ps]

        # Referrers and newsletter-tagged landing urls.
        first_page = pos == 0
        rr = rng.random(E)
        shop_page = pcat >= C_SHOP_HOME
        ref = np.full(E, -1, dtype=np.int64)
        ref[first_page & (rr < 0.3)] = 0
        ref[first_page & (rr >= 0.3) & (rr < 0.42)] = np.where(
            shop_page[first_page & (rr >= 0.3) & (rr < 0.42)], 0, 1
        )
        newsletter = first_page & (rr >= 0.42) & (rr < 0.55)
        ref[newsletter] = np.where(shop_page[newsletter], 3, 2)
        inner = ~first_page & (rr < 0.75)
        prev = np.maximum(np.arange(E) - 1, 0)
        ref[inner] = len(cat.externals) + entry[prev[inner]]
        url_idx = np.where(newsletter, entry + cat.n, entry)

        # Tracks that follow from pages.
        tr_page: list[np.ndarray] = []
        tr_ev: list[np.ndarray] = []
        tr_dt: list[np.ndarray] = []
        tr_prop: list[np.ndarray] = []
        pkind = skind[ps]
        viewed = (pcat == C_SHOP_PRODUCT) & (rng.random(E) < 0.85)
        idx = np.flatnonzero(viewed)
        tr_page.append(idx)
        tr_ev.append(np.full(len(idx), EV_VIEWED))
        tr_dt.append(np.full(len(idx), 1_200))
        tr_prop.append(cat.page_props[EV_VIEWED, entry[idx]])
        sess_prod = np.zeros(S, dtype=np.int64)
        sess_q = np.ones(S, dtype=np.int64)
        idx = np.flatnonzero(added_page)
        q = rng.choice([1, 2, 3], len(idx), p=[0.7, 0.2, 0.1])
        sess_prod[ps[idx]] = cat.product[entry[idx]]
        sess_q[ps[idx]] = q
        tr_page.append(idx)
        tr_ev.append(np.full(len(idx), EV_ADDED))
        tr_dt.append(rng.integers(15_000, 40_000, len(idx)))
        tr_prop.append(cat.added_props[cat.product[entry[idx]] * 3 + q - 1])
        idx = np.flatnonzero(checkout_page)
        tr_page.append(idx)
        tr_ev.append(np.full(len(idx), EV_CHECKOUT))
        tr_dt.append(np.full(len(idx), 2_000))
        tr_prop.append(cat.checkout_props[sess_prod[ps[idx]] * 3 + sess_q[ps[idx]] - 1])
        # Orders: properties built per row (they are few).
        idx = np.flatnonzero(checkout_page & (pst == 3))
        order_ids = _hex_ids(rng, len(idx), "ord_", 12).to_pylist()
        disc_u = rng.random(len(idx))
        coupon_u = rng.random(len(idx))
        coupon_pick = rng.integers(0, len(COUPONS), len(idx))
        order_props: list[str] = []
        for j, page in enumerate(idx):
            s = ps[page]
            prod = int(sess_prod[s])
            qty = int(sess_q[s])
            pid, category, _name, price, _ = cat.products[prod]
            gross = round(price * qty, 2)
            discounted = disc_u[j] < (0.75 if heavy[s] else 0.15)
            code, rate = COUPONS[coupon_pick[j]]
            coupon = code if discounted and coupon_u[j] < 0.7 else None
            discount = round(gross * rate, 2) if discounted else 0.0
            order_props.append(
                json.dumps(
                    {
                        "order_id": order_ids[j],
                        "product_id": pid,
                        "category": category,
                        "price": price,
                        "quantity": qty,
                        "revenue": round(gross - discount, 2),
                        "discount": discount,
                        "coupon": coupon,
                        "currency": "USD",
                    }
                )
            )
        n_base_props = len(cat.props)
        tr_page.append(idx)
        tr_ev.append(np.full(len(idx), EV_ORDER))
        tr_dt.append(rng.integers(60_000, 240_000, len(idx)))
        tr_prop.append(n_base_props + np.arange(len(idx)))
        # B2B chains (anonymous visitors only ever start forms).
        b2b_site = (pcat < C_SHOP_HOME) & (pkind != B2C)
        alive = b2b_site.copy()
        delay = np.zeros(E, dtype=np.int64)
        for k in range(3):
            ev = cat.chain_ev[pcat, k]
            alive &= (ev >= 0) & (rng.random(E) < cat.chain_p[pcat, k])
            if k > 0:
                alive &= pkind != ANON
            delay += cat.chain_delay[pcat, k] + rng.integers(0, 20_000, E)
            idx = np.flatnonzero(alive)
            tr_page.append(idx)
            tr_ev.append(ev[idx])
            tr_dt.append(delay[idx])
            tr_prop.append(cat.page_props[ev[idx], entry[idx]])

        # Keep what happened before as_of.
        keep_page = pt <= as_of
        counts = np.bincount(pdev[keep_page], minlength=n_devices)
        order = np.lexsort((pt, pdev))
        order = order[keep_page[order]]  # pages per device in time order, kept only
        dfirst = _starts(counts)

        # Identification per device.
        owner_kind = kind[dev_person]
        can_ident = (counts > 0) & ((owner_kind == B2B) | (owner_kind == B2C))
        rank = (rng.random(n_devices) ** 1.7 * np.minimum(counts, 6)).astype(np.int64)
        rank = np.minimum(rank, np.maximum(counts - 1, 0))
        t1 = np.full(n_devices, NO_TIME, dtype=np.int64)
        ci = np.flatnonzero(can_ident)
        t1[ci] = pt[order[dfirst[ci] + rank[ci]]] + rng.integers(2_000, 40_000, len(ci))
        t1[t1 > as_of] = NO_TIME
        identified = t1 < NO_TIME
        # Shared devices: a second person identifies later on someone's device.
        t2 = np.full(n_devices, NO_TIME, dtype=np.int64)
        dev2 = np.full(n_devices, -1, dtype=np.int64)
        person_first = np.full(npers, NO_TIME, dtype=np.int64)
        np.minimum.at(person_first, dev_person[identified], t1[identified])
        cand = np.flatnonzero(identified & (counts - rank - 1 >= 2))
        n_shared = int(rng.binomial(len(cand), 0.005)) if len(cand) else 0
        if n_shared == 0 and len(cand) >= 20:
            n_shared = 1
        ident_people = np.flatnonzero(person_first < NO_TIME)
        for d in rng.choice(cand, n_shared, replace=False) if n_shared else []:
            a = dev_person[d]
            pool = ident_people[(kind[ident_people] == kind[a]) & (ident_people != a)]
            if len(pool) == 0:
                continue
            b = int(pool[rng.integers(0, len(pool))])
            r2 = int(rng.integers(rank[d] + 1, counts[d] - 1))
            t2[d] = pt[order[dfirst[d] + r2]] + 3_000
            dev2[d] = b
        self.mess["shared_devices"] = int((dev2 >= 0).sum())

        # Identification tracks: the person's first identification (sign-up or form submit).
        first_dev = np.flatnonzero(identified & (t1 == person_first[dev_person]))
        _, uniq = np.unique(dev_person[first_dev], return_index=True)
        first_dev = first_dev[uniq]
        fp = dev_person[first_dev]
        fu = rng.random(len(first_dev))
        is_signup = (kind[fp] == B2C) | (fu < 0.4)
        sig_ev = np.where(is_signup, EV_SIGNUP, EV_FORM_SUBMITTED)
        sig_prop = np.where(
            is_signup,
            cat.signup_props[rng.integers(0, len(cat.signup_props), len(fp))],
            cat.newsletter_props,
        )
        trial = is_signup & (kind[fp] == B2B) & (rng.random(len(fp)) < 0.35)
        w.first_ident[P[fp]] = person_first[fp]
        w.had_form[P[fp[~is_signup]]] = True
        # Page index -1 marks "no page": these rows carry their device and time directly.
        extra_dev = np.concatenate([first_dev, first_dev[trial]])
        extra_t = np.concatenate([t1[first_dev] + 300, t1[first_dev[trial]] + 45_000])
        extra_ev = np.concatenate([sig_ev, np.full(int(trial.sum()), EV_TRIAL)])
        extra_prop = np.concatenate(
            [sig_prop, cat.trial_props[rng.integers(0, 3, int(trial.sum()))]]
        )

        # Assemble tracks.
        tp = np.concatenate(tr_page)
        t_dev = np.concatenate([pdev[tp], extra_dev])
        t_t = np.concatenate([pt[tp] + np.concatenate(tr_dt), extra_t])
        t_ev = np.concatenate([np.concatenate(tr_ev), extra_ev]).astype(np.int64)
        t_prop = np.concatenate([np.concatenate(tr_prop), extra_prop]).astype(np.int64)
        keep = t_t <= as_of
        t_dev, t_t, t_ev, t_prop = t_dev[keep], t_t[keep], t_ev[keep], t_prop[keep]

        def user_person(dev: np.ndarray, tt: np.ndarray) -> np.ndarray:
            return np.where(tt >= t2[dev], dev2[dev], np.where(tt >= t1[dev], dev_person[dev], -1))

        uid_vocab = pa.array([w.uid[i] for i in P], type=pa.string())
        ua_vocab = pa.array(USER_AGENTS)

        # Pages table.
        sel = np.flatnonzero(keep_page)
        sel = sel[np.argsort(pt[sel], kind="stable")]
        p_t = pt[sel]
        p_dev = pdev[sel]
        p_entry = entry[sel]
        pages = pa.table(
            {
                "id": _hex_ids(rng, len(sel)),
                "anonymous_id": pc.take(anon_ids, pa.array(p_dev)),
                "user_id": _take(uid_vocab, user_person(p_dev, p_t)),
                "timestamp": _timestamps(p_t, rng),
                "received_at": _timestamps(_received(p_t, rng, self.mess), rng),
                "url": pc.take(cat.url, pa.array(url_idx[sel])),
                "path": pc.take(cat.path, pa.array(p_entry)),
                "name": pc.take(cat.name, pa.array(p_entry)),
                "title": pc.take(cat.title, pa.array(p_entry)),
                "referrer": _take(cat.referrer, ref[sel]),
                "context_user_agent": pc.take(ua_vocab, pa.array(dev_ua[p_dev])),
            }
        )
        self.tables["pages"] = (pages, p_t)

        o = np.argsort(t_t, kind="stable")
        t_dev, t_t, t_ev, t_prop = t_dev[o], t_t[o], t_ev[o], t_prop[o]
        props_vocab = pa.array(cat.props + order_props, type=pa.string())
        tracks = pa.table(
            {
                "id": _hex_ids(rng, len(t_t)),
                "anonymous_id": pc.take(anon_ids, pa.array(t_dev)),
                "user_id": _take(uid_vocab, user_person(t_dev, t_t)),
                "event": _event_names(cat, t_ev, rng, self.mess),
                "timestamp": _timestamps(t_t, rng),
                "received_at": _timestamps(_received(t_t, rng, self.mess), rng),
                "properties": pc.take(props_vocab, pa.array(t_prop)),
            }
        )
        self.tables["tracks"] = (tracks, t_t)

        # Identifies.
        i_dev: list[int] = []
        i_t: list[int] = []
        i_person: list[int] = []  # local person index, -1 for garbage rows
        i_email: list[str | None] = []
        i_traits: list[str | None] = []
        i_uid: list[str | None] = []

        def add(d: int, tt: int, person: int, email: str | None, traits: str | None) -> None:
            i_dev.append(d)
            i_t.append(tt)
            i_person.append(person)
            i_email.append(email)
            i_traits.append(traits)
            i_uid.append(w.uid[P[person]])

        def later(d: int, base_t: int, frac: float) -> int:
            limit = min(int(t2[d]), as_of)
            return int(base_t + frac * max(0, limit - base_t - MIN))

        reident = rng.poisson(0.6, n_devices)
        fr = rng.random((n_devices, 4))
        for d in np.flatnonzero(identified):
            a = int(dev_person[d])
            gi = P[a]
            add(int(d), int(t1[d]), a, w.ident_email[gi], w.traits[gi])
            for k in range(min(int(reident[d]), 3)):
                add(int(d), later(d, int(t1[d]), fr[d, k]), a, w.ident_email[gi], w.traits[gi])
            if dev2[d] >= 0:
                b = int(dev2[d])
                add(int(d), int(t2[d]), b, w.ident_email[P[b]], w.traits[P[b]])
        n_gmail = n_mailbox = 0
        for d in first_dev:
            a = int(dev_person[d])
            gi = P[a]
            if w.gmail[gi] is not None:
                email = w.gmail[gi]
                traits = json.loads(w.traits[gi] or "{}")
                traits["email"] = email
                add(int(d), later(d, int(t1[d]), fr[d, 3]), a, email, json.dumps(traits))
                n_gmail += 1
            if w.uses_mailbox[gi] >= 0:
                email = w.esp_email[int(w.uses_mailbox[gi])]
                traits = json.loads(w.traits[gi] or "{}")
                traits["email"] = email
                add(int(d), later(d, int(t1[d]), fr[d, 2]), a, email, json.dumps(traits))
                n_mailbox += 1
        self.mess["personal_gmail_identifies"] = n_gmail
        self.mess["shared_mailbox_identifies"] = n_mailbox
        used_devices = np.flatnonzero(counts > 0)
        n_real = len(i_dev)
        n_garbage = int(rng.binomial(n_real, 0.006)) if n_real else 0
        if n_garbage == 0 and len(used_devices) >= 10:
            n_garbage = 2
        for j in range(n_garbage if len(used_devices) else 0):
            d = int(used_devices[rng.integers(0, len(used_devices))])
            page = order[dfirst[d] + int(rng.integers(0, counts[d]))]
            i_dev.append(d)
            i_t.append(min(int(pt[page]) + 1_500, as_of))
            i_person.append(-1)
            i_email.append(("", None)[j % 2])
            i_traits.append("{}")
            i_uid.append(GARBAGE_USER_IDS[j % len(GARBAGE_USER_IDS)])
        self.mess["garbage_identifies"] = n_garbage
        id_t = np.array(i_t, dtype=np.int64)
        o = np.argsort(id_t, kind="stable")
        id_t = id_t[o]
        id_dev = np.array(i_dev, dtype=np.int64)[o]
        identifies = pa.table(
            {
                "id": _hex_ids(rng, len(o)),
                "anonymous_id": pc.take(anon_ids, pa.array(id_dev, type=pa.int64())),
                "user_id": pc.take(pa.array(i_uid, type=pa.string()), pa.array(o)),
                "email": pc.take(pa.array(i_email, type=pa.string()), pa.array(o)),
                "timestamp": _timestamps(id_t, rng),
                "received_at": _timestamps(_received(id_t, rng, self.mess), rng),
                "traits": pc.take(pa.array(i_traits, type=pa.string()), pa.array(o)),
            }
        )
        self.tables["identifies"] = (identifies, id_t)

        # Ground truth for everything written on valid web rows.
        anon_py = anon_ids.to_pylist()
        for d in used_devices:
            self.truth.append((int(P[dev_person[d]]), "anonymous_id", anon_py[d]))
        uid_people: set[int] = set()
        for arr in (user_person(p_dev, p_t), user_person(t_dev, t_t)):
            uid_people.update(np.unique(arr[arr >= 0]).tolist())
        uid_people.update(p for p in i_person if p >= 0)
        for p in sorted(uid_people):
            self.truth.append((int(P[p]), "user_id", w.uid[P[p]] or ""))
        self._truth_emails(identifies.column("email"))

    def _truth_emails(self, column: pa.ChunkedArray) -> None:
        for email in pc.unique(column).to_pylist():
            if email:
                self.truth.append((self.w.email_owner[email], "email", email))

    # ---- email ------------------------------------------------------------------------------

    def _email(self) -> None:
        w, rng = self.w, self.rng
        as_of = w.as_of
        P = self.persons
        rec = P[[w.esp_email[i] is not None and bool(w.subscribed[i]) for i in P]]
        nr = len(rec)
        aud = np.where(w.kind[rec] == B2C, 1, 0)
        camp_t = w.camp_time
        nc = len(camp_t)
        mask = (
            (w.camp_aud[None, :] == aud[:, None])
            & (camp_t[None, :] >= w.email_sub_start[rec][:, None])
            & (rng.random((nr, nc)) < w.p_recv[rec][:, None])
        )
        r_idx, c_idx = np.nonzero(mask)
        ns = len(r_idx)
        send_t = camp_t[c_idx] + rng.integers(0, 40 * MIN, ns)
        u = rng.random(ns)
        bounce = u < 0.02
        dropped = (u >= 0.02) & (u < 0.025)
        deferred = (u >= 0.025) & (u < 0.035)
        delivered = ~(bounce | dropped)
        deliver_t = send_t + np.where(
            deferred, rng.integers(5 * MIN, 180 * MIN, ns), rng.integers(1_000, 30_000, ns)
        )
        ro = rec[r_idx]
        human_open = delivered & (rng.random(ns) < w.p_open[ro])
        open_t = deliver_t + np.minimum(
            (rng.lognormal(np.log(2.5 * HOUR), 1.2, ns)).astype(np.int64), 20 * DAY
        )
        unsub = delivered & (rng.random(ns) < 0.003)
        spam = delivered & ~unsub & (rng.random(ns) < 0.0005)
        after = np.where(human_open, open_t, deliver_t) + rng.integers(30_000, 10 * MIN, ns)
        # No sends after an unsubscribe or a spam report.
        stop_at = np.full(nr, NO_TIME, dtype=np.int64)
        np.minimum.at(stop_at, r_idx, np.where(unsub | spam, after, NO_TIME))
        keep = send_t <= stop_at[r_idx]
        u = u[keep]
        r_idx, c_idx, ro = r_idx[keep], c_idx[keep], ro[keep]
        send_t, deliver_t, open_t, after = send_t[keep], deliver_t[keep], open_t[keep], after[keep]
        bounce, dropped, deferred = bounce[keep], dropped[keep], deferred[keep]
        delivered, human_open, unsub, spam = (
            delivered[keep],
            human_open[keep],
            unsub[keep],
            spam[keep],
        )
        ns = len(r_idx)
        self.mess["unsubscribes"] = int(unsub.sum())
        machine = delivered & w.apple[ro]
        second = human_open & (rng.random(ns) < 0.2)
        click = human_open & (rng.random(ns) < w.p_click[ro])
        second_t = open_t + rng.integers(30 * MIN, 2 * DAY, ns)
        click_t = open_t + rng.integers(5_000, 30 * MIN, ns)
        # what the ESP says about a bounce or a drop, from the draw that decided the outcome:
        # of the bounced sends (2 %) a fifth bounce hard, a fifth are blocked, the rest soft;
        # of the dropped ones (0.5 %) a fifth because the ESP holds the address as bounced
        bounce_kind = np.select([u < 0.004, u < 0.008], [0, 2], 1)  # BOUNCE_TYPES
        drop_kind = np.where(u < 0.021, 0, 1)  # DROP_REASONS
        ar = np.arange(ns)
        pieces = [
            (ar, EE_PROCESSED, send_t, 0),
            (ar[dropped], EE_DROPPED, send_t[dropped] + 1_000, 0),
            (ar[bounce], EE_BOUNCE, send_t[bounce] + rng.integers(2_000, 20_000, ns)[bounce], 0),
            (
                ar[deferred],
                EE_DEFERRED,
                send_t[deferred] + rng.integers(1_000, 10_000, ns)[deferred],
                0,
            ),
            (ar[delivered], EE_DELIVERED, deliver_t[delivered], 0),
            (
                ar[machine],
                EE_OPEN,
                deliver_t[machine] + rng.integers(5_000, 59_000, ns)[machine],
                1,
            ),
            (ar[human_open], EE_OPEN, open_t[human_open], 2),
            (ar[second], EE_OPEN, second_t[second], 2),
            (ar[click], EE_CLICK, click_t[click], 3),
            (ar[unsub], EE_UNSUB, after[unsub], 0),
            (ar[spam], EE_SPAM, after[spam], 0),
        ]
        e_send = np.concatenate([p[0] for p in pieces])
        e_type = np.concatenate([np.full(len(p[0]), p[1]) for p in pieces])
        e_t = np.concatenate([p[2] for p in pieces]).astype(np.int64)
        e_kind = np.concatenate([np.full(len(p[0]), p[3]) for p in pieces])
        keep = e_t <= as_of
        e_send, e_type, e_t, e_kind = e_send[keep], e_type[keep], e_t[keep], e_kind[keep]
        o = np.argsort(e_t, kind="stable")
        e_send, e_type, e_t, e_kind = e_send[o], e_type[o], e_t[o], e_kind[o]
        n = len(e_t)
        message_ids = _hex_ids(rng, ns, "msg_", 20)
        link = c_idx[e_send] * 3 + rng.integers(0, 3, n)
        email_vocab = pa.array([w.esp_email[i] for i in rec], type=pa.string())
        table = pa.table(
            {
                "event_id": _hex_ids(rng, n, "ev_", 24),
                "email": pc.take(email_vocab, pa.array(r_idx[e_send])),
                "event": _take(list(EMAIL_EVENT_TYPES), e_type),
                "timestamp": _timestamps(e_t, rng),
                "campaign_id": _take(w.camp_id, c_idx[e_send]),
                "message_id": pc.take(message_ids, pa.array(e_send)),
                "url": _take(w.camp_links, np.where(e_kind == 3, link, -1)),
                "machine_open": _take(["", "true", "false"], np.where(e_kind == 3, 0, e_kind)),
                "bounce_type": _take(
                    list(BOUNCE_TYPES), np.where(e_type == EE_BOUNCE, bounce_kind[e_send], -1)
                ),
                "reason": _take(
                    list(DROP_REASONS), np.where(e_type == EE_DROPPED, drop_kind[e_send], -1)
                ),
            }
        )
        self.tables["email_events"] = (table, e_t)
        self._truth_emails(table.column("email"))


# --------------------------------------------------------------------------------------------
# CRM and account tables
# --------------------------------------------------------------------------------------------


def _crm(
    w: _World,
    rng: np.random.Generator,
    writers: dict[str, _TableWriter],
    stats: _Stats,
    truth: list[tuple[int, str, str]],
) -> None:
    as_of = w.as_of
    nc = w.n_comp
    # ---- companies
    companies = pa.table(
        {
            "company_id": w.comp_id,
            "name": w.comp_name,
            "domain": w.comp_domain,
            "updated_at": _timestamps(w.comp_updated, rng),
            "industry": w.comp_industry,
            "employee_count": _ints(w.comp_employees),
            "annual_revenue": pc.if_else(
                pa.array(w.comp_revenue_missing), pa.nulls(nc, pa.string()), _ints(w.comp_revenue)
            ),
            "country": [COUNTRIES[c] for c in w.comp_country],
            "is_target_account": ["true" if t else "false" for t in w.comp_target],
        }
    )
    writers["crm_companies"].write(companies)

    # ---- contacts
    records: list[dict[str, Any]] = []
    persona_draw = rng.choice(len(PERSONAS), w.total, p=PERSONA_P)
    r = rng.random((w.total, 8))
    owners = rng.integers(1, 41, nc)
    duplicate_people = 0
    for c in range(nc):
        members = w.members[c]
        # At most 10 contact ids per company, counting duplicates and the shared mailbox.
        room = 10 - (1 if c in w.mailbox_person else 0)
        in_crm = [int(members[0])] if len(members) else []
        for i in members[1:]:
            if len(in_crm) < room and r[i, 0] < 0.8:
                in_crm.append(int(i))
        room -= len(in_crm)
        customer = w.sub_start[c] < NO_TIME
        for i in in_crm:
            persona = PERSONAS[persona_draw[i]]
            titles = JOB_TITLES.get(persona, ALL_TITLES)
            if w.first_ident[i] < NO_TIME:
                created = min(int(w.first_ident[i]) + int(r[i, 1] * 3 * DAY) + HOUR, as_of - MIN)
            else:
                created = as_of - int((0.02 + r[i, 1]) * 3 * YEAR)
            if customer:
                stage = "evangelist" if r[i, 2] < 0.1 else "customer"
            elif w.deal[c]:
                stage = "opportunity" if r[i, 2] < 0.6 else "salesqualifiedlead"
            elif w.had_form[i]:
                stage = "marketingqualifiedlead" if r[i, 2] < 0.6 else "lead"
            else:
                stage = ("subscriber", "lead", "other")[int(r[i, 2] * 3)]
            updated = created + int(r[i, 3] * (as_of - created))
            verified: int = NO_TIME
            if r[i, 4] >= 0.2:
                verified = created + int(r[i, 5] * (as_of - created))
            rec = {
                "person": i,
                "email": w.crm_email[i],
                "company_id": w.comp_id[c],
                "created": created,
                "updated": updated,
                "first_name": FIRST_NAMES[w.first[i]].title(),
                "last_name": LAST_NAMES[w.last[i]].title(),
                "job_title": titles[int(r[i, 6] * len(titles))],
                "persona": persona,
                "lifecycle_stage": stage,
                "owner_id": f"O{int(owners[c]) if r[i, 7] < 0.8 else int(1 + r[i, 7] * 39):03d}",
                "verified": verified,
            }
            records.append(rec)
            if w.crm_dup_email[i] is not None and room > 0:
                room -= 1
                duplicate_people += 1
                dup = dict(rec)
                dup["email"] = w.crm_dup_email[i]
                dup["created"] = created + int((as_of - created) * 0.3)
                dup["updated"] = dup["created"] + int((as_of - dup["created"]) * 0.5)
                dup["lifecycle_stage"] = "lead"
                dup["owner_id"] = f"O{1 + (int(owners[c]) + 7) % 40:03d}"
                records.append(dup)
        if c in w.mailbox_person:
            i = w.mailbox_person[c]
            created = as_of - int((0.05 + r[i, 1]) * 2 * YEAR)
            records.append(
                {
                    "person": i,
                    "email": w.crm_email[i],
                    "company_id": w.comp_id[c],
                    "created": created,
                    "updated": created + int(r[i, 3] * (as_of - created)),
                    "first_name": None,
                    "last_name": None,
                    "job_title": None,
                    "persona": "",
                    "lifecycle_stage": "other",
                    "owner_id": f"O{int(owners[c]):03d}",
                    "verified": NO_TIME,
                }
            )
    records.sort(key=lambda x: (x["created"], x["person"], x["email"]))
    for k, rec in enumerate(records):
        rec["contact_id"] = f"K{k + 1:07d}"
    w_contacts = len(records)
    stats_dup = int(max(1, rng.binomial(w_contacts, 0.01))) if w_contacts >= 20 else 0
    stats_missing = int(max(1, rng.binomial(w_contacts, 0.005))) if w_contacts >= 20 else 0
    rows = list(records)
    for k in np.sort(rng.choice(w_contacts, stats_dup, replace=False)) if stats_dup else []:
        old = dict(records[k])
        old["updated"] = old["created"] + (old["updated"] - old["created"]) // 3
        old["lifecycle_stage"] = "lead" if old["lifecycle_stage"] != "lead" else "subscriber"
        old["verified"] = NO_TIME
        rows.append(old)
    for j, k in enumerate(rng.integers(0, w_contacts, stats_missing) if stats_missing else []):
        bad = dict(records[k])
        bad["contact_id"] = ("", None)[j % 2]
        rows.append(bad)
    stats.bad["crm_contacts"]["duplicate_id"] = stats_dup
    stats.bad["crm_contacts"]["missing_id"] = stats_missing
    rows.sort(key=lambda x: x["updated"])
    contacts = pa.table(
        {
            "contact_id": [x["contact_id"] for x in rows],
            "email": [x["email"] for x in rows],
            "company_id": [x["company_id"] for x in rows],
            "created_at": _timestamps(np.array([x["created"] for x in rows], np.int64), rng),
            "updated_at": _timestamps(np.array([x["updated"] for x in rows], np.int64), rng),
            "first_name": [x["first_name"] for x in rows],
            "last_name": [x["last_name"] for x in rows],
            "job_title": [x["job_title"] for x in rows],
            "persona": [x["persona"] for x in rows],
            "lifecycle_stage": [x["lifecycle_stage"] for x in rows],
            "owner_id": [x["owner_id"] for x in rows],
            "firmographics_verified_at": _timestamps(
                np.array([x["verified"] for x in rows], np.int64), rng
            ),
        }
    )
    writers["crm_contacts"].write(contacts)
    for rec in records:
        truth.append((rec["person"], "crm_contact_id", rec["contact_id"]))
        truth.append((w.email_owner[rec["email"]], "email", rec["email"]))
    w.mess["duplicate_crm_people"] = duplicate_people

    # ---- deals
    stages = (
        "appointmentscheduled",
        "qualifiedtobuy",
        "presentationscheduled",
        "decisionmakerboughtin",
        "contractsent",
        "closedwon",
        "closedlost",
    )
    by_company: dict[str, list[dict[str, Any]]] = {}
    for rec in records:
        by_company.setdefault(rec["company_id"], []).append(rec)
    deal_rows: list[dict[str, Any]] = []
    for c in np.flatnonzero(w.deal):
        contacts_c = [x for x in by_company.get(w.comp_id[c], []) if x["persona"] != ""]
        contacts_c = contacts_c or by_company.get(w.comp_id[c], [])
        preferred = [x for x in contacts_c if x["persona"] in ("decision_maker", "champion")]
        pick = (preferred or contacts_c or [None])[0]
        deal_rows.append(
            {
                "deal_id": f"D{len(deal_rows) + 1:05d}",
                "company_id": w.comp_id[c],
                "stage": stages[int(w.deal_stage[c])],
                "created": int(w.deal_created[c]),
                "contact_id": pick["contact_id"] if pick else None,
                "amount": str(int(w.deal_amount[c])),
                "closed": int(w.deal_closed[c]),
                "is_won": "true" if w.deal_won[c] else "false",
            }
        )
    deals = pa.table(
        {
            "deal_id": [x["deal_id"] for x in deal_rows],
            "company_id": [x["company_id"] for x in deal_rows],
            "stage": [x["stage"] for x in deal_rows],
            "created_at": _timestamps(np.array([x["created"] for x in deal_rows], np.int64), rng),
            "contact_id": [x["contact_id"] for x in deal_rows],
            "amount": [x["amount"] for x in deal_rows],
            "closed_at": _timestamps(np.array([x["closed"] for x in deal_rows], np.int64), rng),
            "is_won": [x["is_won"] for x in deal_rows],
        }
    )
    writers["crm_deals"].write(deals)

    # ---- subscriptions and daily product usage
    subs = np.flatnonzero(w.sub_start < NO_TIME)
    plans = ("starter", "growth", "enterprise")
    subscriptions = pa.table(
        {
            "company_id": [w.comp_id[c] for c in subs],
            "started_at": _timestamps(w.sub_start[subs], rng),
            "status": ["churned" if w.sub_churned[c] else "active" for c in subs],
            "renews_at": _timestamps(w.sub_renews[subs], rng),
            "plan": [plans[int(w.plan[c])] for c in subs],
        }
    )
    writers["subscriptions"].write(subscriptions)
    start_day = w.start // DAY
    as_of_day = (as_of - 1) // DAY  # the last full day before as_of
    u_company: list[np.ndarray] = []
    u_day: list[np.ndarray] = []
    u_users: list[np.ndarray] = []
    u_actions: list[np.ndarray] = []
    for c in subs:
        first = max(int(w.sub_start[c] // DAY), int(start_day))
        last = min(int(as_of_day), int(w.sub_end[c] // DAY) - 1) if w.sub_churned[c] else as_of_day
        if last < first:
            continue
        days = np.arange(first, last + 1)
        seats = float(np.clip(w.comp_employees[c] * rng.uniform(0.03, 0.12), 3, 800))
        ramp = np.minimum(1.0, 0.2 + (days - w.sub_start[c] // DAY) / 30)
        weekend = np.where((days + 3) % 7 >= 5, 0.3, 1.0)
        trend = np.ones(len(days))
        if w.sub_declining[c]:
            end_day = last + 1
            trend = 1 - 0.8 * np.clip((days - (end_day - 60)) / 60, 0, 1)
        users = rng.poisson(seats * ramp * weekend * trend)
        actions = rng.poisson(users * rng.uniform(4, 25))
        u_company.append(np.full(len(days), c))
        u_day.append(days)
        u_users.append(users)
        u_actions.append(actions)
    if u_day:
        days_all = np.concatenate(u_day)
        usage = pa.table(
            {
                "company_id": _take(w.comp_id, np.concatenate(u_company)),
                "usage_date": _dates(days_all),
                "active_users": _ints(np.concatenate(u_users)),
                "key_actions": _ints(np.concatenate(u_actions)),
            }
        )
        o = np.argsort(days_all, kind="stable")
        writers["product_usage"].write(usage.take(pa.array(o)))

    # ---- intent signals
    recent_deal = w.deal & (w.deal_created > w.start)
    has_intent = rng.random(nc) < np.where(recent_deal, 0.55, 0.16)
    if nc >= 3 and not has_intent.any():
        has_intent[0] = True
    i_dom: list[str] = []
    i_topic: list[str] = []
    i_score: list[int] = []
    i_t: list[int] = []
    for c in np.flatnonzero(has_intent):
        if recent_deal[c]:
            anchor = int(w.deal_created[c]) - 7 * DAY
        else:
            anchor = w.start + int(rng.random() * (as_of - w.start))
        topics = rng.choice(len(INTENT_TOPICS), int(rng.integers(1, 5)), replace=False)
        for topic in topics:
            weeks = int(rng.integers(1, 9))
            level = rng.uniform(35, 90)
            for k in range(weeks):
                t = anchor - (weeks - 1 - k) * 7 * DAY
                t = t - t % DAY + 6 * HOUR
                if t < w.start or t > as_of:
                    continue
                score = int(np.clip(round(level + 3 * k + rng.normal(0, 6)), 0, 100))
                i_dom.append(w.comp_domain[c])
                i_topic.append(INTENT_TOPICS[topic])
                i_score.append(score)
                i_t.append(t)
    it = np.array(i_t, dtype=np.int64)
    o = np.argsort(it, kind="stable")
    intent = pa.table(
        {
            "company_domain": pa.array(i_dom, type=pa.string()),
            "topic": pa.array(i_topic, type=pa.string()),
            "score": _ints(np.array(i_score, dtype=np.int64)),
            "observed_at": _timestamps(it, rng),
        }
    )
    writers["intent_signals"].write(intent.take(pa.array(o, type=pa.int64())))


# --------------------------------------------------------------------------------------------
# Entry point
# --------------------------------------------------------------------------------------------


def _as_of_ms(as_of: datetime) -> int:
    if as_of.tzinfo is None:
        as_of = as_of.replace(tzinfo=UTC)
    return int((as_of - datetime(1970, 1, 1, tzinfo=UTC)) / timedelta(milliseconds=1))


def generate(
    out_dir: Path,
    *,
    people: int = 500,
    seed: int = 42,
    as_of: datetime = DEFAULT_AS_OF,
    days: int = 365,
    fmt: str = "parquet",
    progress: Reporter = SILENT,
) -> GenerationManifest:
    """Write the ten raw tables for ``people`` people to ``out_dir`` as ``<table>.<fmt>``.

    Also writes ``_manifest.json`` (the returned manifest) and ``_truth/identifiers.csv``.
    Same arguments give byte-identical files. ``progress`` hears of each chunk of people.
    """
    if fmt not in FILE_FORMATS:
        raise ValueError(f"fmt must be one of {FILE_FORMATS}, not {fmt!r}")
    if people < 10:
        raise ValueError("people must be at least 10")
    if days < 7:
        raise ValueError("days must be at least 7")
    out_dir = Path(out_dir)
    out_dir.mkdir(parents=True, exist_ok=True)
    for name in RAW_TABLES:  # a stale file in another format would be loaded too
        for other in FILE_FORMATS:
            (out_dir / f"{name}.{other}").unlink(missing_ok=True)
    as_of_ms = _as_of_ms(as_of)
    world = _World(people, seed, as_of_ms, days)
    stats = _Stats()
    truth: list[tuple[int, str, str]] = []
    mess: dict[str, int] = {}
    writers = {
        name: _TableWriter(out_dir / f"{name}.{fmt}", table.columns, fmt)
        for name, table in RAW_TABLES.items()
    }
    events = progress.task("generate", "events", total=world.total, unit="people")
    try:
        for k, lo in enumerate(range(0, world.total, CHUNK_PEOPLE)):
            rng = np.random.default_rng([seed, 1, k])
            chunk_end = min(lo + CHUNK_PEOPLE, world.total)
            chunk = _Chunk(world, lo, chunk_end, rng)
            chunk.run()
            for name in EVENT_TABLES:
                table, sort_ms = chunk.tables[name]
                writers[name].write(_inject(name, table, sort_ms, rng, stats))
            truth.extend(chunk.truth)
            for key, value in chunk.mess.items():
                mess[key] = mess.get(key, 0) + value
            events.advance(chunk_end - lo)
        event_rows = sum(writers[name].rows for name in EVENT_TABLES)
        events.done(count=event_rows, unit="rows", detail=f"{people:,} people")
        started = time.perf_counter()
        _crm(world, np.random.default_rng([seed, 2]), writers, stats, truth)
        progress.step(
            "generate",
            "accounts",
            count=sum(w.rows for n, w in writers.items() if n not in EVENT_TABLES),
            seconds=time.perf_counter() - started,
        )
    finally:
        for writer in writers.values():
            writer.close()
    mess.update(world.mess)

    truth_dir = out_dir / "_truth"
    truth_dir.mkdir(exist_ok=True)
    distinct = sorted(set(truth))
    with (truth_dir / "identifiers.csv").open("w", newline="", encoding="utf-8") as f:
        out = csv.writer(f, quoting=csv.QUOTE_MINIMAL, lineterminator="\n")
        out.writerow(["person_id", "identifier_type", "identifier", "person_kind"])
        for person, kind, identifier in distinct:
            out.writerow(
                [f"p{person + 1:07d}", kind, identifier, KIND_NAMES[int(world.kind[person])]]
            )
    persons = {name: int((world.kind == k).sum()) for k, name in enumerate(KIND_NAMES)}
    manifest = GenerationManifest(
        rows={name: writers[name].rows for name in RAW_TABLES},
        bad_rows={t: dict(sorted(r.items())) for t, r in stats.bad.items() if r},
        kept_rows={t: dict(sorted(r.items())) for t, r in stats.kept.items() if r},
        people=people,
        seed=seed,
        as_of=_iso(as_of_ms),
        days=days,
        fmt=fmt,
        persons=persons,
        mess=dict(sorted(mess.items())),
    )
    (out_dir / "_manifest.json").write_text(manifest.to_json(), encoding="utf-8")
    return manifest


__all__ = [
    "BAD_REASONS",
    "DEFAULT_AS_OF",
    "EVENTS",
    "EVENT_VARIANTS",
    "KEPT_ODDITIES",
    "GenerationManifest",
    "canonical_email",
    "generate",
]
