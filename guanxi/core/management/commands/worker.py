"""`guanxi worker`: the background job consumer alone (run it on any number of machines)."""

from __future__ import annotations

from django.core.management import call_command
from django.core.management.base import BaseCommand


class Command(BaseCommand):
    help = (
        "Run the background worker only (Huey consumer). With GUANXI_REDIS_URL set, any "
        "number of workers on any number of machines share one queue."
    )

    def add_arguments(self, parser):
        parser.add_argument(
            "--workers", type=int, default=2, help="job threads in this process (default 2)"
        )

    def handle(self, *args, **options):
        call_command("run_huey", workers=options["workers"])
