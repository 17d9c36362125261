"""The `audience` command: generate demo data, load a folder, run the whole job."""

from __future__ import annotations

import argparse
import logging
import sys
import time
from argparse import SUPPRESS
from collections.abc import Callable, Sequence
from datetime import datetime
from pathlib import Path
from typing import Any

from audience import progress
from audience import summary as run_summary
from audience.checks import CheckError, latest_build_as_of, run_checks
from audience.dbt import AS_OF_FORMAT, BUILD, DbtError, parse_as_of, run_dbt
from audience.docs import DocsError, generate_docs
from audience.loader import LoadError, LoadReport, load_dir
from audience.project import output_dir
from audience.redaction import redact, redacting_logs
from audience.report import BACKTESTS, ReportError, write_report
from audience.sources import CONTRACT_NAME, VENDOR_SOURCES, get_source
from audience.syncs import (
    SyncError,
    SyncRun,
    all_secrets,
    load_config,
    pull_crm_changes,
    run_syncs,
)
from audience.warehouse import TARGETS, WarehouseBusy, connected

#: the targets of the commands that read marts through SQL of their own (checks, syncs,
#: reports, explain): Spark builds the project and loads raw files, and stops there
QUERY_TARGETS: tuple[str, ...] = tuple(t for t in TARGETS if t != "spark")


def _add_target(parser: argparse.ArgumentParser, targets: tuple[str, ...] = QUERY_TARGETS) -> None:
    parser.add_argument(
        "--target",
        choices=targets,
        default="duckdb",
        help="warehouse to use (default duckdb; postgres reads the PG* variables)",
    )


DATA_HELP = (
    "folder of table files: <table>.parquet|csv|jsonl (also .csv.gz, .jsonl.gz, and date "
    "shards <table>_YYYYMMDD), or folders <table>/ of such files (hive partitions key=value too)"
)
LOAD_DESCRIPTION = (
    "Land every table file of a folder as text, plus the file and row each row came from and "
    "the load time; re-loading a file replaces its rows, an unchanged file is left as it is. "
    "Every file is checked first: each bad one is printed as 'error: <file>: <reason>' (exit "
    "1) and the good ones load."
)


def _add_source(parser: argparse.ArgumentParser) -> None:
    parser.add_argument(
        "--source",
        default=CONTRACT_NAME,
        metavar="NAME",
        help=(
            "where the files come from: contract (default: the raw contract, schema raw), or a "
            "vendor whose files land in their own shape (every column, as text) in schema "
            f"raw_<NAME>: {', '.join(VENDOR_SOURCES)}"
        ),
    )


QUIET_HELP = "print nothing but errors and the result (no progress lines)"


class _CommandParser(argparse.ArgumentParser):
    """A command's parser: takes --quiet after the command as well as before it."""

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.add_argument("-q", "--quiet", action="store_true", default=SUPPRESS, help=QUIET_HELP)


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="audience", description="Behavioral audience warehouse: load, build, summarize."
    )
    parser.add_argument("-q", "--quiet", action="store_true", help=QUIET_HELP)
    commands = parser.add_subparsers(dest="command", required=True, parser_class=_CommandParser)

    generate = commands.add_parser("generate", help="write a realistic demo data set")
    generate.add_argument("out", type=Path, help="folder to write the raw contract files to")
    generate.add_argument("--people", type=int, default=2000, help="number of people")
    generate.add_argument("--seed", type=int, default=42)
    generate.add_argument("--as-of", help="end of the generated history (default: now, UTC)")
    generate.add_argument("--days", type=int, default=365, help="days of history")
    generate.add_argument("--format", choices=("parquet", "csv", "jsonl"), default="parquet")

    load = commands.add_parser(
        "load",
        help="load a folder of raw contract files (or a vendor's export, with --source)",
        description=LOAD_DESCRIPTION,
    )
    load.add_argument("data", type=Path, help=DATA_HELP)
    load.add_argument(
        "--replace", action="store_true", help="empty each provided table first (full reload)"
    )
    _add_source(load)
    _add_target(load, TARGETS)

    run = commands.add_parser("run", help="load (or generate), build, test and summarize")
    run.add_argument("--data", type=Path, help="folder to load (default: generate demo data)")
    run.add_argument(
        "--no-load",
        action="store_true",
        help="load nothing: build what the warehouse holds (tables a loader such as Fivetran "
        "or Segment already writes there, read through the <vendor>__schema vars)",
    )
    run.add_argument(
        "--vars",
        type=_yaml_mapping,
        default={},
        help="dbt vars for the build, as YAML (e.g. '{transactions__orders_identifier: orders}')",
    )
    _add_source(run)
    run.add_argument("--as-of", help="build as of this UTC timestamp (default: now)")
    run.add_argument("--people", type=int, default=2000, help="demo data size, in people")
    run.add_argument("--seed", type=int, default=42, help="demo data seed")
    _add_target(run, TARGETS)

    check = commands.add_parser(
        "check", help="run the quality gates (Great Expectations) and write their Data Docs"
    )
    check.add_argument(
        "--as-of", help="the as_of to check (default: the as_of of the latest build)"
    )
    check.add_argument("--json", action="store_true", help="print the results as JSON")
    _add_target(check)

    report = commands.add_parser(
        "report", help="write one self-contained HTML page of charts about the segments"
    )
    report.add_argument(
        "--out", type=Path, help="the HTML file to write (default: <output dir>/report.html)"
    )
    report.add_argument("--as-of", help="end the history charts here (default: the latest build)")
    _add_target(report)

    sync = commands.add_parser(
        "sync", help="send what changed to the destinations of syncs.yml (reverse ETL)"
    )
    sync.add_argument("destinations", nargs="*", help="destinations to run (default: all)")
    sync.add_argument("--dry-run", action="store_true", help="print the changes, send nothing")
    sync.add_argument(
        "--force",
        action="store_true",
        help="run past the circuit breaker and the empty-export guard (never the quality gates)",
    )
    _add_target(sync)

    pull = commands.add_parser(
        "pull-crm", help="bring CRM-side edits (owner, persona, lifecycle stage) back into raw"
    )
    pull.add_argument("--destination", default="crm", help="the CRM destination of syncs.yml")
    _add_target(pull)

    explain = commands.add_parser(
        "explain", help="why a contact is here: identifiers, scores, segments and their history"
    )
    explain.add_argument(
        "contact", metavar="EMAIL|CONTACT_KEY", help="an email, a contact key or another identifier"
    )
    explain.add_argument("--json", action="store_true", help="print the explanation as JSON")
    _add_target(explain)

    train = commands.add_parser(
        "train",
        help="learn the lead score and the lookalikes from the warehouse's own outcomes",
    )
    train.add_argument(
        "--as-of",
        help="start of the held-out period (default: the latest build's as_of - horizon)",
    )
    train.add_argument(
        "--horizon-days", type=int, default=60, help="outcomes counted within N days (60)"
    )
    train.add_argument(
        "--holdout-days",
        type=int,
        default=30,
        help="the training snapshots end M days before the held-out one (30)",
    )
    train.add_argument("--dry-run", action="store_true", help="report the model, write no weights")
    _add_target(train)

    diff = commands.add_parser(
        "diff",
        help="what the changed segment models do to membership: built on copies of the "
        "DuckDB warehouse, the working tree against the base ref (nothing is written or sent)",
    )
    diff.add_argument(
        "--base", default="main", help="compare with the merge-base of this ref (default main)"
    )
    diff.add_argument(
        "--as-of", help="the instant to build both sides as of (default: the latest build's)"
    )
    diff.add_argument("--json", action="store_true", help="print the diff as JSON")

    backtest = commands.add_parser(
        "backtest",
        help="what a segment would have contained at each instant of a period, and what its "
        "entrants did next: replayed on copies of the DuckDB warehouse, this tree beside the "
        "base ref (nothing is written to the warehouse or sent)",
    )
    backtest.add_argument("segment", help="the segment model to replay")
    backtest.add_argument(
        "--days", type=int, default=90, help="the period: this many days up to --as-of (90)"
    )
    backtest.add_argument("--every", default="1d", help="between instants: 1d, 12h, 1w (1d)")
    backtest.add_argument(
        "--as-of", help="the period's last instant (default: the latest build's as_of)"
    )
    backtest.add_argument(
        "--base", default="main", help="beside the segment of the merge-base of this ref (main)"
    )
    backtest.add_argument(
        "--no-base", action="store_true", help="replay this tree only, not the base ref's"
    )
    backtest.add_argument("--json", action="store_true", help="print the figures as JSON")
    backtest.add_argument(
        "--html",
        type=Path,
        help="write the charts here (default: <output>/backtest/SEGMENT.html, which "
        "`audience report` links to)",
    )
    backtest.add_argument(
        "--members",
        type=Path,
        help="also write the members at each instant here, as JSON (side -> instant -> keys)",
    )

    forget = commands.add_parser(
        "forget",
        help="record a deletion request: the person leaves every mart at the next build and "
        "every destination at the next sync",
    )
    forget.add_argument("person", metavar="EMAIL|CONTACT_KEY", help="the person to forget")
    _add_target(forget)

    suppress = commands.add_parser(
        "suppress", help="record a manual suppression of one channel (or all) for a person"
    )
    suppress.add_argument("person", metavar="EMAIL|CONTACT_KEY", help="the person")
    suppress.add_argument(
        "--channel", required=True, help="email, ads, crm (dbt var consent__channels) or all"
    )
    suppress.add_argument("--note", default="", help="why, in words")
    _add_target(suppress)

    bench_sync = commands.add_parser(
        "bench-sync", help="benchmark the reverse-ETL path (records per second)"
    )
    bench_sync.add_argument("--members", type=int, default=1_000_000, help="memberships")
    bench_sync.add_argument("--batch-size", type=int, default=10_000)

    faults = commands.add_parser(
        "bench-sync-faults",
        help="sync every destination kind under injected faults and kills; count records "
        "lost and delivered twice at the receiving side",
    )
    faults.add_argument("--target", choices=("duckdb", "postgres"), default="duckdb")
    faults.add_argument("--runs", type=int, default=30, help="seeded runs per destination kind")
    faults.add_argument("--people", type=int, default=60, help="people in the scratch export")
    faults.add_argument("--seed", type=int, default=0)

    bench = commands.add_parser(
        "bench",
        help="benchmark full and incremental builds at given event counts (table and JSON)",
    )
    bench.add_argument(
        "sizes", nargs="*", default=["1M", "10M", "50M"], help="event counts (default 1M 10M 50M)"
    )
    bench.add_argument(
        "--out", type=Path, default=Path("benchmarks"), help="folder for results.json/.txt"
    )
    bench.add_argument("--workdir", type=Path, help="scratch folder (default warehouse/bench)")
    bench.add_argument(
        "--realtime-events",
        type=int,
        default=20,
        help="files of high-intent events sent through the realtime path, one lead each, for "
        "its event-to-webhook latency (default 20; 0 skips it)",
    )
    bench.add_argument(
        "--realtime-people", type=int, default=200, help="people of the realtime demo warehouse"
    )
    bench.add_argument(
        "--realtime-only", action="store_true", help="only the realtime path, no build sizes"
    )
    bench.add_argument("--child", type=int, help=argparse.SUPPRESS)
    bench.add_argument("--result", type=Path, help=argparse.SUPPRESS)

    segments = commands.add_parser(
        "segments", help="write (or --check) segment_membership's list of segment models"
    )
    segments.add_argument("action", choices=("sync",))
    segments.add_argument("--check", action="store_true", help="fail instead of writing")

    docs = commands.add_parser(
        "docs", help="generate the dbt docs site (the catalog) into <output>/dbt_docs"
    )
    docs.add_argument("--as-of", help="the as_of to compile for (default: the latest build's)")
    _add_target(docs)

    exposures = commands.add_parser(
        "exposures", help="write (or --check) the dbt exposures of the syncs from syncs.yml"
    )
    exposures.add_argument("action", choices=("sync",))
    exposures.add_argument("--check", action="store_true", help="fail instead of writing")
    return parser


def cmd_generate(args: argparse.Namespace) -> int:
    from audience.generator import generate

    started = time.perf_counter()
    manifest = generate(
        args.out,
        people=args.people,
        seed=args.seed,
        as_of=parse_as_of(args.as_of),
        days=args.days,
        fmt=args.format,
        progress=args.progress,
    )
    for table, rows in manifest.rows.items():
        print(f"{table:<16} {rows:>12,}")
    print(
        f"wrote {sum(manifest.rows.values()):,} rows to {args.out} in "
        f"{time.perf_counter() - started:.1f}s"
    )
    return 0


def cmd_load(args: argparse.Namespace) -> int:
    source = get_source(args.source)
    with connected(args.target) as warehouse:
        report = load_dir(
            args.data, warehouse, source=source, replace=args.replace, progress=args.progress
        )
    print(report.format_table())
    _print_load_errors(report)
    return 1 if report.errors else 0


def _print_load_errors(report: LoadReport) -> None:
    """The bad files of a load, one `error: <file>: <reason>` line each, on stderr."""
    for line in report.format_errors():
        print(line, file=sys.stderr)


def cmd_run(args: argparse.Namespace) -> int:
    """The main job; exits 1 when a file could not be loaded, after building what loaded."""
    loads: list[LoadReport] = []
    status = _run_job(args, loads)
    bad = sum(len(report.errors) for report in loads)
    if bad:
        files = "file was" if bad == 1 else "files were"
        print(f"\nerror: {bad} bad {files} not loaded (listed after the load)", file=sys.stderr)
        return max(status, 1)
    return status


def _yaml_mapping(text: str) -> dict[str, Any]:
    """A YAML mapping given on the command line (dbt's --vars form)."""
    import yaml

    value = yaml.safe_load(text) or {}
    if not isinstance(value, dict):
        raise argparse.ArgumentTypeError(f"not a YAML mapping: {text!r}")
    return value


def _run_job(args: argparse.Namespace, loads: list[LoadReport]) -> int:
    from audience.generator import generate

    source = get_source(args.source)
    if args.no_load and args.data is not None:
        raise ValueError("--no-load loads nothing: leave out --data")
    if args.data is None and not source.is_contract and not args.no_load:
        raise ValueError(f"--source {source.name} needs --data (the demo data is contract-shaped)")
    as_of = parse_as_of(args.as_of)
    reporter: progress.Reporter = args.progress
    seconds: dict[str, float] = {}
    data = args.data
    started = time.perf_counter()
    if data is None and not args.no_load:
        data = output_dir() / "demo-data"
        reporter.note(f"generating demo data ({args.people:,} people, seed {args.seed}) in {data}")
        generate(data, people=args.people, seed=args.seed, as_of=as_of, progress=reporter)
        seconds["generate"] = time.perf_counter() - started

    if data is not None:
        started = time.perf_counter()
        with connected(args.target) as warehouse:
            report = load_dir(
                data, warehouse, source=source, replace=args.data is None, progress=reporter
            )
        loads.append(report)
        _print_load_errors(report)
        seconds["load"] = time.perf_counter() - started

    started = time.perf_counter()
    reporter.note(f"building as of {as_of.strftime(AS_OF_FORMAT)} on {args.target}")
    run_dbt(BUILD, target=args.target, as_of=as_of, extra_vars=args.vars, progress=reporter)
    seconds["build"] = time.perf_counter() - started
    if args.target == "spark":
        return _finish_spark_run(as_of, seconds, reporter)

    started = time.perf_counter()
    checked = run_checks(args.target, as_of)
    seconds["check"] = time.perf_counter() - started
    reporter.step(
        "check",
        "quality gates",
        count=len(checked.results),
        unit="checks",
        seconds=seconds["check"],
        detail="passed" if checked.success else f"{len(checked.failures)} failed",
    )

    site = generate_docs(args.target, as_of)
    seconds["docs"] = site.seconds

    _write_summary(args.target, as_of, seconds)
    print()
    print(checked.format_table())
    print(site.format_line())
    if not checked.success:
        print("\nsyncs not run: the quality gates failed")
        _write_run_report(args.target)
        return 1
    print()
    with connected(args.target) as warehouse:
        runs = run_syncs(warehouse, as_of=as_of, skip_unconfigured=True, progress=reporter)
    troubled = _print_syncs(runs)
    _write_run_report(args.target)
    return 1 if troubled else 0


def _write_summary(target: str, as_of: datetime, seconds: dict[str, float]) -> None:
    """Collect the run summary, write output/run_summary.json and print it."""
    with connected(target) as warehouse:
        result = run_summary.collect(warehouse, as_of=as_of.strftime(AS_OF_FORMAT))
    result.seconds = {step: round(secs, 2) for step, secs in seconds.items()}
    result.write(output_dir() / "run_summary.json")
    print()
    print(result.format_text())


def _finish_spark_run(as_of: datetime, seconds: dict[str, float], reporter: Any) -> int:
    """A run on Spark ends with its summary: the quality gates, docs, syncs and report
    read the warehouse through DuckDB or PostgreSQL connections."""
    _write_summary("spark", as_of, seconds)
    reporter.note("on spark: no quality gates, docs, syncs or report (DuckDB and PostgreSQL)")
    return 0


def _write_run_report(target: str) -> None:
    """The run's last step: the HTML report of what it built (and how its checks went)."""
    with connected(target) as warehouse:
        written = write_report(warehouse, output_dir() / "report.html")
    print(f"\n{written.format_line()}")


def cmd_report(args: argparse.Namespace) -> int:
    out = args.out or output_dir() / "report.html"
    as_of = parse_as_of(args.as_of) if args.as_of else None
    with connected(args.target) as warehouse:
        written = write_report(warehouse, out, as_of)
    print(written.format_line())
    return 0


def _print_syncs(runs: Sequence[SyncRun]) -> int:
    """One line per destination; the exit status: 3 when a safety rule refused one, 1 when
    one failed or had records rejected, else 0 (skipped destinations are not failures)."""
    for synced in runs:
        print(synced.format_line())
    troubled = [r for r in runs if not r.ok]
    if troubled:
        print(
            f"\n{len(troubled)} of {len(runs)} syncs did not go through: "
            + ", ".join(f"{r.destination} ({r.status})" for r in troubled),
            file=sys.stderr,
        )
    if any(r.status == "refused" for r in runs):
        return 3
    return 1 if troubled else 0


def cmd_sync(args: argparse.Namespace) -> int:
    with connected(args.target) as warehouse:
        runs = run_syncs(
            warehouse,
            args.destinations,
            dry_run=args.dry_run,
            force=args.force,
            progress=args.progress,
        )
    return _print_syncs(runs)


def cmd_pull_crm(args: argparse.Namespace) -> int:
    config = load_config().get(args.destination)
    if config is None or config.kind != "crm_postgres":
        print(f"error: {args.destination} is not a CRM destination of syncs.yml", file=sys.stderr)
        return 2
    with connected(args.target) as warehouse:
        pulled = pull_crm_changes(warehouse, config)
    print(
        f"{config.name}: {pulled.pulled} CRM edits since the last pull, "
        f"{pulled.written} written to raw.crm_contacts (watermark {pulled.watermark})"
    )
    return 0


def cmd_explain(args: argparse.Namespace) -> int:
    from audience.explain import ContactNotFound, ExplainError, explain_contact, render

    try:
        explanation = explain_contact(args.target, args.contact)
    except ContactNotFound as exc:
        print(f"not found: {exc}", file=sys.stderr)
        return 1
    except ExplainError as exc:
        print(f"error: {exc}", file=sys.stderr)
        return 2
    if args.json:
        print(explanation.to_json())
    else:
        render(explanation)
    return 0


def cmd_train(args: argparse.Namespace) -> int:
    from audience.train import TrainError, report, train
    from audience.train_lookalike import report_lookalikes, train_lookalikes

    options = {
        "as_of": parse_as_of(args.as_of) if args.as_of else None,
        "horizon_days": args.horizon_days,
        "holdout_days": args.holdout_days,
        "write": not args.dry_run,
    }
    code = 0
    with connected(args.target) as warehouse:
        try:
            result = train(warehouse, **options)
        except TrainError as exc:
            print(f"error: {exc}", file=sys.stderr)
            code = 1
        else:
            for line in report(result):
                print(line)
            # a lead model that does worse than the current weights is refused: a scheduler
            # sees it
            code = 1 if result.auc < result.current_auc else 0
        try:
            outcomes = train_lookalikes(warehouse, **options)
        except TrainError as exc:
            print(f"error: lookalikes: {exc}", file=sys.stderr)
            return 1
    for line in report_lookalikes(outcomes):
        print(line)
    return code


def cmd_diff(args: argparse.Namespace) -> int:
    from audience.diff import DiffError, diff_against

    try:
        with connected("duckdb") as warehouse:
            as_of = parse_as_of(args.as_of) if args.as_of else latest_build_as_of(warehouse)
        result = diff_against(args.base, as_of)
    except DiffError as exc:
        print(f"error: {exc}", file=sys.stderr)
        return 2
    print(result.to_json() if args.json else result.to_markdown(), end="")
    return 0


def cmd_backtest(args: argparse.Namespace) -> int:
    from audience.backtest import BacktestError, backtest, write_html, write_members

    try:
        if args.as_of:
            as_of = parse_as_of(args.as_of)
        else:
            with connected("duckdb") as warehouse:
                as_of = latest_build_as_of(warehouse)
        result = backtest(
            args.segment,
            as_of,
            days=args.days,
            every=args.every,
            base=None if args.no_base else args.base,
            progress=args.progress.note,
        )
    except BacktestError as exc:
        print(f"error: {exc}", file=sys.stderr)
        return 2
    page = write_html(result, args.html or output_dir() / BACKTESTS / f"{args.segment}.html")
    print(result.to_json() if args.json else result.to_markdown(), end="")
    print(f"charts: {page}", file=sys.stderr)
    if args.members:
        print(f"members: {write_members(result, args.members)}", file=sys.stderr)
    if args.json:
        print(result.timing_line(), file=sys.stderr)
    return 0


def cmd_forget(args: argparse.Namespace) -> int:
    from audience.consent import ConsentError, forget

    try:
        with connected(args.target) as warehouse:
            request = forget(warehouse, args.person)
    except ConsentError as exc:
        print(f"error: {exc}", file=sys.stderr)
        return 1
    found = (
        f"{len(request.identifiers)} identifiers of the contact recorded"
        if request.known
        else "not in the warehouse yet: recorded, it applies when their data arrives"
    )
    print(
        f"deletion request {request.request_id} for {request.requested_as}: {found}. "
        "The next build leaves the person out of every mart and export (and keeps them out "
        "when their data is loaded again); the next `audience sync` removes them from every "
        "destination that holds them."
    )
    return 0


def cmd_suppress(args: argparse.Namespace) -> int:
    from audience.consent import ConsentError, suppress

    try:
        with connected(args.target) as warehouse:
            kind, value = suppress(warehouse, args.person, args.channel, args.note)
    except ConsentError as exc:
        print(f"error: {exc}", file=sys.stderr)
        return 1
    print(
        f"suppressed {args.channel} for {kind} {value}: the next build lists it in "
        "marts.contact_suppressions and the next sync leaves the person out"
    )
    return 0


def cmd_bench_sync(args: argparse.Namespace) -> int:
    from audience import bench_sync

    steps = bench_sync.run(args.members, output_dir() / "bench", batch_size=args.batch_size)
    print(bench_sync.format_table(args.members, steps))
    report = output_dir() / "bench" / "sync.json"
    report.write_text(bench_sync.to_json(args.members, steps))
    print(f"\n{report}")
    return 0


def cmd_bench_sync_faults(args: argparse.Namespace) -> int:
    """Exit 1 when a record was lost or delivered twice."""
    import json

    from audience.sync_faults import run_fault_suite, summary_line

    # every kill and retry is a warning of the sync or of urllib3: the figures say it all
    for name in ("audience.syncs", "urllib3"):
        logging.getLogger(name).setLevel(logging.ERROR)
    figures = run_fault_suite(args.target, runs=args.runs, people=args.people, seed=args.seed)
    print(summary_line(figures))
    report = output_dir() / "bench" / f"sync_faults_{args.target}.json"
    report.parent.mkdir(parents=True, exist_ok=True)
    report.write_text(json.dumps(figures, indent=2))
    print(report)
    return 1 if figures["total"]["lost"] or figures["total"]["duplicated"] else 0


def cmd_bench(args: argparse.Namespace) -> int:
    import json
    from dataclasses import asdict

    from audience import bench

    workdir = (args.workdir or bench.default_workdir()).resolve()
    if args.child is not None:  # one size, in its own process (see bench.run_in_child)
        result = bench.run_size(args.child, workdir / str(args.child))
        args.result.write_text(json.dumps(asdict(result)))
        return 0
    sizes = [] if args.realtime_only else [bench.parse_size(size) for size in args.sizes]
    started_at = bench.now_text()
    results = []
    for events in sizes:
        print(f"benchmarking {events:,} events ...", flush=True)
        results.append(bench.run_in_child(events, workdir))
        bench.write_results(results, args.out, started_at)
    realtime = None
    if args.realtime_events > 0:
        from audience import bench_realtime

        print(f"benchmarking the realtime path, {args.realtime_events} events ...", flush=True)
        measured = bench_realtime.run(
            workdir / "realtime", events=args.realtime_events, people=args.realtime_people
        )
        realtime = (bench_realtime.to_dict(measured), bench_realtime.format_result(measured))
        bench.write_results(results, args.out, started_at, realtime=realtime)
    print()
    if results:
        print(bench.format_table(results))
    if realtime is not None:
        print(f"\n{realtime[1]}")
    print(f"\n{args.out / 'results.json'}")
    return 0


def cmd_check(args: argparse.Namespace) -> int:
    checked = run_checks(args.target, _as_of_or_latest_build(args))
    print(checked.to_json() if args.json else checked.format_table())
    return 0 if checked.success else 1


def _sync_generated_file(
    sync: Callable[..., list[str]], stale: type[Exception], check: bool, what: str
) -> int:
    """Write (or with `check`, compare) a file generated from its one source of truth."""
    try:
        names = sync(check=check)
    except stale as exc:
        print(f"error: {exc}", file=sys.stderr)
        return 1
    print(f"{len(names)} {what}: {', '.join(names)}")
    return 0


def cmd_segments(args: argparse.Namespace) -> int:
    from audience.segments import StaleSegmentsError, sync

    return _sync_generated_file(sync, StaleSegmentsError, args.check, "segment models")


def cmd_docs(args: argparse.Namespace) -> int:
    print(generate_docs(args.target, _as_of_or_latest_build(args)).format_line())
    return 0


def cmd_exposures(args: argparse.Namespace) -> int:
    from audience.exposures import StaleExposuresError, sync

    return _sync_generated_file(sync, StaleExposuresError, args.check, "sync exposures")


def _as_of_or_latest_build(args: argparse.Namespace) -> datetime:
    """The `--as-of` asked for, else the as_of of the warehouse's latest build."""
    if args.as_of:
        return parse_as_of(args.as_of)
    with connected(args.target) as warehouse:
        return latest_build_as_of(warehouse)


COMMANDS = {
    "generate": cmd_generate,
    "load": cmd_load,
    "run": cmd_run,
    "check": cmd_check,
    "report": cmd_report,
    "sync": cmd_sync,
    "pull-crm": cmd_pull_crm,
    "explain": cmd_explain,
    "train": cmd_train,
    "diff": cmd_diff,
    "backtest": cmd_backtest,
    "forget": cmd_forget,
    "suppress": cmd_suppress,
    "bench-sync": cmd_bench_sync,
    "bench-sync-faults": cmd_bench_sync_faults,
    "bench": cmd_bench,
    "segments": cmd_segments,
    "docs": cmd_docs,
    "exposures": cmd_exposures,
}


def main(argv: Sequence[str] | None = None) -> int:
    args = build_parser().parse_args(argv)
    logging.basicConfig(
        level=logging.ERROR if args.quiet else logging.WARNING, format="%(levelname)s %(message)s"
    )
    # progress of long work: silent under --quiet, lines in logs, a bar on a terminal
    args.progress = progress.for_cli(quiet=args.quiet)
    # the destinations' settings (URLs, tokens, the CRM's connection) are shown nowhere:
    # not in log lines, not in the errors below
    secrets = all_secrets()
    try:
        with redacting_logs(secrets):
            return COMMANDS[args.command](args)
    except LoadError as exc:
        # one line per bad file when none of them could be loaded
        for line in redact(str(exc), secrets).splitlines() or [type(exc).__name__]:
            print(f"error: {line}", file=sys.stderr)
        return 2
    except (
        DbtError,
        CheckError,
        SyncError,
        DocsError,
        ReportError,
        WarehouseBusy,
        ValueError,
    ) as exc:
        print(f"error: {redact(str(exc), secrets)}", file=sys.stderr)
        return 2
    finally:
        args.progress.close()


if __name__ == "__main__":
    sys.exit(main())
