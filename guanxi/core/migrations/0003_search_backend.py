"""The full-text side of the search index.

SQLite: an FTS5 table over core_searchentry.document (external content), kept in step by
triggers. PostgreSQL: a GIN index on to_tsvector('simple', document). Other databases get
nothing (search raises there). The SQL is written out here so later changes to the search
code cannot change what this migration did.
"""

from django.db import migrations

SQLITE_CREATE = [
    """CREATE VIRTUAL TABLE IF NOT EXISTS core_search_fts USING fts5(
        document,
        content='core_searchentry',
        content_rowid='id',
        tokenize='unicode61 remove_diacritics 0'
    )""",
    """CREATE TRIGGER IF NOT EXISTS core_search_fts_ai AFTER INSERT ON core_searchentry BEGIN
        INSERT INTO core_search_fts(rowid, document) VALUES (new.id, new.document);
    END""",
    """CREATE TRIGGER IF NOT EXISTS core_search_fts_ad AFTER DELETE ON core_searchentry BEGIN
        INSERT INTO core_search_fts(core_search_fts, rowid, document)
        VALUES ('delete', old.id, old.document);
    END""",
    """CREATE TRIGGER IF NOT EXISTS core_search_fts_au AFTER UPDATE ON core_searchentry BEGIN
        INSERT INTO core_search_fts(core_search_fts, rowid, document)
        VALUES ('delete', old.id, old.document);
        INSERT INTO core_search_fts(rowid, document) VALUES (new.id, new.document);
    END""",
    "INSERT INTO core_search_fts(core_search_fts) VALUES ('rebuild')",
]
SQLITE_DROP = [
    "DROP TRIGGER IF EXISTS core_search_fts_au",
    "DROP TRIGGER IF EXISTS core_search_fts_ad",
    "DROP TRIGGER IF EXISTS core_search_fts_ai",
    "DROP TABLE IF EXISTS core_search_fts",
]
POSTGRESQL_CREATE = [
    "CREATE INDEX IF NOT EXISTS core_searchentry_document_gin ON core_searchentry "
    "USING gin (to_tsvector('simple'::regconfig, document))",
]
POSTGRESQL_DROP = ["DROP INDEX IF EXISTS core_searchentry_document_gin"]


def _run(schema_editor, statements_by_vendor):
    for statement in statements_by_vendor.get(schema_editor.connection.vendor, []):
        schema_editor.execute(statement, params=None)


def create_fulltext(apps, schema_editor):
    _run(schema_editor, {"sqlite": SQLITE_CREATE, "postgresql": POSTGRESQL_CREATE})


def drop_fulltext(apps, schema_editor):
    _run(schema_editor, {"sqlite": SQLITE_DROP, "postgresql": POSTGRESQL_DROP})


class Migration(migrations.Migration):
    dependencies = [
        ("core", "0002_default_roles"),
    ]

    operations = [
        migrations.RunPython(create_fulltext, drop_fulltext),
    ]
