"""`manage.py restore <backup>`: into an empty database, after verifying every checksum."""

from pathlib import Path

from django.core.management.base import BaseCommand, CommandError

from sla_portal.backup import BackupError, backup_restore


class Command(BaseCommand):
    help = "Restore a backup directory made by `manage.py backup` into this (empty) database and MEDIA_ROOT."

    def add_arguments(self, parser):
        parser.add_argument("backup", type=Path, help="the backup's directory (BACKUP_DIR/sla-portal-<time>)")
        parser.add_argument(
            "--force", action="store_true", help="replace a database and media directory that are not empty"
        )

    def handle(self, *args, backup, force=False, **options):
        try:
            result = backup_restore(path=backup, force=force)
        except BackupError as exc:
            raise CommandError(str(exc)) from exc
        self.stdout.write(
            f"restored {result.tables} tables, {result.rows} rows, {result.files} files "
            f"in {result.seconds:.1f} s; row counts and checksums match the backup"
        )
