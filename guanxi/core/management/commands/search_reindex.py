"""`guanxi search_reindex`: rebuild the global search index from the records themselves."""

from __future__ import annotations

from django.core.management.base import BaseCommand, CommandError

from guanxi.core.search.index import reindex_all
from guanxi.core.search.registry import registrations


class Command(BaseCommand):
    help = (
        "Rebuild the search index of every registered model (or those named with --model), "
        "in batches; entries of deleted or inactive records are removed."
    )

    def add_arguments(self, parser):
        parser.add_argument(
            "--model",
            action="append",
            dest="models",
            metavar="APP.MODEL",
            help="Only this model (repeatable), e.g. customers.account.",
        )
        parser.add_argument("--batch-size", type=int, default=500)

    def handle(self, *args, models=None, batch_size=500, **options):
        known = {registration.label for registration in registrations()}
        labels = [label.lower() for label in models or []]
        unknown = sorted(set(labels) - known)
        if unknown:
            raise CommandError(
                f"not searchable: {', '.join(unknown)} (known: {', '.join(sorted(known))})"
            )
        if batch_size < 1:
            raise CommandError("--batch-size must be at least 1")
        verbose = options.get("verbosity", 1) > 1

        def progress(label: str, done: int) -> None:
            if verbose:
                self.stdout.write(f"  {label}: {done}")

        counts = reindex_all(batch_size=batch_size, labels=labels or None, progress=progress)
        for label, count in counts.items():
            self.stdout.write(f"{label}: {count} indexed")
        self.stdout.write(self.style.SUCCESS("Search index rebuilt."))
