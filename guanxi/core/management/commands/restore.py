"""`guanxi restore PATH`: put a backup back (replaces the current data)."""

from __future__ import annotations

import sys
from pathlib import Path

from django.conf import settings
from django.core.management.base import BaseCommand, CommandError
from django.db import connections

from guanxi.core.management import backups


class Command(BaseCommand):
    help = (
        "Replace the database (and the uploaded files, when PATH.media.tar.gz exists) with "
        "a backup. Stop Guanxi first. Asks for confirmation unless --yes is given."
    )

    def add_arguments(self, parser):
        parser.add_argument("path", help="the backup file written by `guanxi backup`")
        parser.add_argument("--yes", action="store_true", help="do not ask for confirmation")
        parser.add_argument("--no-media", action="store_true", help="leave uploaded files alone")
        parser.add_argument("--database", default="default", help="database alias")

    def handle(self, *args, **options):
        path = Path(options["path"])
        if not path.is_file():
            raise CommandError(f"No backup at {path}.")
        database = settings.DATABASES[options["database"]]
        engine = database["ENGINE"]
        if not options["yes"]:
            if not sys.stdin.isatty():
                raise CommandError("Restoring replaces all current data: add --yes to confirm.")
            answer = input(
                f"Replace ALL current data in {database['NAME']} with {path}? Type 'yes': "
            )
            if answer.strip().lower() != "yes":
                raise CommandError("Nothing was restored.")
        connections[options["database"]].close()
        try:
            if backups.is_sqlite(engine):
                backups.sqlite_restore(path, database["NAME"])
            elif backups.is_postgresql(engine):
                backups.pg_restore(database, path)
            else:
                raise CommandError(f"Restoring {engine} is not supported.")
            media = (
                False if options["no_media"] else backups.media_restore(settings.MEDIA_ROOT, path)
            )
        except backups.BackupError as error:
            raise CommandError(str(error)) from error
        self.stdout.write(self.style.SUCCESS(f"Database restored from {path}"))
        if media:
            self.stdout.write(self.style.SUCCESS("Uploaded files restored."))
        self.stdout.write("Run `guanxi manage migrate` if the backup is from an older version.")
