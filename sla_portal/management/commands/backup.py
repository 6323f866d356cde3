"""`manage.py backup`: the database and the uploaded files, with a manifest of checksums."""

from pathlib import Path

from django.core.management.base import BaseCommand, CommandError

from sla_portal.backup import BackupError, backup_create, backup_prune


class Command(BaseCommand):
    help = "Back up the database (pg_dump, or SQLite's backup API) and MEDIA_ROOT into BACKUP_DIR."

    def add_arguments(self, parser):
        parser.add_argument("--dir", type=Path, help="where to write the backup (default: BACKUP_DIR)")
        parser.add_argument(
            "--prune", action="store_true", help="then delete backups older than the retention"
        )

    def handle(self, *args, dir=None, prune=False, **options):
        try:
            path = backup_create(directory=dir)
        except BackupError as exc:
            raise CommandError(str(exc)) from exc
        self.stdout.write(str(path))
        if prune:
            for removed in backup_prune(directory=dir):
                self.stdout.write(f"pruned {removed}")
