"""`python -m bench generate|run|report ...` (also `guanxi bench ...` through bench.main)."""

from __future__ import annotations

import argparse
import datetime
import json
import os
import sys

SCENARIOS_HELP = (
    "all, or a comma-separated list of: list, search, detail, calendar, activities, leads, "
    "opportunities, board, funnel, forecast, sales_analysis, import, dupscan, mixed"
)


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="python -m bench",
        description="Guanxi benchmark: generate a seeded dataset, run scenarios, print JSON.",
    )
    commands = parser.add_subparsers(dest="command", metavar="COMMAND", required=True)

    generate = commands.add_parser("generate", help="generate a dataset (migrates first)")
    generate.add_argument("--size", default="S", choices=["toy", "S", "M", "L"])
    generate.add_argument("--seed", type=int, default=1)
    generate.add_argument("--db-url", help="database URL (default: DATABASE_URL / the data dir)")
    generate.add_argument("--accounts", type=int, help="override the size's account count")
    generate.add_argument("--users", type=int, help="override the size's user count")
    generate.add_argument("--departments", type=int, help="override the department count")
    generate.add_argument("--batch-size", type=int, default=5000)
    generate.add_argument(
        "--until",
        default=None,
        help="last creation date, YYYY-MM-DD (default: a fixed date, so runs are reproducible)",
    )
    generate.add_argument(
        "--no-history", action="store_true", help="skip the audit history rows (faster)"
    )
    generate.add_argument("--no-analyze", action="store_true", help="skip ANALYZE at the end")
    generate.add_argument(
        "--jobs",
        type=int,
        choices=[1, 2],
        default=1,
        help="2: build the activities in a second process while the customers are written",
    )
    generate.add_argument(
        "--add",
        metavar="ENTITIES",
        help="add these entities (e.g. leads) to a dataset generated earlier, same seed",
    )

    run = commands.add_parser("run", help="run scenarios and print one JSON object per line")
    run.add_argument("--scenario", default="all", help=SCENARIOS_HELP)
    run.add_argument(
        "--users",
        default="rep,manager,admin",
        help="roles to run as: rep, rep_low (fewest accounts), manager, admin, or usernames",
    )
    run.add_argument("--cases", help="only these cases, e.g. list_html,list_api")
    run.add_argument("--db-url", help="database URL (default: DATABASE_URL / the data dir)")
    run.add_argument("--iterations", type=int, default=50, help="measured requests per case")
    run.add_argument("--warmup", type=int, default=5, help="unmeasured requests per case")
    run.add_argument("--mixed-seconds", type=float, default=20.0)
    run.add_argument("--mixed-clients", type=int, default=16)
    run.add_argument("--mixed-workers", type=int, default=2)
    run.add_argument("--mixed-max-requests", type=int, default=20000)
    run.add_argument("--import-rows", type=int, default=2000)
    run.add_argument("--no-write", action="store_true", help="do not write bench/out or RESULTS")

    report = commands.add_parser("report", help="rewrite bench/RESULTS.md from bench/out/*.json")
    report.add_argument("--out", default=None, help="results folder (default bench/out)")
    return parser


def main(argv: list[str] | None = None) -> int:
    args = build_parser().parse_args(sys.argv[1:] if argv is None else argv)
    if getattr(args, "db_url", None):
        os.environ["DATABASE_URL"] = args.db_url
    from bench import setup_django

    setup_django()
    if args.command == "generate":
        from bench.generate import UNTIL_DEFAULT, generate
        from guanxi.core.management.runtime import prepare_database

        prepare_database()
        until = datetime.date.fromisoformat(args.until) if args.until else UNTIL_DEFAULT
        if args.add:
            from bench.generate import add_entities

            result = add_entities(
                [name.strip() for name in args.add.split(",") if name.strip()],
                seed=args.seed,
                batch_size=args.batch_size,
                analyze=not args.no_analyze,
            )
            print(json.dumps(result, ensure_ascii=False))
            return 0
        result = generate(
            size=args.size,
            seed=args.seed,
            accounts=args.accounts,
            users=args.users,
            departments=args.departments,
            batch_size=args.batch_size,
            history=not args.no_history,
            analyze=not args.no_analyze,
            until=until,
            jobs=args.jobs,
        )
        print(json.dumps(result, ensure_ascii=False))
        return 0
    if args.command == "run":
        from bench.runner import run_from_args

        return run_from_args(args)
    if args.command == "report":
        from bench.report import write_results_md

        path = write_results_md(out_dir=args.out)
        print(path)
        return 0
    return 2


if __name__ == "__main__":
    sys.exit(main())
