"""`guanxi web`: the web server alone, for several web machines behind a load balancer."""

from __future__ import annotations

import os

from django.core.management.base import BaseCommand

from guanxi.core.management import runtime


class Command(BaseCommand):
    help = (
        "Run the web server only (gunicorn). Run `guanxi manage migrate` once per upgrade "
        "and `guanxi manage collectstatic` on each machine (or pass --prepare)."
    )

    def add_arguments(self, parser):
        parser.add_argument("--host", default="127.0.0.1", help="address to listen on")
        parser.add_argument("--port", type=int, default=8000, help="port to listen on")
        parser.add_argument(
            "--workers",
            type=int,
            default=runtime.default_web_workers(),
            help="web server processes (default: 2 x cores + 1, at most 9)",
        )
        parser.add_argument(
            "--prepare",
            action="store_true",
            help="migrate and collect static files before starting",
        )

    def handle(self, *args, **options):
        if options["prepare"]:
            runtime.prepare_database()
            runtime.collect_static_if_stale()
        command = runtime.gunicorn_command(
            host=options["host"], port=options["port"], workers=options["workers"]
        )
        self.stdout.write(f"Web server on http://{options['host']}:{options['port']}/")
        self.stdout.flush()
        # Become gunicorn: the process manager's signals then reach it directly.
        os.execve(command[0], command, runtime.child_environment())
