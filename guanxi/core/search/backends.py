"""The full-text side of the index, one backend per database vendor.

Both answer the same question: SQL selecting the ids of at most `cap` SearchEntry rows whose
document has, for every term, a token starting with it. The caller combines that subquery
with the data scope in one statement.

- SQLite: the FTS5 table `core_search_fts` (external content = core_searchentry.document,
  kept in step by triggers created in migration core.0003_search_backend), queried with
  MATCH '"term"* AND ...'.
- PostgreSQL: a GIN index on to_tsvector('simple', document), queried with
  to_tsquery('simple', '''term'':* & ...').
"""

from __future__ import annotations

from django.db import connections

FTS_TABLE = "core_search_fts"
ENTRY_TABLE = "core_searchentry"
PG_INDEX = "core_searchentry_document_gin"


class SearchBackend:
    vendor = ""

    def candidates_sql(self, terms: list[str], cap: int) -> tuple[str, list]:
        raise NotImplementedError

    def rebuild(self, connection) -> None:
        """Resynchronise the full-text structure with core_searchentry after bulk work."""


class SQLiteBackend(SearchBackend):
    vendor = "sqlite"

    @staticmethod
    def match_expression(terms: list[str]) -> str:
        # Every term is a quoted FTS5 string (quotes doubled) with a prefix star, so no user
        # input is ever read as FTS5 syntax (AND/OR/NEAR, column filters, parentheses).
        return " AND ".join('"{}"*'.format(term.replace('"', '""')) for term in terms)

    def candidates_sql(self, terms: list[str], cap: int) -> tuple[str, list]:
        sql = (
            f"SELECT rowid FROM {FTS_TABLE} WHERE {FTS_TABLE} MATCH %s "
            f"ORDER BY rowid DESC LIMIT {int(cap)}"
        )
        return sql, [self.match_expression(terms)]

    def rebuild(self, connection) -> None:
        with connection.cursor() as cursor:
            cursor.execute(f"INSERT INTO {FTS_TABLE}({FTS_TABLE}) VALUES ('rebuild')")
            cursor.execute(f"INSERT INTO {FTS_TABLE}({FTS_TABLE}) VALUES ('optimize')")


class PostgreSQLBackend(SearchBackend):
    vendor = "postgresql"

    @staticmethod
    def tsquery(terms: list[str]) -> str:
        # Each term is a quoted lexeme (quotes doubled, backslashes escaped) with the prefix
        # marker; the whole string is passed as a bound parameter.
        quoted = []
        for term in terms:
            escaped = term.replace("\\", "\\\\").replace("'", "''")
            quoted.append(f"'{escaped}':*")
        return " & ".join(quoted)

    def candidates_sql(self, terms: list[str], cap: int) -> tuple[str, list]:
        sql = (
            f"SELECT id FROM {ENTRY_TABLE} "
            "WHERE to_tsvector('simple'::regconfig, document) "
            "@@ to_tsquery('simple'::regconfig, %s) "
            f"LIMIT {int(cap)}"
        )
        return sql, [self.tsquery(terms)]


_BACKENDS = {backend.vendor: backend for backend in (SQLiteBackend(), PostgreSQLBackend())}


def backend_for(using: str = "default") -> SearchBackend:
    vendor = connections[using].vendor
    try:
        return _BACKENDS[vendor]
    except KeyError:
        raise NotImplementedError(f"search has no backend for {vendor}") from None
