"""The account import's duplicate check, with the duplicate matching of the rest of the app.

The engine's own check finds a row's duplicate by exact key (same phone digits, same name).
This resource adds what a person would call a duplicate: the same e-mail address, or a name
scoring at least 90 (北京明达贸易有限公司 vs 明达贸易; 华为 vs 华威 by pinyin), among the
records the importing user can see. It uses the blocking keys of
`guanxi.customers.duplicates` and the scoring of `guanxi.customers.matching`, fetched once
per batch (three queries), so an import does not pay a duplicate check per row.
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Iterable
from typing import Any

from django.contrib.contenttypes.models import ContentType
from django.db import router

from guanxi.core.imports.resources import (
    ImportContext,
    ImportRow,
    ModelResource,
    PendingRecord,
    register_resource,
)
from guanxi.customers import matching
from guanxi.customers.duplicate_sources import describe_account
from guanxi.customers.duplicates import (
    key_holders,
    record_keys,
    stored_email_keys,
    stored_phone_keys,
)
from guanxi.customers.match_names import prepared_names
from guanxi.customers.models import Account
from guanxi.customers.resources import account_resource

IMPORT_THRESHOLD = 90


def _row_kind(row: ImportRow) -> str:
    return matching.PERSON if row.data.get("kind") == Account.Kind.INDIVIDUAL else matching.COMPANY


def _describe_row(row: ImportRow) -> dict[str, Any]:
    return {
        "name": str(row.data.get("name") or ""),
        "phones": [row.data["phone"]] if row.data.get("phone") else [],
        "emails": [row.data["email"]] if row.data.get("email") else [],
    }


def _row_keys(row: ImportRow) -> set[str]:
    described = _describe_row(row)
    return matching.blocking_keys(
        described["name"], described["phones"], described["emails"], kind=_row_kind(row)
    )


def _with_keys(described: dict[str, Any]) -> dict[str, Any]:
    # A candidate may be compared with many rows: its keys are worked out once, when first
    # compared (most candidates of a batch never are).
    if "phone_keys" not in described:
        described["phone_keys"] = matching.phone_keys(described["phones"])
    if "email_keys" not in described:
        described["email_keys"] = matching.email_keys(described["emails"])
    return described


def _describe_account(account: Account) -> dict[str, Any]:
    # The same description the duplicate check uses everywhere, plus what matching returns.
    described = {**describe_account(account), "pk": account.pk, "record": account}
    described["phone_keys"] = stored_phone_keys(account.phone_digits)
    described["email_keys"] = stored_email_keys(account.email)
    return described


def _describe_stored(values: tuple) -> dict[str, Any]:
    """What `_describe_account` gives for a candidate read as CANDIDATE_FIELDS values,
    without building the account: most candidates are never matched (`_record_of`)."""
    row = dict(zip(CANDIDATE_FIELDS, values, strict=True))
    individual = row["kind"] == Account.Kind.INDIVIDUAL
    return {
        "name": row["name"],
        "phones": [row["phone"]] if row["phone"] else [],
        "emails": [row["email"]] if row["email"] else [],
        "kind": matching.PERSON if individual else matching.COMPANY,
        "pk": row["id"],
        "values": values,
        "phone_keys": stored_phone_keys(row["phone_digits"]),
        "email_keys": stored_email_keys(row["email"]),
    }


def _record_of(described: dict[str, Any]):
    """The matched candidate's account (or pending row), built from its values when first
    needed; an update reloads the fields it was not read with."""
    record = described.get("record")
    if record is None:
        record = described["record"] = Account.from_db(
            router.db_for_read(Account), list(CANDIDATE_FIELDS), described["values"]
        )
    return record


# Similar-name candidates per blocking key for a batch of rows (the newest accounts of each
# block). A batch asks for a thousand keys; with the single check's 200 each, a million
# accounts' crowded name blocks made a batch load a hundred thousand candidates. Exact
# phones, e-mails and names are matched apart (ModelResource.prefetch_duplicates), and the
# duplicate scan compares whole blocks afterwards.
IMPORT_CANDIDATES_PER_KEY = 50

# What describing a candidate and skipping or updating it need (an update reloads the rest).
CANDIDATE_FIELDS = (
    "id",
    "name",
    "kind",
    "phone",
    "phone_digits",
    "email",
    "owner_id",
    "department_id",
)
NAME_POSITION = CANDIDATE_FIELDS.index("name")


class _Pool:
    """The candidate accounts of one batch, by blocking key."""

    def __init__(self) -> None:
        self.by_key: dict[str, dict[Any, dict[str, Any]]] = defaultdict(dict)

    def add(self, account: Account) -> None:
        """An account created by this run."""
        described = _describe_account(account)
        for key in record_keys(account):
            self.by_key[key[:80]][account.pk] = described

    def add_stored(
        self,
        values: tuple,
        keys: Iterable[str],
        prepared: dict[str, dict[str, matching.PreparedName]],
    ) -> None:
        """A stored account read as CANDIDATE_FIELDS values, with its prepared names."""
        described = _describe_stored(values)
        name = described["name"]
        described["prepared_names"] = {
            kind: by_name[name] for kind, by_name in prepared.items() if name in by_name
        }
        for key in keys:
            self.by_key[key[:80]][described["pk"]] = described

    def add_pending(self, pending: PendingRecord) -> None:
        described = {**_describe_row(pending.row), "record": pending}
        for key in _row_keys(pending.row):
            self.by_key[key[:80]][("pending", pending.row.line)] = described

    def candidates(self, keys: Iterable[str]) -> list[dict[str, Any]]:
        found: dict[Any, dict[str, Any]] = {}
        for key in keys:
            found.update(self.by_key.get(key[:80], {}))
        return [_with_keys(described) for described in found.values()]


class DuplicateMatchingResource(ModelResource):
    """A resource whose duplicate check also matches similar names and e-mails."""

    threshold = IMPORT_THRESHOLD

    @classmethod
    def wrapping(cls, resource: ModelResource) -> DuplicateMatchingResource:
        """The same resource (fields, aliases, services), with this duplicate check."""
        wrapped = cls.__new__(cls)
        wrapped.__dict__.update(resource.__dict__)
        return wrapped

    @staticmethod
    def _pool(context: ImportContext) -> _Pool:
        pool = getattr(context, "duplicate_pool", None)
        if pool is None:
            pool = context.duplicate_pool = _Pool()
        return pool

    def prefetch_duplicates(self, rows: Iterable[ImportRow], context: ImportContext) -> None:
        rows = list(rows)
        super().prefetch_duplicates(rows, context)
        pool = context.duplicate_pool = _Pool()  # per batch: earlier batches are committed
        keys = sorted({key[:80] for row in rows for key in _row_keys(row)})
        if not keys:
            return
        content_type = ContentType.objects.get_for_model(self.model)
        keys_of: dict[int, list[str]] = defaultdict(list)
        holders = key_holders(
            keys, content_type_id=content_type.pk, per_key=IMPORT_CANDIDATES_PER_KEY
        )
        for key, _type, object_id in holders:
            keys_of[object_id].append(key)
        if not keys_of:
            return
        visible = list(
            self.model.objects.visible_to(context.user)
            .filter(pk__in_array=list(keys_of))
            .values_list(*CANDIDATE_FIELDS)
        )
        names = {values[NAME_POSITION] for values in visible}
        prepared = {kind: prepared_names(names, kind) for kind in {_row_kind(row) for row in rows}}
        for values in visible:
            pool.add_stored(values, keys_of[values[0]], prepared)
        context.editable_ids.update(
            self.model.objects.editable_by(context.user)
            .filter(pk__in_array=list(keys_of))
            .values_list("pk", flat=True)
        )

    def duplicate_finder(self, row: ImportRow):
        exact = super().duplicate_finder(row)
        if exact is not None or row.context is None or not str(row.data.get("name") or "").strip():
            # A row without a name is not a record: let the service report it.
            return exact
        candidates = self._pool(row.context).candidates(_row_keys(row))
        if not candidates:
            return None
        matches = matching.match_candidates(
            _describe_row(row), candidates, threshold=self.threshold, kind=_row_kind(row)
        )
        return _record_of(matches[0].other) if matches else None

    def remember(self, record, context: ImportContext) -> None:
        super().remember(record, context)
        self._pool(context).add(record)

    def remember_pending(self, pending: PendingRecord, context: ImportContext) -> None:
        super().remember_pending(pending, context)
        self._pool(context).add_pending(pending)

    def update(self, *, instance, data, custom_data, actor):
        if instance.get_deferred_fields():  # a candidate read with CANDIDATE_FIELDS only
            instance.refresh_from_db()
        return super().update(instance=instance, data=data, custom_data=custom_data, actor=actor)


register_resource(DuplicateMatchingResource.wrapping(account_resource))
