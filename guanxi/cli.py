"""The `guanxi` command: run, set up, back up and check a Guanxi installation.

Each sub-command is a Django management command (so `guanxi serve --help` shows its options);
anything the command does not know is handed to Django's `manage.py`.
"""

from __future__ import annotations

import argparse
import os
import sys

# guanxi sub-command -> (management command, one-line description)
COMMANDS: dict[str, tuple[str, str]] = {
    "serve": (
        "serve",
        "set up the database and run the web server and a background worker together",
    ),
    "web": ("web", "run the web server only (for several web machines behind a load balancer)"),
    "worker": ("worker", "run the background worker only (any number of machines)"),
    "demo": ("demo", "load the demo organisation, users and accounts (safe to run twice)"),
    "createadmin": ("createadmin", "create an administrator"),
    "backup": ("backup", "back up the database (and uploaded files) to a file"),
    "restore": ("restore", "restore the database (and uploaded files) from a backup"),
    "check": ("guanxi_check", "check the configuration and print OK / WARN / FAIL lines"),
    "manage": ("", "run any Django management command, e.g. `guanxi manage migrate`"),
    "bench": ("", "generate the benchmark dataset and run the scenarios (a source checkout)"),
}


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="guanxi",
        description="Guanxi CRM. Run `guanxi COMMAND --help` for a command's options.",
        epilog="Any other command is passed to Django's manage.py (e.g. `guanxi migrate`).",
    )
    parser.add_argument("--version", action="store_true", help="print the version and exit")
    commands = parser.add_subparsers(title="commands", dest="command", metavar="COMMAND")
    for name, (_command, description) in COMMANDS.items():
        commands.add_parser(name, help=description, add_help=False)
    return parser


def django_argv(argv: list[str]) -> list[str]:
    """The manage.py arguments that a `guanxi ...` command line stands for."""
    name, rest = argv[0], argv[1:]
    if name == "manage":
        return rest
    if name in COMMANDS:
        return [COMMANDS[name][0], *rest]
    return argv


def main(argv: list[str] | None = None) -> int:
    argv = list(sys.argv[1:] if argv is None else argv)
    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "guanxi.settings")
    if not argv or argv[0] in {"-h", "--help", "help"}:
        build_parser().print_help()
        return 0
    if argv[0] == "--version":
        from importlib.metadata import PackageNotFoundError, version

        try:
            print(f"guanxi {version('guanxi')}")
        except PackageNotFoundError:
            print("guanxi (not installed as a package)")
        return 0
    if argv[0] == "bench":
        return run_bench(argv[1:])
    if argv[0] == "manage" and len(argv) == 1:
        argv.append("help")

    from django.core.management import execute_from_command_line

    execute_from_command_line(["guanxi", *django_argv(argv)])
    return 0


def run_bench(argv: list[str]) -> int:
    """`guanxi bench ...`: the harness lives beside the package in a source checkout."""
    from pathlib import Path

    checkout = Path(__file__).resolve().parent.parent
    if not (checkout / "bench" / "__init__.py").exists():
        print("guanxi bench needs a source checkout (the bench/ folder).", file=sys.stderr)
        return 2
    sys.path.insert(0, str(checkout))
    import bench

    return bench.main(argv) or 0


if __name__ == "__main__":
    sys.exit(main())
