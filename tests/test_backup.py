"""The restore drill (SPEC §10: a daily full copy, data at most 24 h old; RTO for loss of data 2
business hours): back up, destroy, restore into an empty database, and compare every table's
row count and every uploaded file's checksum."""

import json
import os
import subprocess
import sys
import time
from datetime import timedelta
from pathlib import Path

import psycopg
import pytest
import time_machine
from celery.schedules import crontab
from django.conf import settings as django_settings
from django.core.files.base import ContentFile
from django.db import connection
from django.utils import timezone

from accounts.models import Role
from accounts.tests.factories import UserFactory
from sla.tests.factories import organisation_on_level
from sla_portal.backup import BackupError, backup_create, backup_prune, backup_restore, sha256
from sla_portal.celery import app
from tests.fault_servers import app_environment
from tickets.services import ticket_create

postgresql_only = pytest.mark.skipif(connection.vendor != "postgresql", reason="the drill runs on PostgreSQL")


def _admin(sql: str) -> None:
    db = connection.settings_dict
    with psycopg.connect(
        host=db["HOST"] or "127.0.0.1",
        port=db["PORT"] or 5432,
        user=db["USER"],
        dbname="postgres",
        autocommit=True,
    ) as admin:
        admin.execute(sql)


def _row_counts(database_url: str) -> dict[str, int]:
    with psycopg.connect(database_url.replace("postgres://", "postgresql://")) as conn:
        tables = [
            name
            for (name,) in conn.execute(
                "SELECT tablename FROM pg_tables WHERE schemaname = 'public' ORDER BY tablename"
            )
        ]
        return {table: conn.execute(f'SELECT count(*) FROM "{table}"').fetchone()[0] for table in tables}  # noqa: S608 - names from the catalogue  # nosec B608


def _media_checksums(root: Path) -> dict[str, str]:
    return {p.relative_to(root).as_posix(): sha256(p) for p in root.rglob("*") if p.is_file()}


def _manage(*args: str, environment: dict[str, str]) -> subprocess.CompletedProcess:
    return subprocess.run(
        [sys.executable, "manage.py", *args],
        cwd=django_settings.BASE_DIR,
        env=environment,
        capture_output=True,
        text=True,
        check=False,
    )


@pytest.fixture
def media_root(settings, tmp_path):
    settings.MEDIA_ROOT = tmp_path / "media"
    settings.MEDIA_ROOT.mkdir()
    return settings.MEDIA_ROOT


@pytest.fixture
def scratch_database():
    """A scratch database on the same server: the one the drill destroys and restores into."""
    name = f"{connection.settings_dict['NAME']}_drill"
    _admin(f'DROP DATABASE IF EXISTS "{name}"')
    db = connection.settings_dict
    yield name, f"postgres://{db['USER']}@{db['HOST'] or '127.0.0.1'}:{db['PORT'] or 5432}/{name}"
    _admin(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')


def _some_data(media_root: Path) -> None:
    """Tickets with clocks, a manager, and uploaded files (including a binary one)."""
    from tickets.models import Attachment

    UserFactory(role=Role.MANAGER)
    organisation = organisation_on_level("extended")
    coordinator = UserFactory(role=Role.COORDINATOR, organisation=organisation)
    for n in range(25):
        ticket = ticket_create(
            organisation=organisation,
            by=coordinator,
            kind="incident",
            title=f"Storing {n}",
            impact=2,
            urgency=2,
        )
    for n, content in enumerate([b"log line\n" * 100, bytes(range(256)) * 64, "één".encode()]):
        attachment = Attachment(
            ticket=ticket,
            uploaded_by=coordinator,
            original_name=f"file{n}.bin",
            content_type="application/octet-stream",
            size=len(content),
        )
        attachment.file.save(f"file{n}.bin", ContentFile(content), save=False)
        attachment.save()


@postgresql_only
@pytest.mark.django_db(transaction=True)
def test_restore_drill_back_up_destroy_restore_and_compare(media_root, scratch_database, tmp_path, capsys):
    # given a site with data and uploaded files
    _some_data(media_root)
    source_counts = _row_counts(app_environment()["DATABASE_URL"])
    source_files = _media_checksums(media_root)
    assert source_counts["tickets_ticket"] == 25 and len(source_files) == 3
    # when it is backed up
    began = time.monotonic()
    backup = backup_create(directory=tmp_path / "backups")
    backup_seconds = time.monotonic() - began
    manifest = json.loads((backup / "manifest.json").read_text())
    assert manifest["row_counts"] == source_counts and manifest["media"] == source_files
    # and the scratch database is destroyed (dropped and created empty) with an empty media dir
    name, scratch_url = scratch_database
    _admin(f'DROP DATABASE IF EXISTS "{name}"')
    _admin(f'CREATE DATABASE "{name}"')
    restored_media = tmp_path / "restored-media"
    environment = app_environment(DATABASE_URL=scratch_url, MEDIA_ROOT=str(restored_media))
    # and restored there, as an operator would
    began = time.monotonic()
    result = _manage("restore", str(backup), environment=environment)
    restore_seconds = time.monotonic() - began
    assert result.returncode == 0, result.stderr
    # then every table has the same row count and every file the same checksum
    assert _row_counts(scratch_url) == source_counts
    assert _media_checksums(restored_media) == source_files
    # and the restored site works: its migrations are complete
    check = _manage("migrate", "--check", environment=environment)
    assert check.returncode == 0, check.stdout + check.stderr
    with capsys.disabled():
        print(
            f"\nrestore drill: {sum(source_counts.values())} rows in {len(source_counts)} tables, "
            f"{len(source_files)} files; backup {backup_seconds:.1f} s, restore (manage.py) "
            f"{restore_seconds:.1f} s; {result.stdout.strip()}"
        )
    # and a second restore into the now non-empty database is refused unless forced
    refused = _manage("restore", str(backup), environment=environment)
    assert refused.returncode != 0 and "--force" in refused.stderr and "Nothing was changed" in refused.stderr
    forced = _manage("restore", str(backup), "--force", environment=environment)
    assert forced.returncode == 0, forced.stderr
    assert _row_counts(scratch_url) == source_counts


@postgresql_only
@pytest.mark.django_db(transaction=True)
def test_a_damaged_backup_is_refused_before_anything_is_touched(media_root, scratch_database, tmp_path):
    _some_data(media_root)
    backup = backup_create(directory=tmp_path / "backups")
    dump = backup / "database.dump"
    data = bytearray(dump.read_bytes())
    data[len(data) // 2] ^= 0xFF
    dump.write_bytes(bytes(data))
    name, scratch_url = scratch_database
    _admin(f'CREATE DATABASE "{name}"')
    result = _manage(
        "restore",
        str(backup),
        environment=app_environment(DATABASE_URL=scratch_url, MEDIA_ROOT=str(tmp_path / "m")),
    )
    assert result.returncode != 0 and "does not match its checksum" in result.stderr
    assert _row_counts(scratch_url) == {}


@pytest.mark.django_db(transaction=True)
def test_restore_refuses_a_database_that_is_not_empty(media_root, tmp_path):
    backup = backup_create(directory=tmp_path / "backups")
    with pytest.raises(BackupError, match="Nothing was changed"):
        backup_restore(path=backup)


def test_sqlite_backs_up_with_the_online_backup_api_and_restores(tmp_path):
    """The embedded default (bin/run): SQLite, through manage.py on a fresh SQLite file."""
    environment = {
        key: value
        for key, value in os.environ.items()
        if key not in ("DATABASE_URL", "REDIS_URL", "MEDIA_ROOT")
    }
    environment.update(DEBUG="1", VAR_DIR=str(tmp_path / "var"))
    source = {**environment, "DATABASE_URL": f"sqlite:///{tmp_path / 'source.sqlite3'}"}
    assert _manage("migrate", "--no-input", environment=source).returncode == 0
    (tmp_path / "var" / "media" / "a").mkdir(parents=True)
    (tmp_path / "var" / "media" / "a" / "f.txt").write_text("attachment")
    made = _manage("backup", "--dir", str(tmp_path / "backups"), environment=source)
    assert made.returncode == 0, made.stderr
    backup = Path(made.stdout.strip())
    assert (backup / "database.sqlite3").exists()
    target = {
        **environment,
        "DATABASE_URL": f"sqlite:///{tmp_path / 'target.sqlite3'}",
        "MEDIA_ROOT": str(tmp_path / "media2"),
    }
    restored = _manage("restore", str(backup), environment=target)
    assert restored.returncode == 0, restored.stderr
    assert (tmp_path / "media2" / "a" / "f.txt").read_text() == "attachment"
    assert "row counts and checksums match" in restored.stdout


def _fake_backup(base: Path, created_at) -> Path:
    path = base / f"sla-portal-{created_at:%Y%m%dT%H%M%SZ}"
    path.mkdir(parents=True)
    (path / "manifest.json").write_text(json.dumps({"created_at": created_at.isoformat()}))
    return path


def test_backups_older_than_the_retention_are_pruned_and_the_newest_is_always_kept(settings, tmp_path):
    settings.BACKUP_RETENTION_DAYS = 14
    now = timezone.now()
    days = [30, 20, 15, 13, 1, 0]
    paths = {day: _fake_backup(tmp_path, now - timedelta(days=day, hours=1)) for day in days}
    removed = backup_prune(directory=tmp_path, now=now)
    assert sorted(removed) == sorted(paths[day] for day in (30, 20, 15))
    assert sorted(tmp_path.iterdir()) == sorted(paths[day] for day in (13, 1, 0))
    # a backup that stopped being made: the last one stays, however old
    with time_machine.travel(now + timedelta(days=100)):
        backup_prune(directory=tmp_path)
    assert list(tmp_path.iterdir()) == [paths[0]]


def test_the_backup_runs_daily_in_the_maintenance_window():
    """Document 001 §5.8.1: "Elke dag (gedurende het service onderhoud window) wordt er een
    volledige (data)kopie genomen [...] een RPO [...] met een maximale ouderdom van 24 uur."
    The window (SPEC §8) is Mon-Fri 20:00-04:00 and weekends all day, Amsterdam time."""
    entry = app.conf.beat_schedule["backup"]
    assert entry["task"] == "sla_portal.tasks.backup_daily_task"
    assert entry["schedule"] == crontab(hour=2, minute=30)
    assert app.conf.timezone == "Europe/Amsterdam"
