"""Backups and restores (SPEC §10: a daily full copy in the maintenance window, data at most
24 h old; losing data must be recoverable within 2 business hours).

A backup is one directory under ``BACKUP_DIR``, named by its UTC time:

- ``database.dump``: PostgreSQL's ``pg_dump --format=custom`` (on SQLite, ``database.sqlite3``
  made with SQLite's online backup API), taken while the site runs;
- ``media.tar``: the uploaded files (``MEDIA_ROOT``: attachments, report PDFs);
- ``manifest.json``: the SHA-256 of both files and of every uploaded file, and the row count
  of every table *in the dump's own snapshot*, so a restore proves itself complete.

The directory is written under a ``.partial`` name and renamed when complete: a backup that
died halfway is never mistaken for one to restore. A restore verifies every checksum before it
touches anything, goes only into an empty database (``force`` replaces what is there), and
compares the restored row counts with the manifest's.
"""

import hashlib
import json
import logging
import os
import shutil
import sqlite3
import subprocess
import tarfile
import time
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from pathlib import Path

from django.conf import settings
from django.db import connection, connections, transaction
from django.utils import timezone

logger = logging.getLogger(__name__)

PREFIX = "sla-portal-"
MANIFEST = "manifest.json"
MEDIA_TAR = "media.tar"
FORMAT = 1


class BackupError(Exception):
    """A backup or restore that cannot go on; the message says why and what to do."""


@dataclass
class RestoreResult:
    tables: int
    rows: int
    files: int
    seconds: float


def sha256(path: Path) -> str:
    digest = hashlib.sha256()
    with path.open("rb") as file:
        for chunk in iter(lambda: file.read(1 << 20), b""):
            digest.update(chunk)
    return digest.hexdigest()


# --- PostgreSQL client tools ------------------------------------------------------------------


def _pg_tool(name: str) -> str:
    """pg_dump / pg_restore of the server's major version: an older client refuses a newer
    server's dump, a newer one writes archives an older pg_restore cannot read."""
    if settings.BACKUP_PG_BIN_DIR:
        return str(Path(settings.BACKUP_PG_BIN_DIR) / name)
    major = connection.pg_version // 10000
    candidate = Path(f"/usr/lib/postgresql/{major}/bin/{name}")
    if candidate.exists():
        return str(candidate)
    found = shutil.which(name)
    if not found:
        raise BackupError(
            f"{name} is not installed: install the PostgreSQL {major} client or set BACKUP_PG_BIN_DIR."
        )
    return found


def _pg_environment(alias: str = "default") -> dict[str, str]:
    db = connections[alias].settings_dict
    environment = {**os.environ, "PGDATABASE": db["NAME"]}
    if db["USER"]:
        environment["PGUSER"] = db["USER"]
    if db["HOST"]:
        environment["PGHOST"] = db["HOST"]
    if db["PORT"]:
        environment["PGPORT"] = str(db["PORT"])
    if db["PASSWORD"]:
        environment["PGPASSWORD"] = db["PASSWORD"]
    return environment


def _run(command: list[str], **kwargs) -> None:
    completed = subprocess.run(command, capture_output=True, text=True, check=False, **kwargs)  # noqa: S603
    if completed.returncode:
        raise BackupError(
            f"{Path(command[0]).name} failed ({completed.returncode}): {completed.stderr.strip()[-2000:]}"
        )


# --- backup -------------------------------------------------------------------------------------


def _table_names() -> list[str]:
    with connection.cursor() as cursor:
        return sorted(connection.introspection.table_names(cursor))


def _count_rows(cursor, tables: list[str], quote) -> dict[str, int]:
    counts = {}
    for table in tables:
        cursor.execute(f"SELECT count(*) FROM {quote(table)}")  # noqa: S608 - names from the catalogue  # nosec B608
        counts[table] = cursor.fetchone()[0]
    return counts


def _dump_postgresql(target: Path) -> tuple[str, dict[str, int]]:
    """pg_dump in a snapshot that this transaction exported, and the row counts of that same
    snapshot: what the manifest promises is exactly what the dump holds, under live writes."""
    path = target / "database.dump"
    tables = _table_names()
    with transaction.atomic(), connection.cursor() as cursor:
        cursor.execute("SET TRANSACTION ISOLATION LEVEL REPEATABLE READ, READ ONLY")
        cursor.execute("SELECT pg_export_snapshot()")
        snapshot = cursor.fetchone()[0]
        counts = _count_rows(cursor, tables, connection.ops.quote_name)
        _run(
            [
                _pg_tool("pg_dump"),
                "--format=custom",
                f"--snapshot={snapshot}",
                "--no-owner",
                f"--file={path}",
            ],
            env=_pg_environment(),
        )
    return path.name, counts


def _dump_sqlite(target: Path) -> tuple[str, dict[str, int]]:
    path = target / "database.sqlite3"
    source = sqlite3.connect(connection.settings_dict["NAME"])
    copy = sqlite3.connect(path)
    try:
        source.backup(copy)  # the online backup API: consistent while others write
        tables = [
            name
            for (name,) in copy.execute("SELECT name FROM sqlite_master WHERE type = 'table' ORDER BY name")
            if not name.startswith("sqlite_")
        ]
        counts = _count_rows(copy.cursor(), tables, connection.ops.quote_name)
    finally:
        copy.close()
        source.close()
    return path.name, counts


def _pack_media(target: Path) -> dict[str, str]:
    """media.tar of MEDIA_ROOT; each file's SHA-256 by its path inside MEDIA_ROOT."""
    root = Path(settings.MEDIA_ROOT)
    checksums = {}
    with tarfile.open(target / MEDIA_TAR, "w") as archive:
        if root.is_dir():
            for path in sorted(p for p in root.rglob("*") if p.is_file()):
                name = path.relative_to(root).as_posix()
                checksums[name] = sha256(path)
                archive.add(path, arcname=name)
    return checksums


def backup_create(*, directory: Path | None = None) -> Path:
    """Back up the database and the uploaded files into a new directory; its path."""
    started = time.monotonic()
    base = Path(directory or settings.BACKUP_DIR)
    base.mkdir(parents=True, exist_ok=True)
    created_at = timezone.now()
    name = PREFIX + created_at.strftime("%Y%m%dT%H%M%SZ")
    target = base / f".partial-{name}"
    shutil.rmtree(target, ignore_errors=True)
    target.mkdir()
    try:
        if connection.vendor == "postgresql":
            database_file, counts = _dump_postgresql(target)
        elif connection.vendor == "sqlite":
            database_file, counts = _dump_sqlite(target)
        else:
            raise BackupError(f"backing up {connection.vendor} is not supported")
        media = _pack_media(target)
        manifest = {
            "format": FORMAT,
            "created_at": created_at.isoformat(),
            "vendor": connection.vendor,
            "database": database_file,
            "files": {database_file: sha256(target / database_file), MEDIA_TAR: sha256(target / MEDIA_TAR)},
            "media": media,
            "row_counts": counts,
            "seconds": round(time.monotonic() - started, 2),
        }
        (target / MANIFEST).write_text(json.dumps(manifest, indent=2, sort_keys=True))
        final = base / name
        target.rename(final)
    except BaseException:
        shutil.rmtree(target, ignore_errors=True)
        raise
    logger.info("backup %s: %s rows, %s files", final, sum(counts.values()), len(media))
    return final


def backup_prune(*, directory: Path | None = None, now: datetime | None = None) -> list[Path]:
    """Delete backups older than BACKUP_RETENTION_DAYS; the newest is always kept."""
    base = Path(directory or settings.BACKUP_DIR)
    now = now or timezone.now()
    limit = now - timedelta(days=settings.BACKUP_RETENTION_DAYS)
    backups = sorted(p for p in base.glob(PREFIX + "*") if (p / MANIFEST).exists()) if base.is_dir() else []
    removed = []
    for path in backups[:-1]:
        created_at = datetime.fromisoformat(json.loads((path / MANIFEST).read_text())["created_at"])
        if created_at < limit:
            shutil.rmtree(path)
            removed.append(path)
    # Leftovers of runs that died halfway, a day old (a running backup is younger).
    for path in base.glob(".partial-*") if base.is_dir() else []:
        if datetime.fromtimestamp(path.stat().st_mtime, tz=UTC) < now - timedelta(days=1):
            shutil.rmtree(path, ignore_errors=True)
    return removed


# --- restore ------------------------------------------------------------------------------------


def backup_verify(path: Path) -> dict:
    """The manifest of a complete, unaltered backup; BackupError otherwise."""
    manifest_path = Path(path) / MANIFEST
    if not manifest_path.exists():
        raise BackupError(f"{path} is not a backup: it has no {MANIFEST}.")
    manifest = json.loads(manifest_path.read_text())
    if manifest.get("format") != FORMAT:
        raise BackupError(f"{path} has backup format {manifest.get('format')}; this version reads {FORMAT}.")
    for name, expected in manifest["files"].items():
        file = Path(path) / name
        if not file.exists():
            raise BackupError(f"{file} is missing: the backup is incomplete; restore another one.")
        if sha256(file) != expected:
            raise BackupError(
                f"{file} does not match its checksum: the backup is damaged; restore another one."
            )
    return manifest


def _media_files(root: Path) -> list[Path]:
    return [p for p in root.rglob("*") if p.is_file()] if root.is_dir() else []


def backup_restore(*, path: Path, force: bool = False) -> RestoreResult:
    """Restore a backup into this site's (empty) database and MEDIA_ROOT."""
    started = time.monotonic()
    path = Path(path)
    manifest = backup_verify(path)
    if manifest["vendor"] != connection.vendor:
        raise BackupError(f"This is a {manifest['vendor']} backup; the database here is {connection.vendor}.")
    tables = _table_names()
    media_root = Path(settings.MEDIA_ROOT)
    existing_files = _media_files(media_root)
    if (tables or existing_files) and not force:
        raise BackupError(
            f"The database {connection.settings_dict['NAME']} has {len(tables)} tables and {media_root} "
            f"{len(existing_files)} files: restore into an empty database and media directory, "
            "or pass --force to replace them. Nothing was changed."
        )
    if connection.vendor == "postgresql":
        _restore_postgresql(path / manifest["database"], wipe=bool(tables))
    else:
        _restore_sqlite(path / manifest["database"])
    _restore_media(path / MEDIA_TAR, media_root, manifest["media"], wipe=bool(existing_files))
    counts = {}
    with connection.cursor() as cursor:
        counts = _count_rows(cursor, list(manifest["row_counts"]), connection.ops.quote_name)
    if counts != manifest["row_counts"]:
        wrong = {t: (counts.get(t), n) for t, n in manifest["row_counts"].items() if counts.get(t) != n}
        raise BackupError(f"Restored row counts differ from the backup's (restored, backed up): {wrong}")
    return RestoreResult(
        tables=len(counts),
        rows=sum(counts.values()),
        files=len(manifest["media"]),
        seconds=round(time.monotonic() - started, 2),
    )


def _restore_postgresql(dump: Path, *, wipe: bool) -> None:
    if wipe:
        with connection.cursor() as cursor:
            cursor.execute("DROP SCHEMA public CASCADE; CREATE SCHEMA public")
    connection.close()  # pg_restore works on its own connection
    _run(
        [
            _pg_tool("pg_restore"),
            "--no-owner",
            "--no-privileges",
            "--exit-on-error",
            "--single-transaction",
            f"--dbname={connection.settings_dict['NAME']}",
            str(dump),
        ],
        env=_pg_environment(),
    )


def _restore_sqlite(copy: Path) -> None:
    connection.close()
    source = sqlite3.connect(copy)
    target = sqlite3.connect(connection.settings_dict["NAME"])
    try:
        source.backup(target)  # replaces the target's pages with the copy's
    finally:
        target.close()
        source.close()


def _restore_media(archive: Path, root: Path, checksums: dict[str, str], *, wipe: bool) -> None:
    root.mkdir(parents=True, exist_ok=True)
    if wipe:  # the contents: MEDIA_ROOT itself may be a mounted volume
        for child in root.iterdir():
            shutil.rmtree(child) if child.is_dir() and not child.is_symlink() else child.unlink()
    with tarfile.open(archive) as tar:
        tar.extractall(root, filter="data")  # refuses absolute paths, .., links out of root
    for name, expected in checksums.items():
        file = root / name
        if not file.exists() or sha256(file) != expected:
            raise BackupError(f"The restored file {file} does not match the backup's checksum.")
