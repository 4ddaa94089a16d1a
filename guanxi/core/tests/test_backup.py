"""Backup and restore: SQLite through the online backup API (on a database file made for the
test, never the test database), uploaded files beside it, and PostgreSQL through
pg_dump / pg_restore on a scratch database when the suite runs on PostgreSQL."""

import sqlite3
import warnings
from io import StringIO
from pathlib import Path

import pytest
from django.conf import settings
from django.core.management import call_command
from django.core.management.base import CommandError
from django.test import override_settings

from guanxi.core.management import backups


def make_database(path: Path, rows: list[str]) -> Path:
    """A small database in WAL mode, shaped like Guanxi's (it has django_migrations)."""
    connection = sqlite3.connect(path)
    connection.execute("PRAGMA journal_mode=WAL")
    connection.execute("CREATE TABLE django_migrations (id INTEGER PRIMARY KEY, app TEXT)")
    connection.execute("CREATE TABLE account (id INTEGER PRIMARY KEY, name TEXT)")
    connection.executemany("INSERT INTO account (name) VALUES (?)", [(row,) for row in rows])
    connection.commit()
    # The connection stays open elsewhere in real life; here the WAL still holds the rows.
    connection.close()
    return path


def names(path: Path) -> list[str]:
    connection = sqlite3.connect(path)
    try:
        return [row[0] for row in connection.execute("SELECT name FROM account ORDER BY id")]
    finally:
        connection.close()


def test_sqlite_backup_and_restore_round_trip(tmp_path):
    live = make_database(tmp_path / "live.sqlite3", ["上海明达贸易有限公司", "Northwind Ltd."])
    # A writer keeps the database open while the backup runs.
    writer = sqlite3.connect(live)
    writer.execute("INSERT INTO account (name) VALUES ('深圳市腾飞科技股份有限公司')")
    writer.commit()

    backup = backups.sqlite_backup(live, tmp_path / "backups" / "b.sqlite3")
    assert names(backup) == ["上海明达贸易有限公司", "Northwind Ltd.", "深圳市腾飞科技股份有限公司"]
    connection = sqlite3.connect(backup)
    assert connection.execute("PRAGMA journal_mode").fetchone()[0] == "delete"
    connection.close()
    assert not backup.with_name(backup.name + ".partial").exists()

    writer.execute("DELETE FROM account")
    writer.execute("INSERT INTO account (name) VALUES ('after the backup')")
    writer.commit()
    writer.close()
    assert names(live) == ["after the backup"]

    backups.sqlite_restore(backup, live)
    assert names(live) == ["上海明达贸易有限公司", "Northwind Ltd.", "深圳市腾飞科技股份有限公司"]


def test_sqlite_backup_refuses_to_overwrite(tmp_path):
    live = make_database(tmp_path / "live.sqlite3", ["a"])
    target = tmp_path / "exists.sqlite3"
    target.write_text("keep me")
    with pytest.raises(backups.BackupError, match="already exists"):
        backups.sqlite_backup(live, target)
    assert target.read_text() == "keep me"


def test_restore_refuses_what_is_not_a_guanxi_backup(tmp_path):
    live = make_database(tmp_path / "live.sqlite3", ["a"])
    garbage = tmp_path / "garbage.sqlite3"
    garbage.write_bytes(b"this is not a database" * 100)
    with pytest.raises(backups.BackupError, match="not a SQLite database"):
        backups.sqlite_restore(garbage, live)
    other = tmp_path / "other.sqlite3"
    connection = sqlite3.connect(other)
    connection.execute("CREATE TABLE t (x)")
    connection.commit()
    connection.close()
    with pytest.raises(backups.BackupError, match="not a Guanxi database"):
        backups.sqlite_restore(other, live)
    assert names(live) == ["a"]


def test_media_archive_round_trip(tmp_path):
    media = tmp_path / "media"
    (media / "attachments").mkdir(parents=True)
    (media / "attachments" / "合同.pdf").write_bytes(b"%PDF-1.4 contract")
    backup = tmp_path / "b.sqlite3"
    archive = backups.media_backup(media, backup)
    assert archive == tmp_path / "b.sqlite3.media.tar.gz"

    (media / "attachments" / "合同.pdf").unlink()
    (media / "new.txt").write_text("uploaded after the backup")
    assert backups.media_restore(media, backup) is True
    assert (media / "attachments" / "合同.pdf").read_bytes() == b"%PDF-1.4 contract"
    assert not (media / "new.txt").exists()


def test_no_media_archive_without_files(tmp_path):
    assert backups.media_backup(tmp_path / "media", tmp_path / "b.sqlite3") is None
    assert backups.media_restore(tmp_path / "media", tmp_path / "b.sqlite3") is False


@pytest.fixture
def file_settings(tmp_path):
    """Settings that point the commands at a database file made for this test."""
    live = make_database(tmp_path / "guanxi.sqlite3", ["first", "second"])
    media = tmp_path / "media"
    media.mkdir()
    (media / "logo.png").write_bytes(b"png")
    database = {**settings.DATABASES["default"]}
    database.update(ENGINE="django.db.backends.sqlite3", NAME=str(live))
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")  # "Overriding setting DATABASES can lead to ..."
        with override_settings(
            DATABASES={**settings.DATABASES, "default": database},
            DATA_DIR=tmp_path,
            MEDIA_ROOT=media,
        ):
            yield live, media


def test_backup_and_restore_commands(file_settings, tmp_path):
    live, media = file_settings
    out = StringIO()
    call_command("backup", stdout=out)
    written = sorted((tmp_path / "backups").glob("guanxi-*.sqlite3"))
    assert len(written) == 1
    assert f"Database backed up to {written[0]}" in out.getvalue()
    assert names(written[0]) == ["first", "second"]
    assert (tmp_path / "backups" / (written[0].name + ".media.tar.gz")).exists()

    connection = sqlite3.connect(live)
    connection.execute("DELETE FROM account")
    connection.commit()
    connection.close()
    (media / "logo.png").unlink()

    with pytest.raises(CommandError, match="--yes"):
        call_command("restore", str(written[0]), stdout=StringIO())
    assert names(live) == []

    out = StringIO()
    call_command("restore", str(written[0]), yes=True, stdout=out)
    assert names(live) == ["first", "second"]
    assert (media / "logo.png").read_bytes() == b"png"
    assert "Uploaded files restored" in out.getvalue()


def test_backup_command_to_a_chosen_path(file_settings, tmp_path):
    target = tmp_path / "elsewhere" / "crm.db"
    call_command("backup", str(target), no_media=True, stdout=StringIO())
    assert names(target) == ["first", "second"]
    assert not Path(str(target) + ".media.tar.gz").exists()
    with pytest.raises(CommandError, match="already exists"):
        call_command("backup", str(target), stdout=StringIO())


def test_restore_command_needs_an_existing_file(file_settings, tmp_path):
    with pytest.raises(CommandError, match="No backup"):
        call_command("restore", str(tmp_path / "missing.sqlite3"), yes=True)


def test_postgresql_environment_from_settings():
    env = backups.pg_environment(
        {"HOST": "db.internal", "PORT": 5433, "USER": "crm", "PASSWORD": "s", "NAME": "guanxi"}
    )
    assert (env["PGHOST"], env["PGPORT"], env["PGUSER"], env["PGPASSWORD"], env["PGDATABASE"]) == (
        "db.internal",
        "5433",
        "crm",
        "s",
        "guanxi",
    )


@pytest.mark.skipif(
    not settings.DATABASES["default"]["ENGINE"].endswith("postgresql"),
    reason="the PostgreSQL run of scripts/test.sh covers pg_dump / pg_restore",
)
def test_postgresql_backup_and_restore_round_trip(tmp_path, worker_id):
    import psycopg

    server = settings.DATABASES["default"]
    scratch = f"guanxi_backup_test_{worker_id}"
    admin_env = backups.pg_environment({**server, "NAME": "postgres"})
    connect = {
        "host": admin_env.get("PGHOST"),
        "port": admin_env.get("PGPORT"),
        "user": admin_env.get("PGUSER"),
        "password": admin_env.get("PGPASSWORD"),
    }
    with psycopg.connect(dbname="postgres", autocommit=True, **connect) as connection:
        connection.execute(f'DROP DATABASE IF EXISTS "{scratch}"')
        connection.execute(f'CREATE DATABASE "{scratch}"')
    try:
        database = {**server, "NAME": scratch}
        with psycopg.connect(dbname=scratch, autocommit=True, **connect) as connection:
            connection.execute("CREATE TABLE account (id serial PRIMARY KEY, name text)")
            connection.execute("INSERT INTO account (name) VALUES ('北京华信科技有限公司')")
        dump = backups.pg_backup(database, tmp_path / "crm.pgdump")
        assert dump.stat().st_size > 0
        with psycopg.connect(dbname=scratch, autocommit=True, **connect) as connection:
            connection.execute("DELETE FROM account")
        backups.pg_restore(database, dump)
        with psycopg.connect(dbname=scratch, autocommit=True, **connect) as connection:
            rows = connection.execute("SELECT name FROM account").fetchall()
        assert rows == [("北京华信科技有限公司",)]
    finally:
        with psycopg.connect(dbname="postgres", autocommit=True, **connect) as connection:
            connection.execute(f'DROP DATABASE IF EXISTS "{scratch}"')
