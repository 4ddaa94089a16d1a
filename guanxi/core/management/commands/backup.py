"""`guanxi backup [PATH]`: a consistent copy of the database and the uploaded files."""

from __future__ import annotations

from pathlib import Path

from django.conf import settings
from django.core.management.base import BaseCommand, CommandError
from django.db import connections

from guanxi.core.management import backups


class Command(BaseCommand):
    help = (
        "Back up the database (SQLite: online backup; PostgreSQL: pg_dump -Fc) and the "
        "uploaded files (PATH.media.tar.gz). Default PATH: DATA_DIR/backups/guanxi-<time>."
    )

    def add_arguments(self, parser):
        parser.add_argument("path", nargs="?", help="where to write the backup")
        parser.add_argument("--no-media", action="store_true", help="leave uploaded files out")
        parser.add_argument(
            "--database", default="default", help="database alias (default: default)"
        )

    def handle(self, *args, **options):
        database = settings.DATABASES[options["database"]]
        engine = database["ENGINE"]
        target = (
            Path(options["path"])
            if options["path"]
            else backups.default_backup_path(settings.DATA_DIR, engine)
        )
        connections[options["database"]].close()
        try:
            if backups.is_sqlite(engine):
                backups.sqlite_backup(database["NAME"], target)
            elif backups.is_postgresql(engine):
                backups.pg_backup(database, target)
            else:
                raise CommandError(f"Backing up {engine} is not supported.")
            media = None
            if not options["no_media"]:
                media = backups.media_backup(settings.MEDIA_ROOT, target)
        except backups.BackupError as error:
            raise CommandError(str(error)) from error
        self.stdout.write(self.style.SUCCESS(f"Database backed up to {target}"))
        if media:
            self.stdout.write(self.style.SUCCESS(f"Uploaded files backed up to {media}"))
