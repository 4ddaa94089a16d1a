"""`guanxi serve`: everything a single machine needs, in one command."""

from __future__ import annotations

import signal

from django.conf import settings
from django.core.management.base import BaseCommand

from guanxi.core.management import runtime


class Command(BaseCommand):
    help = (
        "Migrate the database, collect static files, create the first administrator, "
        "optionally load the demo data, then run the web server and a background worker "
        "together. Ctrl-C stops both."
    )

    def add_arguments(self, parser):
        parser.add_argument("--host", default="127.0.0.1", help="address to listen on")
        parser.add_argument("--port", type=int, default=8000, help="port to listen on")
        demo = parser.add_mutually_exclusive_group()
        demo.add_argument(
            "--demo", dest="demo", action="store_true", help="load the demo data (once)"
        )
        demo.add_argument("--no-demo", dest="demo", action="store_false", help="(default)")
        parser.set_defaults(demo=False)
        parser.add_argument(
            "--workers", type=int, default=2, help="web server processes (default 2)"
        )
        parser.add_argument(
            "--job-workers", type=int, default=2, help="background job threads (default 2)"
        )
        parser.add_argument(
            "--prepare-only",
            action="store_true",
            help="set everything up, then exit without starting the servers",
        )

    def handle(self, *args, **options):
        host, port = options["host"], options["port"]
        verbosity = options["verbosity"]
        shown_host = "127.0.0.1" if host in {"0.0.0.0", "::", ""} else host
        if ":" in shown_host:
            shown_host = f"[{shown_host}]"
        url = f"http://{shown_host}:{port}/"

        self.stdout.write(f"Data folder: {settings.DATA_DIR}")
        self.stdout.write("Preparing the database ...")
        runtime.prepare_database(verbosity=max(0, verbosity - 1))
        if runtime.collect_static_if_stale(verbosity=max(0, verbosity - 1)):
            self.stdout.write("Collected static files.")
        runtime.ensure_first_administrator(url=url, stdout=self.stdout)
        if options["demo"]:
            from guanxi.core.demo import load_demo

            load_demo(verbosity=verbosity, stdout=self.stdout)
        if options["prepare_only"]:
            return

        supervisor = runtime.Supervisor(self.stdout)
        if settings.DEBUG:
            web = runtime.guanxi_command("manage", "runserver", f"{host}:{port}", "--noreload")
        else:
            web = runtime.gunicorn_command(host=host, port=port, workers=options["workers"])
        supervisor.start("web server", web, signal.SIGTERM)
        # Huey takes SIGINT as "finish the running jobs, then stop".
        worker = runtime.guanxi_command(
            "manage", "run_huey", "--workers", str(options["job_workers"])
        )
        supervisor.start("background worker", worker, signal.SIGINT)

        def started():
            self.stdout.write(self.style.SUCCESS(f"Guanxi is running at {url}"))
            self.stdout.write("Press Ctrl-C to stop.")
            self.stdout.flush()

        code = supervisor.run(on_started=started)
        self.stdout.write("Guanxi stopped.")
        if code:
            raise SystemExit(code)
