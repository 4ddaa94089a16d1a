"""Backing up and restoring the database and the uploaded files.

SQLite is copied with its online backup API, so a backup taken while Guanxi runs is
consistent. PostgreSQL goes through pg_dump / pg_restore. Uploaded files (MEDIA_ROOT) go
into a tar.gz beside the database backup.
"""

from __future__ import annotations

import datetime
import os
import shutil
import sqlite3
import subprocess
import tarfile
from pathlib import Path

MEDIA_SUFFIX = ".media.tar.gz"


class BackupError(Exception):
    pass


def default_backup_path(data_dir: Path, engine: str, now: datetime.datetime | None = None) -> Path:
    stamp = (now or datetime.datetime.now()).strftime("%Y%m%d-%H%M%S")
    suffix = "sqlite3" if is_sqlite(engine) else "pgdump"
    return Path(data_dir) / "backups" / f"guanxi-{stamp}.{suffix}"


def is_sqlite(engine: str) -> bool:
    return engine.endswith("sqlite3")


def is_postgresql(engine: str) -> bool:
    return "postgresql" in engine or "postgis" in engine


# --- SQLite ---------------------------------------------------------------------------------


def sqlite_backup(source: Path | str, target: Path | str) -> Path:
    """Copy a live SQLite database into `target` (a new file), page by page."""
    source, target = Path(source), Path(target)
    if not source.exists():
        raise BackupError(f"no database at {source}")
    if target.exists():
        raise BackupError(f"{target} already exists")
    target.parent.mkdir(parents=True, exist_ok=True)
    partial = target.with_name(target.name + ".partial")
    partial.unlink(missing_ok=True)
    src = sqlite3.connect(f"file:{source}?mode=ro", uri=True)
    dst = sqlite3.connect(partial)
    try:
        src.backup(dst, pages=1024)
        # A backup is one self-contained file: no write-ahead log beside it.
        dst.execute("PRAGMA journal_mode=DELETE")
    finally:
        dst.close()
        src.close()
    partial.rename(target)
    target.chmod(0o600)
    return target


def sqlite_check(path: Path | str) -> None:
    """Refuse files that are not an intact Guanxi database."""
    path = Path(path)
    if not path.is_file():
        raise BackupError(f"no backup at {path}")
    try:
        connection = sqlite3.connect(f"file:{path}?mode=ro", uri=True)
        try:
            (result,) = connection.execute("PRAGMA quick_check").fetchone()
            tables = {
                row[0]
                for row in connection.execute("SELECT name FROM sqlite_master WHERE type='table'")
            }
        finally:
            connection.close()
    except sqlite3.DatabaseError as error:
        raise BackupError(f"{path} is not a SQLite database: {error}") from error
    if result != "ok":
        raise BackupError(f"{path} is damaged: {result}")
    if "django_migrations" not in tables:
        raise BackupError(f"{path} is not a Guanxi database")


def sqlite_restore(backup: Path | str, target: Path | str) -> None:
    """Replace the database at `target` with the backup's contents (in place, locked)."""
    sqlite_check(backup)
    target = Path(target)
    target.parent.mkdir(parents=True, exist_ok=True)
    src = sqlite3.connect(f"file:{backup}?mode=ro", uri=True)
    dst = sqlite3.connect(target, timeout=30)
    try:
        src.backup(dst)
        dst.execute("PRAGMA wal_checkpoint(TRUNCATE)")
    finally:
        dst.close()
        src.close()


# --- PostgreSQL -----------------------------------------------------------------------------


def pg_environment(database: dict) -> dict[str, str]:
    """libpq variables for a Django DATABASES entry."""
    env = dict(os.environ)
    values = {
        "PGHOST": database.get("HOST"),
        "PGPORT": database.get("PORT"),
        "PGUSER": database.get("USER"),
        "PGPASSWORD": database.get("PASSWORD"),
        "PGDATABASE": database.get("NAME"),
    }
    for key, value in values.items():
        if value:
            env[key] = str(value)
    return env


def _run(command: list[str], env: dict[str, str]) -> None:
    if shutil.which(command[0]) is None:
        raise BackupError(
            f"{command[0]} is not installed (Debian: apt-get install postgresql-client)"
        )
    result = subprocess.run(command, env=env, capture_output=True, text=True)
    if result.returncode != 0:
        raise BackupError(f"{command[0]} failed: {result.stderr.strip()}")


def pg_backup(database: dict, target: Path | str) -> Path:
    target = Path(target)
    if target.exists():
        raise BackupError(f"{target} already exists")
    target.parent.mkdir(parents=True, exist_ok=True)
    _run(["pg_dump", "-Fc", "--no-owner", "-f", str(target)], pg_environment(database))
    target.chmod(0o600)
    return target


def pg_restore(database: dict, backup: Path | str) -> None:
    if not Path(backup).is_file():
        raise BackupError(f"no backup at {backup}")
    env = pg_environment(database)
    _run(
        [
            "pg_restore",
            "--clean",
            "--if-exists",
            "--no-owner",
            "-d",
            env["PGDATABASE"],
            str(backup),
        ],
        env,
    )


# --- Uploaded files -------------------------------------------------------------------------


def media_archive_path(backup: Path | str) -> Path:
    backup = Path(backup)
    return backup.with_name(backup.name + MEDIA_SUFFIX)


def media_backup(media_root: Path | str, backup: Path | str) -> Path | None:
    """Archive MEDIA_ROOT beside the database backup; None when there are no files."""
    media_root = Path(media_root)
    if not media_root.is_dir() or not any(media_root.iterdir()):
        return None
    archive = media_archive_path(backup)
    with tarfile.open(archive, "w:gz") as tar:
        tar.add(media_root, arcname="media")
    archive.chmod(0o600)
    return archive


def media_restore(media_root: Path | str, backup: Path | str) -> bool:
    """Replace MEDIA_ROOT with the archive beside the backup, when there is one."""
    archive = media_archive_path(backup)
    if not archive.is_file():
        return False
    media_root = Path(media_root)
    staging = media_root.with_name(media_root.name + ".restoring")
    shutil.rmtree(staging, ignore_errors=True)
    staging.mkdir(parents=True)
    with tarfile.open(archive, "r:gz") as tar:
        if hasattr(tarfile, "data_filter"):
            tar.extractall(staging, filter="data")
        else:  # Python < 3.11.4
            tar.extractall(staging)  # noqa: S202
    old = media_root.with_name(media_root.name + ".old")
    shutil.rmtree(old, ignore_errors=True)
    if media_root.exists():
        media_root.rename(old)
    (staging / "media").rename(media_root)
    shutil.rmtree(staging, ignore_errors=True)
    shutil.rmtree(old, ignore_errors=True)
    return True
