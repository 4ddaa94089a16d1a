"""Duplicate detection across accounts, contacts (and later leads).

Sources register how to describe a record (name, phones, e-mails, person or company). Each
write refreshes the record's blocking keys (`DuplicateKey`); a check looks up the records
sharing a key with the candidate and scores only those with `matching.match_candidates`.
A user who may not see a matching record is told that it exists and who owns it, nothing
more.
"""

from __future__ import annotations

import json
from collections import defaultdict
from collections.abc import Callable, Iterable, Iterator
from dataclasses import dataclass, field
from typing import Any

from django.contrib.contenttypes.models import ContentType
from django.db import connection, models, transaction
from django.utils import timezone

from guanxi.core.expressions import json_array
from guanxi.core.models import User
from guanxi.customers import matching
from guanxi.customers.match_names import prepared_names, store_prepared_names_of_kinds
from guanxi.customers.models import DuplicateKey, DuplicatePair, DuplicateScan

# A block larger than this is a common name prefix ("中国", "zhon"); comparing within it
# costs more than it finds, so such name blocks are skipped and phones/e-mails still match.
MAX_BLOCK = 2000
CANDIDATES_PER_KEY = 200


@dataclass
class DuplicateSource:
    model: type[models.Model]
    describe: Callable[[models.Model], dict[str, Any]]  # -> {name, phones, emails, kind}
    prefetch: tuple[str, ...] = ()
    url_name: str | None = None
    # For the scan, which reads every record: the only columns `describe` reads, and the
    # column holding phone_digits(phone) already, so a million phones are not parsed again.
    scan_fields: tuple[str, ...] = ()
    phone_digits_field: str = ""
    # The column holding an e-mail address its services store normalised (email_normalise),
    # so its matching key is just the lower-case address: no validation again per record.
    email_field: str = ""


_sources: dict[str, DuplicateSource] = {}


def register_duplicate_source(source: DuplicateSource) -> None:
    _sources[source.model._meta.label_lower] = source


def duplicate_sources() -> list[DuplicateSource]:
    return list(_sources.values())


def _source_for(record: models.Model) -> DuplicateSource | None:
    return _sources.get(type(record)._meta.label_lower)


def record_keys_and_name(
    record: models.Model,
) -> tuple[set[str], matching.PreparedName | None, str]:
    """The record's blocking keys, its prepared name and the kind it was prepared for."""
    source = _source_for(record)
    if source is None:
        return set(), None, ""
    described = source.describe(record)
    kind = described.get("kind", matching.COMPANY)
    keys = matching.blocking_keys(
        described["name"], described.get("phones", ()), described.get("emails", ()), kind=kind
    )
    # Already prepared for the name keys (prepare_name remembers its recent answers).
    return keys, matching.prepare_name(described["name"] or "", kind), kind


def record_keys(record: models.Model) -> set[str]:
    return record_keys_and_name(record)[0]


def duplicate_keys_refresh(record: models.Model) -> None:
    """Rewrite the record's blocking keys and keep its prepared name (called by the
    services after each write)."""
    if _source_for(record) is None:
        return
    content_type = ContentType.objects.get_for_model(record)
    DuplicateKey.objects.filter(content_type=content_type, object_id=record.pk).delete()
    if getattr(record, "is_deleted", False):
        return
    keys, prepared, kind = record_keys_and_name(record)
    DuplicateKey.objects.bulk_create(
        [
            DuplicateKey(content_type=content_type, object_id=record.pk, key=key[:80])
            for key in sorted(keys)
        ]
    )
    store_prepared_names_of_kinds([(prepared, kind)])


def duplicate_keys_create_many(records: list[models.Model]) -> None:
    """Write the keys of records that have none yet (fresh bulk inserts), in one statement,
    and keep their prepared names."""
    if not records:
        return
    content_type = ContentType.objects.get_for_model(type(records[0]))
    keys_and_names = [(record, *record_keys_and_name(record)) for record in records]
    DuplicateKey.objects.bulk_create(
        [
            DuplicateKey(content_type=content_type, object_id=record.pk, key=key[:80])
            for record, keys, _prepared, _kind in keys_and_names
            for key in sorted(keys)
        ],
        batch_size=1000,
    )
    store_prepared_names_of_kinds(
        [(prepared, kind) for _record, _keys, prepared, kind in keys_and_names]
    )


@dataclass
class DuplicateHit:
    model_label: str
    verbose_name: str
    pk: int
    score: float
    reasons: list[str]
    visible: bool
    owner_name: str
    name: str = ""  # empty when the user may not see the record
    url: str = ""
    record: Any = field(default=None, repr=False)


def _described(record: models.Model) -> dict[str, Any]:
    source = _source_for(record)
    described = dict(source.describe(record))
    described["pk"] = record.pk
    return described


def _load(content_type_id: int, ids: Iterable[int], *, for_scan: bool = False) -> list:
    model = ContentType.objects.get_for_id(content_type_id).model_class()
    source = _sources.get(model._meta.label_lower)
    if source is None:
        return []
    queryset = model.objects.filter(pk__in_array=list(ids))
    if for_scan and source.scan_fields:
        queryset = queryset.only(*source.scan_fields)
    elif not for_scan:
        queryset = queryset.select_related("owner")
    if source.prefetch:
        queryset = queryset.prefetch_related(*source.prefetch)
    return list(queryset)


def key_holders(
    keys: Iterable[str], *, content_type_id: int | None = None, per_key: int | None = None
) -> list[tuple[str, int, int]]:
    """(key, content type id, object id) of the records holding each key, at most `per_key`
    per key (the newest first). Each key is its own index range read: one `key IN (...)`
    with a global limit hands the whole budget to the first crowded name block ("n:中国"
    holds tens of thousands of accounts) and leaves the phone and e-mail keys, which find
    the sure duplicates, without candidates."""
    per_key = per_key or CANDIDATES_PER_KEY
    table = connection.ops.quote_name(DuplicateKey._meta.db_table)
    key_column = connection.ops.quote_name("key")
    if content_type_id is None:
        where, order = f"{key_column} = %s", "content_type_id DESC, object_id DESC"
    else:
        where, order = f"{key_column} = %s AND content_type_id = %s", "object_id DESC"
    # Plain SQL: a batch of import rows asks for a thousand keys, and the ORM's cost per
    # statement would be most of the time.
    if connection.vendor == "postgresql":
        return _key_holders_lateral(sorted(set(keys)), content_type_id, per_key)
    sql = f"SELECT content_type_id, object_id FROM {table} WHERE {where} ORDER BY {order} LIMIT %s"
    found = []
    with connection.cursor() as cursor:
        for key in sorted(set(keys)):
            params = [key, per_key] if content_type_id is None else [key, content_type_id, per_key]
            cursor.execute(sql, params)
            found.extend((key, type_id, object_id) for type_id, object_id in cursor.fetchall())
    return found


def _key_holders_lateral(
    keys: list[str], content_type_id: int | None, per_key: int
) -> list[tuple[str, int, int]]:
    """key_holders in one PostgreSQL statement: the same index range read per key (a
    LATERAL subquery with its own LIMIT) without a round trip per key."""
    table = connection.ops.quote_name(DuplicateKey._meta.db_table)
    keys_array, params = json_array(keys, "varchar")
    if content_type_id is None:
        where, order = "d.key = k.key", "d.content_type_id DESC, d.object_id DESC"
        params += [per_key]
    else:
        where, order = "d.key = k.key AND d.content_type_id = %s", "d.object_id DESC"
        params += [content_type_id, per_key]
    sql = (
        f"SELECT k.key, h.content_type_id, h.object_id FROM unnest({keys_array}) AS k(key) "
        f"CROSS JOIN LATERAL (SELECT d.content_type_id, d.object_id FROM {table} d "
        f"WHERE {where} ORDER BY {order} LIMIT %s) h ORDER BY k.key, h.content_type_id DESC, "
        "h.object_id DESC"
    )
    with connection.cursor() as cursor:
        cursor.execute(sql, params)
        return [tuple(row) for row in cursor.fetchall()]


def duplicate_candidates(
    *,
    user: User,
    name: str,
    phones: Any = (),
    emails: Any = (),
    kind: str = matching.COMPANY,
    exclude: models.Model | None = None,
    limit: int = 10,
) -> list[DuplicateHit]:
    """Records that look like the given name/phones/e-mails, best first."""
    keys = matching.blocking_keys(name, phones, emails, kind=kind)
    if not keys:
        return []
    by_type: dict[int, set[int]] = defaultdict(set)
    for _key, content_type_id, object_id in key_holders(keys):
        by_type[content_type_id].add(object_id)
    records = [record for ct, ids in by_type.items() for record in _load(ct, ids)]
    if exclude is not None:
        records = [r for r in records if not (type(r) is type(exclude) and r.pk == exclude.pk)]
    candidate = {"name": name, "phones": phones, "emails": emails}
    described = {id(record): record for record in records}
    others = [{**_described(record), "_key": id(record)} for record in records]
    matches = matching.match_candidates(candidate, others, kind=kind)[:limit]
    visible_ids = _visible_ids(user, [described[m.other["_key"]] for m in matches])
    hits = []
    for match in matches:
        record = described[match.other["_key"]]
        visible = (type(record), record.pk) in visible_ids
        hits.append(
            DuplicateHit(
                model_label=record._meta.label_lower,
                verbose_name=str(record._meta.verbose_name),
                pk=record.pk,
                score=match.score,
                reasons=[reason.message for reason in match.reasons],
                visible=visible,
                owner_name=str(record.owner) if getattr(record, "owner", None) else "",
                name=str(record) if visible else "",
                url=_url(record) if visible else "",
                record=record if visible else None,
            )
        )
    return hits


def _visible_ids(user: User, records: list[models.Model]) -> set[tuple[type, int]]:
    by_model: dict[type, list[int]] = defaultdict(list)
    for record in records:
        by_model[type(record)].append(record.pk)
    visible = set()
    for model, ids in by_model.items():
        for pk in model.objects.visible_to(user).filter(pk__in=ids).values_list("pk", flat=True):
            visible.add((model, pk))
    return visible


def _url(record: models.Model) -> str:
    from guanxi.core.views.registry import get_registration

    registration = get_registration(type(record))
    return registration.url("detail", record.pk) if registration else ""


# ---------------------------------------------------------------------------------------
# The administrator's scan


def _blocks(content_type: ContentType):
    """Keys shared by two or more records of the model, smallest blocks first."""
    return (
        DuplicateKey.objects.filter(content_type=content_type)
        .values("key")
        .annotate(size=models.Count("id"))
        .filter(size__gt=1, size__lte=MAX_BLOCK)
        .order_by("size", "key")
    )


def _streamed_blocks(content_type: ContentType):
    """(key, sorted ids) of each block of 2..MAX_BLOCK records, in key order, from one
    statement reading the (key, content_type, object_id) index in order."""
    rows = (
        DuplicateKey.objects.filter(content_type=content_type)
        .order_by("key", "object_id")
        .values_list("key", "object_id")
        .iterator(chunk_size=5000)
    )
    current, ids = None, []
    for key, object_id in rows:
        if key != current:
            if 1 < len(ids) <= MAX_BLOCK:
                yield current, ids
            current, ids = key, []
        if not ids or ids[-1] != object_id:
            ids.append(object_id)
    if 1 < len(ids) <= MAX_BLOCK:
        yield current, ids


@dataclass
class _Prepared:
    """One record as the scan compares it: described and prepared once per scan."""

    pk: int
    name: str
    kind: str
    phones: frozenset[str]
    emails: frozenset[str]
    names: dict[str, matching.PreparedName] = field(default_factory=dict)

    def prepared(self, kind: str) -> matching.PreparedName:
        found = self.names.get(kind)
        if found is None:
            found = self.names[kind] = matching.prepare_name(self.name, kind)
        return found


def stored_email_keys(address: str) -> set[str]:
    """`matching.email_keys` of an address stored normalised."""
    return {address.casefold()} if address else set()


def stored_phone_keys(digits: str) -> set[str]:
    """`matching.phone_keys` of a phone from its stored `phone_digits`: no parsing again."""
    return {digits} if len(digits) >= matching.MIN_PHONE_KEY_DIGITS else set()


class _ScanCache:
    """Prepared records by id, loaded in batches; bounded so a huge table cannot fill the
    worker's memory (it starts again empty, the records are simply loaded again)."""

    MAX_SIZE = 200_000

    def __init__(self, content_type: ContentType):
        self.content_type = content_type
        self.records: dict[int, _Prepared | None] = {}

    def missing(self, ids: Iterable[int]) -> set[int]:
        return {pk for pk in ids if pk not in self.records}

    def load(self, ids: set[int]) -> None:
        if not ids:
            return
        if len(self.records) + len(ids) > self.MAX_SIZE:
            self.records.clear()
        source = _sources.get(self.content_type.model_class()._meta.label_lower)
        digits_field = source.phone_digits_field if source is not None else ""
        email_field = source.email_field if source is not None else ""
        described_records = [
            (record, _described(record))
            for record in _load(self.content_type.pk, ids, for_scan=True)
        ]
        names_by_kind: dict[str, set[str]] = defaultdict(set)
        for _record, described in described_records:
            names_by_kind[described.get("kind", matching.COMPANY)].add(described.get("name") or "")
        prepared_by_kind = {
            kind: prepared_names(names, kind) for kind, names in names_by_kind.items()
        }
        for record, described in described_records:
            kind = described.get("kind", matching.COMPANY)
            if digits_field:
                phones = stored_phone_keys(getattr(record, digits_field))
            else:
                phones = matching.phone_keys(described.get("phones", ()))
            prepared = _Prepared(
                pk=record.pk,
                name=described.get("name") or "",
                kind=kind,
                phones=frozenset(phones),
                emails=frozenset(
                    stored_email_keys(getattr(record, email_field))
                    if email_field
                    else matching.email_keys(described.get("emails", ()))
                ),
            )
            stored = prepared_by_kind[kind].get(prepared.name)
            if stored is not None:
                prepared.names[kind] = stored
            self.records[record.pk] = prepared
        for pk in ids:  # deleted since its keys were written: nothing to compare
            self.records.setdefault(pk, None)

    def prepare_mixed_kinds(self, blocks: list[list[_Prepared]]) -> None:
        """Where a block mixes people and companies, each record is compared the way of the
        other kind too: read (or prepare and store) those prepared names in one go."""
        missing: dict[str, dict[int, _Prepared]] = defaultdict(dict)
        for records in blocks:
            kinds = {record.kind for record in records}
            if len(kinds) > 1:
                for record in records:
                    for kind in kinds - record.names.keys():
                        missing[kind][record.pk] = record
        for kind, records in missing.items():
            found = prepared_names({record.name for record in records.values()}, kind)
            for record in records.values():
                stored = found.get(record.name)
                if stored is not None:
                    record.names[kind] = stored


# Why a pair matched, as the scan stores it: (shared phones, shared e-mails, name score or
# None). The reasons' messages depend on nothing else, and a scan finds millions of pairs
# with a handful of distinct keys: each is turned into its messages once.
ReasonsKey = tuple[int, int, float | None]


def _compare(
    first: _Prepared, second: _Prepared, name_score: float | None
) -> tuple[float, ReasonsKey] | None:
    """What `matching.match_candidates(first, [second], kind=first.kind)` answers (its
    score, and its reasons as a `ReasonsKey`), given the names' score when they are at
    least `matching.DEFAULT_THRESHOLD` similar."""
    phones = 0 if first.phones.isdisjoint(second.phones) else len(first.phones & second.phones)
    emails = 0 if first.emails.isdisjoint(second.emails) else len(first.emails & second.emails)
    if phones or emails:
        return 100.0, (phones, emails, name_score)
    if name_score is not None:
        return name_score, (0, 0, name_score)
    return None


def _block_matches(
    records: list[_Prepared], seen: set[tuple[int, int]]
) -> Iterator[tuple[_Prepared, _Prepared, float, ReasonsKey]]:
    """(first, second, score, reasons) for each pair of the block that `_compare` matches,
    first before second in the block's order, pairs in `seen` left out.

    Only the pairs sharing a phone or an e-mail, or whose names rapidfuzz finds close
    (`matching.NameBlock`), are compared one by one: in a block of a thousand names nearly
    all of the half million pairs are far apart. Each record's name is compared with the
    names after it only: the scores are symmetric."""
    by_phone: dict[str, list[int]] = defaultdict(list)
    by_email: dict[str, list[int]] = defaultdict(list)
    for index, record in enumerate(records):
        for digits in record.phones:
            by_phone[digits].append(index)
        for address in record.emails:
            by_email[address].append(index)
    names = {
        kind: matching.NameBlock([record.prepared(kind) for record in records])
        for kind in {record.kind for record in records}
    }
    for index, first in enumerate(records):
        name_scores = dict(
            names[first.kind].similar(
                first.prepared(first.kind), matching.DEFAULT_THRESHOLD, start=index + 1
            )
        )
        close = set(name_scores)
        for digits in first.phones:
            close.update(by_phone[digits])
        for address in first.emails:
            close.update(by_email[address])
        for other in sorted(close):
            if other <= index:
                continue
            second = records[other]
            if (second.pk, first.pk) in seen:
                continue
            found = _compare(first, second, name_scores.get(other))
            if found is not None:
                yield first, second, *found


class _ReasonsColumn:
    """The `reasons` column of the pairs: each distinct `ReasonsKey` turned into its
    messages, translated and encoded as JSON once; a pair carries its key's number, 1 for
    the first."""

    def __init__(self) -> None:
        self.encoder = DuplicatePair._meta.get_field("reasons").encoder
        self.texts: list[str] = []
        self.numbers: dict[ReasonsKey, int] = {}

    def __call__(self, key: ReasonsKey) -> int:
        number = self.numbers.get(key)
        if number is None:
            phones, emails, name_score = key
            reasons = [matching.MatchReason("phone", "", 100.0)] * phones
            reasons += [matching.MatchReason("email", "", 100.0)] * emails
            if name_score is not None:
                reasons.append(matching.MatchReason("name", "", name_score))
            messages = [reason.message for reason in reasons]
            self.texts.append(json.dumps(messages, cls=self.encoder))
            number = self.numbers[key] = len(self.texts)
        return number


# Rows per INSERT statement: SQLite takes at most 999 parameters in older builds.
PAIRS_PER_INSERT = {"sqlite": 150}
DEFAULT_PAIRS_PER_INSERT = 5000


def _insert_pairs(
    scan: DuplicateScan, pairs: list[tuple[int, int, float, int]], reasons: _ReasonsColumn
) -> None:
    """Insert the pairs (first id, second id, score, number of the reasons) many rows per
    statement. Django's bulk_create built and prepared a model per pair (most of a large
    scan's time); one statement per pair made PostgreSQL the bottleneck.

    No `ON CONFLICT` (it cost PostgreSQL 6 µs a row, a third of the insert): the caller
    leaves out every pair the scan already stored, a resumed run's too, and the unique
    constraint makes a second run of the same scan at the same time fail rather than
    store a pair twice."""
    table = connection.ops.quote_name(DuplicatePair._meta.db_table)
    size = PAIRS_PER_INSERT.get(connection.vendor, DEFAULT_PAIRS_PER_INSERT)
    with connection.cursor() as cursor:
        for start in range(0, len(pairs), size):
            chunk = pairs[start : start + size]
            if connection.vendor == "postgresql":
                cursor.execute(*_pairs_from_json(table, scan, chunk, reasons.texts))
            else:
                cursor.execute(*_pairs_from_values(table, scan, chunk, reasons.texts))


def _pairs_from_json(
    table: str, scan: DuplicateScan, chunk: list, texts: list[str]
) -> tuple[str, list]:
    """PostgreSQL: the rows as one JSON parameter, which PostgreSQL takes apart. A VALUES
    list with a placeholder per value cost psycopg more than the server (it splits a long
    statement's placeholders anew each time: 40 ms for 1,000 rows), and so did array
    parameters (it writes a list's items one by one in Python: 9 µs a pair)."""
    return (
        f"INSERT INTO {table} (scan_id, first_id, second_id, score, reasons) "
        "SELECT %s, (pair->>0)::bigint, (pair->>1)::bigint, (pair->>2)::float8, "
        "((%s::text[])[(pair->>3)::integer])::jsonb FROM jsonb_array_elements(%s::jsonb) pair",
        [scan.pk, texts, json.dumps(chunk)],
    )


def _pairs_from_values(
    table: str, scan: DuplicateScan, chunk: list, texts: list[str]
) -> tuple[str, list]:
    values = ", ".join(["(%s, %s, %s, %s, %s)"] * len(chunk))
    params = []
    for first, second, score, number in chunk:
        params.extend((scan.pk, first, second, score, texts[number - 1]))
    return (
        f"INSERT INTO {table} (scan_id, first_id, second_id, score, reasons) VALUES {values}",
        params,
    )


FLUSH_IDS = 2000  # load this many new records at once
FLUSH_BLOCKS = 500  # and write progress at least this often


def duplicate_scan_run(*, scan: DuplicateScan) -> DuplicateScan:
    """Compare the records within each block and store the pairs found.

    One pass over the keys in key order; each record is described and prepared once per
    scan (batches of ids loaded together, prepared names read from `MatchName`). Within a
    block only the pairs with a shared phone or e-mail or a close name are compared
    (`_block_matches`); a pair found in an earlier block it shares is not stored again.
    """
    from django.apps import apps

    model = apps.get_model(scan.model_label)
    content_type = ContentType.objects.get_for_model(model)
    scan.status = DuplicateScan.Status.RUNNING
    scan.blocks_total = _blocks(content_type).count()
    scan.save(update_fields=["status", "blocks_total"])
    seen: set[tuple[int, int]] = set(
        DuplicatePair.objects.filter(scan=scan).values_list("first_id", "second_id")
    )
    cache = _ScanCache(content_type)
    block_number = 0
    reasons_column = _ReasonsColumn()

    def process(pending: list[tuple[str, list[int]]]) -> None:
        nonlocal block_number
        cache.load(cache.missing({pk for _key, ids in pending for pk in ids}))
        blocks = []
        for _key, ids in pending:
            # Newest first, as the records load (the newer one is the candidate, whose kind
            # the comparison uses).
            records = [cache.records.get(pk) for pk in reversed(ids)]
            blocks.append([record for record in records if record is not None])
        cache.prepare_mixed_kinds(blocks)
        pairs = []
        for records in blocks:
            block_number += 1
            for first, second, score, reasons in _block_matches(records, seen):
                seen.add((second.pk, first.pk))
                pairs.append((second.pk, first.pk, score, reasons_column(reasons)))
        with transaction.atomic():
            _insert_pairs(scan, pairs, reasons_column)
            scan.blocks_done = block_number
            scan.pairs_found += len(pairs)
            scan.save(update_fields=["blocks_done", "pairs_found"])

    try:
        pending: list[tuple[str, list[int]]] = []
        new_ids: set[int] = set()
        for key, ids in _streamed_blocks(content_type):
            pending.append((key, ids))
            new_ids.update(cache.missing(ids))
            if len(new_ids) >= FLUSH_IDS or len(pending) >= FLUSH_BLOCKS:
                process(pending)
                pending, new_ids = [], set()
        process(pending)
    except Exception as error:  # the scan page must say it failed, not spin forever
        scan.status = DuplicateScan.Status.FAILED
        scan.error = str(error)[:2000]
        scan.save(update_fields=["status", "error"])
        raise
    scan.status = DuplicateScan.Status.DONE
    scan.finished_at = timezone.now()
    scan.save(update_fields=["status", "finished_at"])
    return scan
