"""The benchmark dataset, generated reproducibly from a seed with bulk inserts.

Sizes (DESIGN.md "Performance targets"): S = 10,000 accounts, M = 100,000, L = 1,000,000, each
with 500 users in 60 departments and 2 contacts per account. Half the accounts carry Chinese
names (companies with place prefixes and legal suffixes, individuals with real surnames), the
other half English company names. Owners are skewed (a few reps own many accounts), creation
dates spread over two years and follow the ids, as they would in a real database.

Nothing goes through the per-row services (a million accounts would take hours), but the rows
are the ones the services would write: `department_id` from the owner, normalised phones and
`phone_digits` (guanxi.core.phones), audit history (`ChangeRecord` CREATE with the service's
snapshot), the "contact linked" timeline entry, duplicate blocking keys
(guanxi.customers.duplicates.record_keys) and search entries built by each model's search
registration (the SQLite FTS5 table follows by trigger; PostgreSQL's GIN index by itself).

Each entity is a function `(ctx) -> None` in ENTITIES; later issues add activities, leads and
opportunities by appending theirs (they find the accounts and owners in `ctx`).
"""

from __future__ import annotations

import contextlib
import datetime
import functools
import itertools
import json
import random
import sys
import time
from array import array
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

SEED_DEFAULT = 1
# Creation dates end here (not "now"), so the same seed gives the same rows on any day.
UNTIL_DEFAULT = datetime.date(2026, 11, 1)
SPAN_DAYS = 730
BATCH_SIZE = 5000
CONTACTS_PER_ACCOUNT = 2
BENCH_PASSWORD = "bench-password"


@dataclass(frozen=True)
class Size:
    accounts: int
    users: int
    departments: int


SIZES: dict[str, Size] = {
    "toy": Size(accounts=200, users=5, departments=3),
    "S": Size(accounts=10_000, users=500, departments=60),
    "M": Size(accounts=100_000, users=500, departments=60),
    "L": Size(accounts=1_000_000, users=500, departments=60),
}


def _log(message: str) -> None:
    print(message, file=sys.stderr, flush=True)


@dataclass
class Organisation:
    """What the customer entities need to know about the generated organisation."""

    department_ids: list[int] = field(default_factory=list)
    user_ids: list[int] = field(default_factory=list)
    user_department: dict[int, int | None] = field(default_factory=dict)
    owner_ids: list[int] = field(default_factory=list)  # who owns accounts, Zipf-weighted
    owner_cum_weights: list[float] = field(default_factory=list)
    admin_ids: list[int] = field(default_factory=list)
    region_manager_ids: list[int] = field(default_factory=list)
    rep_ids: list[int] = field(default_factory=list)


@dataclass
class GenContext:
    size_name: str
    size: Size
    seed: int
    until: datetime.date = UNTIL_DEFAULT
    batch_size: int = BATCH_SIZE
    history: bool = True
    log: Callable[[str], None] = _log
    org: Organisation = field(default_factory=Organisation)
    # Compact per-account facts later entities (activities, leads, deals) build on.
    account_ids: array = field(default_factory=lambda: array("q"))
    account_owner_ids: array = field(default_factory=lambda: array("q"))
    contact_ids: array = field(default_factory=lambda: array("q"))
    rows: dict[str, int] = field(default_factory=dict)
    seconds: dict[str, float] = field(default_factory=dict)
    # Called with (first account index, count) after each committed batch of customers.
    on_customers_batch: Callable[[int, int], None] | None = None

    def rng(self, name: str) -> random.Random:
        """A generator per entity, so adding an entity never changes the others' rows."""
        return random.Random(f"{self.seed}:{name}")

    def count(self, table: str, n: int) -> None:
        self.rows[table] = self.rows.get(table, 0) + n

    @property
    def start(self) -> datetime.datetime:
        from django.utils import timezone

        end = datetime.datetime.combine(self.until, datetime.time(0, 0))
        end = timezone.make_aware(end, timezone.get_default_timezone())
        return end - datetime.timedelta(days=SPAN_DAYS)


@dataclass(frozen=True)
class Entity:
    name: str
    build: Callable[[GenContext], None]


# --- helpers ---------------------------------------------------------------------------------
@contextlib.contextmanager
def explicit_timestamps(*models):
    """Let bulk_create keep the created_at / updated_at values we give (two years of history)
    instead of stamping "now" (auto_now / auto_now_add), and restore the fields afterwards."""
    saved = []
    for model in models:
        for model_field in model._meta.concrete_fields:
            flags = (
                getattr(model_field, "auto_now", False),
                getattr(model_field, "auto_now_add", False),
            )
            if any(flags):
                saved.append((model_field, flags))
                model_field.auto_now = False
                model_field.auto_now_add = False
    try:
        yield
    finally:
        for model_field, (auto_now, auto_now_add) in saved:
            model_field.auto_now = auto_now
            model_field.auto_now_add = auto_now_add


def search_entries(model, instances: Iterable[Any]) -> list[Any]:
    """SearchEntry rows for records of `model`, built by its search registration exactly as
    index_object does (nothing for unregistered models or records it would leave out)."""
    from django.contrib.contenttypes.models import ContentType

    from guanxi.core.models import SearchEntry
    from guanxi.core.search.registry import registration_for

    registration = registration_for(model)
    if registration is None:
        return []
    content_type = ContentType.objects.get_for_model(model, for_concrete_model=True)
    return [
        SearchEntry(
            content_type=content_type,
            object_id=instance.pk,
            title=registration.title_of(instance),
            subtitle=registration.subtitle_of(instance),
            document=registration.document_of(instance),
        )
        for instance in instances
        if registration.is_searchable(instance)
    ]


def change_records(instances: Iterable[Any], *, actor_of, snapshot_of=None) -> list[Any]:
    """The CREATE history entry record_create writes (after = the service's snapshot)."""
    from django.contrib.contenttypes.models import ContentType

    from guanxi.core.models import ChangeAction, ChangeRecord
    from guanxi.core.services.records import snapshot

    rows = []
    for instance in instances:
        rows.append(
            ChangeRecord(
                content_type=ContentType.objects.get_for_model(instance, for_concrete_model=False),
                object_id=instance.pk,
                object_repr=str(instance)[:200],
                action=ChangeAction.CREATE,
                actor_id=actor_of(instance),
                request_id="",
                created_at=instance.created_at,
                after=(snapshot_of or snapshot)(instance),
            )
        )
    return rows


def zipf_cum_weights(n: int, exponent: float = 0.9) -> list[float]:
    total, cum = 0.0, []
    for rank in range(1, n + 1):
        total += 1.0 / rank**exponent
        cum.append(total)
    return cum


# --- phones, e-mails, names ------------------------------------------------------------------
MEMO_LIMIT = 200_000  # entries of a per-text memo before it starts again (bounded memory)


def plain_mobile(digits: str):
    """phone_normalise(digits) of a mainland mobile number (11 digits) written without
    phonenumbers, for the prefixes `plain_mobile_prefixes` found to read that way."""
    from guanxi.core.phones import NormalisedPhone

    return NormalisedPhone(
        e164=f"+86{digits}",
        national=f"{digits[:3]} {digits[3:7]} {digits[7:]}",
        digits=digits,
        kind_guess="mobile",
    )


@functools.cache
def plain_mobile_prefixes(prefixes: tuple[str, ...]) -> frozenset[str]:
    """The mobile prefixes for which `plain_mobile` is what phone_normalise answers (valid,
    a mobile, national form 138 1234 5678), checked against phonenumbers' own reading for
    every prefix with every next two digits at both ends of the range (its mainland mobile
    ranges are told apart by at most the first five digits). Parsing is most of the cost
    of a phone; a prefix that fails the check keeps going through phone_normalise."""
    from django.core.exceptions import ValidationError

    from guanxi.core.phones import phone_normalise

    plain = set()
    for prefix in prefixes:
        if len(prefix) != 3 or not prefix.isdigit():
            continue
        try:
            if all(
                phone_normalise(number) == plain_mobile(number)
                for two in range(100)
                for number in (f"{prefix}{two:02d}000000", f"{prefix}{two:02d}999999")
            ):
                plain.add(prefix)
        except ValidationError:
            continue
    return frozenset(plain)


class Faker:
    """Chinese-flavoured names, phones and addresses from one seeded random generator."""

    def __init__(self, rng: random.Random):
        from bench import names
        from guanxi.customers.regions import PROVINCES

        self.rng = rng
        self.names = names
        self.surnames = [s for s, _w in names.SURNAMES]
        self.surname_weights = list(itertools.accumulate(w for _s, w in names.SURNAMES))
        self.provinces = list(PROVINCES.items())
        self.legal = [s for s, w in names.LEGAL_SUFFIXES if w]
        self.legal_weights = [w for _s, w in names.LEGAL_SUFFIXES if w]
        self.plain_mobiles = plain_mobile_prefixes(tuple(names.MOBILE_PREFIXES))
        self._handles: dict[str, str] = {}  # text -> its pinyin handle (names repeat)

    def person_name(self) -> str:
        rng = self.rng
        surname = rng.choices(self.surnames, cum_weights=self.surname_weights)[0]
        given = "".join(
            rng.choice(self.names.GIVEN_CHARACTERS) for _ in range(rng.choice((1, 2, 2)))
        )
        return surname + given

    def english_person(self) -> str:
        given = self.rng.choice(self.names.ENGLISH_GIVEN)
        return f"{given} {self.rng.choice(self.names.ENGLISH_FAMILY)}"

    def place(self) -> tuple[str, str]:
        province, cities = self.rng.choice(self.provinces)
        return province, self.rng.choice(cities)

    @staticmethod
    def short_place(name: str) -> str:
        for unit in ("维吾尔自治区", "壮族自治区", "回族自治区", "自治区", "省", "市"):
            if name.endswith(unit) and len(name) > len(unit) + 1:
                return name[: -len(unit)]
        return name

    def trade_name(self) -> str:
        """Two characters (华鑫), sometimes three (华鑫达): tens of thousands of trade names,
        so name blocks stay the size they are in real data."""
        chars = self.names.TRADE_CHARACTERS
        length = 3 if self.rng.random() < 0.25 else 2
        return "".join(self.rng.choice(chars) for _ in range(length))

    def company_core(self) -> str:
        return self.trade_name() + self.rng.choice(self.names.INDUSTRY_WORDS)

    def chinese_company(self, province: str, city: str, core: str) -> str:
        """北京华鑫科技有限公司, 广东华鑫科技有限公司, 华鑫科技（北京）有限公司 ..."""
        rng = self.rng
        legal = rng.choices(self.legal, weights=self.legal_weights)[0]
        roll = rng.random()
        if roll < 0.55:
            place = self.short_place(city)
            return f"{place}{core}{legal}"
        if roll < 0.70:
            return f"{self.short_place(province)}{core}{legal}"
        if roll < 0.80:
            return f"{core}（{self.short_place(city)}）{legal}"
        return f"{core}{legal}"

    def english_company(self) -> str:
        """Acme Trading Ltd, Bluewave Cedar Logistics GmbH, Huaxin Technology Co., Ltd. ..."""
        rng = self.rng
        words = self.names
        roll = rng.random()
        if roll < 0.4:
            # The English name of a Chinese company: its trade name in pinyin.
            from pypinyin import lazy_pinyin

            brand = "".join(lazy_pinyin(self.trade_name())).capitalize()
        elif roll < 0.8:
            brand = f"{rng.choice(words.ENGLISH_WORDS)} {rng.choice(words.ENGLISH_WORDS)}"
        else:
            brand = f"{rng.choice(words.ENGLISH_FAMILY)} & {rng.choice(words.ENGLISH_FAMILY)}"
        return f"{brand} {rng.choice(words.ENGLISH_INDUSTRY)} {rng.choice(words.ENGLISH_SUFFIXES)}"

    def phone(self, *, landline_share: float = 0.0):
        """A normalised phone (guanxi.core.phones.phone_normalise): mobile 1[3-9]x or a
        landline of a big city."""
        from django.core.exceptions import ValidationError

        from guanxi.core.phones import phone_normalise

        rng = self.rng
        for _attempt in range(20):
            if rng.random() < landline_share:
                area = rng.choice(self.names.AREA_CODES)
                length = 8 if len(area) == 3 else rng.choice((7, 8))
                rest = rng.randint(0, 10 ** (length - 1) - 1)
                raw = f"{area}-{rng.randint(2, 9)}{rest:0{length - 1}d}"
            else:
                raw = rng.choice(self.names.MOBILE_PREFIXES) + f"{rng.randint(0, 99_999_999):08d}"
                if raw[:3] in self.plain_mobiles:
                    return plain_mobile(raw)
            try:
                return phone_normalise(raw)
            except ValidationError:
                continue
        raise RuntimeError("could not draw a valid phone number")

    def ascii_handle(self, text: str) -> str:
        handle = self._handles.get(text)
        if handle is None:
            from pypinyin import lazy_pinyin

            parts = [p for p in lazy_pinyin(text) if p.isascii()]
            handle = "".join(ch for ch in "".join(parts).lower() if ch.isalnum())
            if len(self._handles) > MEMO_LIMIT:
                self._handles.clear()
            self._handles[text] = handle
        return handle or f"user{self.rng.randint(1000, 9999)}"

    def address(self, province: str, city: str) -> tuple[str, str]:
        district = self.rng.choice(self.names.DISTRICTS)
        street = self.rng.choice(self.names.STREETS)
        return district, f"{province}{city}{district}{street}{self.rng.randint(1, 999)}号"

    def tax_number(self) -> str:
        alphabet = "0123456789ABCDEFGHJKLMNPQRTUWXY"
        return (
            "91"
            + f"{self.rng.randint(0, 999999):06d}"
            + "".join(self.rng.choice(alphabet) for _ in range(10))
        )


# --- the organisation ------------------------------------------------------------------------
def build_organisation(ctx: GenContext) -> None:
    """Departments (a root, regions with sales departments, functional departments) and users
    in the default roles, with one shared password hash (hashing 500 passwords with argon2
    would dominate the run)."""
    from django.contrib.auth.hashers import make_password
    from django.db import transaction

    from bench import names
    from guanxi.core.models import Department, Role, User
    from guanxi.core.services.records import snapshot

    rng = ctx.rng("organisation")
    faker = Faker(rng)
    n_depts, n_users = ctx.size.departments, ctx.size.users
    regions = max(1, n_depts // 12)
    functional = min(len(names.FUNCTIONAL_DEPARTMENTS), max(0, n_depts - 2 - regions))
    sales = max(1, n_depts - 1 - regions - functional)
    created = ctx.start - datetime.timedelta(days=30)
    roles = {role.code: role for role in Role.objects.all()}
    password = make_password(BENCH_PASSWORD)

    with transaction.atomic(), explicit_timestamps(Department, User):

        def departments(specs: list[tuple[str, Department | None]]) -> list[Department]:
            rows = [
                Department(
                    name=name, parent=parent, sort_order=i, created_at=created, updated_at=created
                )
                for i, (name, parent) in enumerate(specs)
            ]
            Department.objects.bulk_create(rows)
            for row in rows:
                parent_path = row.parent.path if row.parent else "/"
                row.path = f"{parent_path}{row.pk}/"
                row.depth = row.path.count("/") - 2
            Department.objects.bulk_update(rows, ["path", "depth"])
            return rows

        (root,) = departments([("总公司", None)])
        region_names = [
            names.REGION_NAMES[i % len(names.REGION_NAMES)]
            + ("" if i < len(names.REGION_NAMES) else str(i))
            for i in range(regions)
        ]
        region_rows = departments([(name, root) for name in region_names])
        sales_specs = []
        for i in range(sales):
            city = names.SALES_CITIES[i % len(names.SALES_CITIES)]
            number = "一二三四五六七八九十"[(i // len(names.SALES_CITIES)) % 10]
            sales_specs.append((f"{city}销售{number}部", region_rows[i % regions]))
        sales_rows = departments(sales_specs)
        functional_rows = departments(
            [(name, root) for name in names.FUNCTIONAL_DEPARTMENTS[:functional]]
        )
        all_departments = [root, *region_rows, *sales_rows, *functional_rows]
        by_name = {row.name: row for row in functional_rows}

        # Who is who: (username prefix, role code, department) in order of precedence, so a toy
        # organisation still has an administrator, a regional manager and reps.
        plan: list[tuple[str, str, Department | None, str]] = []
        admins = max(1, n_users // 150)
        plan += [("admin", "admin", by_name.get("信息技术部"), "admin")] * admins
        plan += [("regional", "sales_manager", region, "region_manager") for region in region_rows]
        if n_users >= admins + regions + sales + 1:
            plan += [("manager", "sales_manager", dept, "manager") for dept in sales_rows]
        if n_users >= 100:
            extras = [
                ("客服部", "service_manager", 1, "service"),
                ("客服部", "service_agent", max(1, n_users // 25), "agent"),
                ("市场部", "marketing", max(1, n_users // 50), "marketing"),
                ("财务部", "finance", max(1, n_users // 100), "finance"),
                ("人力资源部", "read_only", max(1, n_users // 200), "readonly"),
            ]
            for dept_name, role_code, count, prefix in extras:
                if dept_name in by_name:
                    plan += [(prefix, role_code, by_name[dept_name], "other")] * count
        reps = max(1, n_users - len(plan))
        plan = plan[: n_users - reps] if len(plan) > n_users - reps else plan
        plan += [("rep", "sales_rep", sales_rows[i % len(sales_rows)], "rep") for i in range(reps)]

        users, user_roles, kinds, counters = [], [], [], {}
        for prefix, role_code, department, kind in plan:
            counters[prefix] = counters.get(prefix, 0) + 1
            username = f"{prefix}{counters[prefix]:03d}"
            person = faker.person_name()
            surname = next(
                (s for s in sorted(faker.surnames, key=len, reverse=True) if person.startswith(s)),
                person[:1],
            )
            phone = faker.phone()
            users.append(
                User(
                    username=username,
                    password=password,
                    display_name=person,
                    last_name=surname,
                    first_name=person[len(surname) :],
                    email=f"{username}@bench.example.com",
                    phone=phone.display,
                    department=department,
                    is_superuser=role_code == "admin",
                    is_staff=role_code == "admin",
                    date_joined=created,
                )
            )
            user_roles.append(roles[role_code])
            kinds.append(kind)
        User.objects.bulk_create(users)
        User.roles.through.objects.bulk_create(
            [
                User.roles.through(user_id=u.pk, role_id=r.pk)
                for u, r in zip(users, user_roles, strict=True)
            ]
        )
        ctx.count("core_user", len(users))
        ctx.count("core_department", len(all_departments))

        # Department managers: the regional and departmental managers run their department.
        managers = {}
        for user, kind in zip(users, kinds, strict=True):
            if kind in ("region_manager", "manager") and user.department_id not in managers:
                managers[user.department_id] = user
        for department in all_departments:
            if department.pk in managers:
                department.manager = managers[department.pk]
        Department.objects.bulk_update(all_departments, ["manager"])

        from guanxi.core.models import SearchEntry

        entries = search_entries(Department, all_departments) + search_entries(User, users)
        SearchEntry.objects.bulk_create(entries)
        ctx.count("core_searchentry", len(entries))
        if ctx.history:
            from guanxi.core.models import ChangeRecord

            role_of = {u.pk: r.code for u, r in zip(users, user_roles, strict=True)}

            def user_after(user):
                after = snapshot(user)
                after.pop("password", None)
                after["roles"] = [role_of[user.pk]]
                return after

            for department in all_departments:
                department.created_at = created
            for user in users:
                user.created_at = created
            records = change_records(all_departments, actor_of=lambda _d: None) + change_records(
                users, actor_of=lambda _u: None, snapshot_of=user_after
            )
            ChangeRecord.objects.bulk_create(records)
            ctx.count("core_changerecord", len(records))

    org = ctx.org
    org.department_ids = [d.pk for d in all_departments]
    org.user_ids = [u.pk for u in users]
    org.user_department = {u.pk: u.department_id for u in users}
    org.admin_ids = [u.pk for u, k in zip(users, kinds, strict=True) if k == "admin"]
    org.region_manager_ids = [
        u.pk for u, k in zip(users, kinds, strict=True) if k == "region_manager"
    ]
    org.rep_ids = [u.pk for u, k in zip(users, kinds, strict=True) if k == "rep"]
    # Account owners: reps (Zipf-skewed, in shuffled order so rank is not department order)
    # and, far less often, the departmental managers.
    owners = list(org.rep_ids)
    rng.shuffle(owners)
    owners += [u.pk for u, k in zip(users, kinds, strict=True) if k == "manager"]
    org.owner_ids = owners
    org.owner_cum_weights = zipf_cum_weights(len(owners))


# --- accounts, contacts, links ---------------------------------------------------------------
def _options(code: str) -> list[int]:
    from guanxi.core.models import PicklistOption

    return list(
        PicklistOption.objects.filter(picklist__code=code, is_active=True)
        .order_by("sort_order", "id")
        .values_list("pk", flat=True)
    )


def search_registration(model):
    """The model's search registration, reading what the generator holds in memory instead
    of the database: a contact's phones and e-mails (guanxi.customers.search_contacts reads
    them with two queries per contact) come from its rows, in the order and number that
    registration reads them (primary first, then by id; at most one per source)."""
    import dataclasses

    from guanxi.core.search.registry import registration_for
    from guanxi.customers.models import Contact

    registration = registration_for(model)
    if registration is None or model is not Contact:
        return registration

    def nth(relation: str, attribute: str, position: int):
        def source(row) -> str:
            items = sorted(row[relation], key=lambda item: (not item["is_primary"], item["id"]))
            return items[position][attribute] if position < len(items) else ""

        return source

    return dataclasses.replace(
        registration,
        phone_fields=tuple(
            nth("phones", "number", i) for i in range(len(registration.phone_fields))
        ),
        email_fields=tuple(
            nth("emails", "address", i) for i in range(len(registration.email_fields))
        ),
    )


def duplicate_key_rows(model, rows: Iterable[Any], table, names=None) -> list[Any]:
    """core DuplicateKey rows as duplicate_keys_refresh writes them (the project's
    record_keys, reading the Row as it reads an instance). The prepared names it keeps
    beside them are added to `names` ({(name, kind): PreparedName})."""
    from django.contrib.contenttypes.models import ContentType

    from guanxi.customers.duplicates import record_keys_and_name

    content_type_id = ContentType.objects.get_for_model(model).pk
    found = []
    for row in rows:
        keys, prepared, kind = record_keys_and_name(row)
        found.extend(
            table.row(content_type_id=content_type_id, object_id=row["id"], key=key[:80])
            for key in sorted(keys)
        )
        if names is not None and prepared is not None and prepared.name:
            names.setdefault((prepared.name, kind), prepared)
    return found


class NameStore:
    """Writes the prepared names duplicate_keys_refresh keeps, each (name, kind) once per
    process (names repeat across batches; the database ignores the ones another job wrote)."""

    def __init__(self) -> None:
        self.written: set[tuple[str, str]] = set()

    def write(self, names: dict) -> int:
        from guanxi.customers.match_names import store_prepared_names_of_kinds

        fresh = [(prepared, kind) for (_name, kind), prepared in names.items()]
        fresh = [item for item in fresh if (item[0].name, item[1]) not in self.written]
        self.written.update((prepared.name, kind) for prepared, kind in fresh)
        return store_prepared_names_of_kinds(fresh)


def history_rows(model, rows: Iterable[Any], table, source, *, after_of=None) -> list[Any]:
    """The CREATE history entries record_create writes (after = the service's snapshot,
    `source.snapshot`), actor the owner, for Rows of `source` (a gen_activities.Table)."""
    from django.contrib.contenttypes.models import ContentType

    from guanxi.core.models import ChangeAction

    content_type_id = ContentType.objects.get_for_model(model, for_concrete_model=False).pk
    create = ChangeAction.CREATE.value
    found = []
    for row in rows:
        after = source.snapshot(row)
        if after_of is not None:
            after = after_of(after)
        found.append(
            table.row(
                content_type_id=content_type_id,
                object_id=row["id"],
                object_repr=str(row)[:200],
                action=create,
                actor_id=row["owner_id"],
                request_id="",
                created_at=row["created_at"],
                after=after,
            )
        )
    return found


def build_customers(ctx: GenContext) -> None:
    """Accounts with two contacts each (an individual's first contact is the person), their
    phones and e-mails, the account-contact links, and everything the services write with
    them, in transactions of `batch_size` accounts. Rows are built as gen_activities Rows
    and written with gen_activities.Table (explicit ids, executemany / COPY)."""
    from django.contrib.contenttypes.models import ContentType
    from django.db import transaction
    from django.utils import timezone, translation
    from django.utils.translation import gettext

    from bench.gen_activities import Related, Table, search_rows
    from guanxi.core.models import ChangeRecord, PicklistOption, SearchEntry, TimelineEntry
    from guanxi.customers.models import (
        Account,
        AccountContact,
        Contact,
        ContactEmail,
        ContactPhone,
        DuplicateKey,
        LifecycleStage,
    )

    rng = ctx.rng("customers")
    faker = Faker(rng)
    org = ctx.org
    if not org.owner_ids:
        raise RuntimeError("generate the organisation first")
    industries, sources = _options("industry"), _options("source")
    statuses, ratings, levels = (
        _options("account_status"),
        _options("credit_rating"),
        _options("customer_level"),
    )
    contact_roles = dict(
        PicklistOption.objects.filter(picklist__code="contact_role").values_list("pk", "label_zh")
    )
    role_ids = list(contact_roles)
    stages = list(LifecycleStage.values)
    stage_weights = [25, 15, 30, 10, 12, 8][: len(stages)]
    account_type = ContentType.objects.get_for_model(Account).pk
    tables = {
        "contact": Table(Contact, ids=True),
        "account": Table(Account, ids=True),
        "phone": Table(ContactPhone, ids=True),
        "email": Table(ContactEmail, ids=True),
        "link": Table(AccountContact, ids=True),
        "key": Table(DuplicateKey),
        "search": Table(SearchEntry),
        "timeline": Table(TimelineEntry),
        "history": Table(ChangeRecord),
    }
    contact_search = search_registration(Contact)
    name_store = NameStore()
    new_contact, new_account = tables["contact"].row, tables["account"].row
    total = ctx.size.accounts
    start = ctx.start
    step = datetime.timedelta(days=SPAN_DAYS) / max(total, 1)
    recent: list[tuple[str, str, str, str]] = []  # (core, province, city, phone digits)
    link_text = "%(contact)s linked as %(role)s."
    individual, company_kind = Account.Kind.INDIVIDUAL.value, Account.Kind.COMPANY.value

    def owner_and_department() -> tuple[int, int | None]:
        owner = rng.choices(org.owner_ids, cum_weights=org.owner_cum_weights)[0]
        return owner, org.user_department[owner]

    def make_contact(*, name, owner, department, created, title="", english=False):
        gender = rng.choice(("", "female", "male")) if not english else ""
        return new_contact(
            name=name,
            gender=gender,
            title=title,
            wechat=(faker.ascii_handle(name) + str(rng.randint(10, 9999)))
            if rng.random() < 0.3
            else "",
            owner_id=owner,
            department_id=department,
            created_by_id=owner,
            created_at=created,
            updated_at=created,
        )

    def created_snapshot(after: dict) -> dict:
        if "person" in after:
            after["person"] = None  # the person is attached after the create
        return after

    done = 0
    with translation.override("zh-hans"):
        linked_as = gettext(link_text)
        no_role = gettext("contact")
        while done < total:
            batch_started = time.perf_counter()
            n = min(ctx.batch_size, total - done)
            accounts: list[Any] = []
            contacts: list[Any] = []
            phones: dict[int, list] = {}  # contact index -> [(NormalisedPhone, kind)]
            emails: dict[int, list] = {}
            links: list[
                tuple[int, int, int | None, str, bool]
            ] = []  # (acc idx, contact idx, role, title, primary)
            persons: dict[int, int] = {}  # account index -> contact index of the person
            for i in range(n):
                index = done + i
                created = start + step * (index + rng.random() * 0.9)
                owner, department = owner_and_department()
                province, city = faker.place()
                roll = rng.random()
                kind = company_kind
                english = False
                remember = False
                duplicate_of = (
                    recent[rng.randrange(len(recent))] if recent and rng.random() < 0.02 else None
                )
                if roll < 0.10:
                    kind = individual
                    name = faker.person_name()
                elif roll < 0.50:
                    core = duplicate_of[0] if duplicate_of else faker.company_core()
                    name = faker.chinese_company(province, city, core)
                    remember = duplicate_of is None and rng.random() < 0.1
                else:
                    english = True
                    name = faker.english_company()
                phone = None
                if duplicate_of is not None and duplicate_of[3] and rng.random() < 0.5:
                    from guanxi.core.phones import phone_normalise

                    phone = phone_normalise(duplicate_of[3])
                elif rng.random() < 0.85:
                    phone = faker.phone(landline_share=0.0 if kind == individual else 0.3)
                if english or kind == individual:
                    remember = False
                if remember:
                    # Later accounts may turn out to be this company again (another branch,
                    # a typo, the same phone): the duplicate scan has something to find.
                    entry = (core, province, city, phone.digits if phone else "")
                    if len(recent) < 5000:
                        recent.append(entry)
                    else:
                        recent[rng.randrange(len(recent))] = entry
                if english:
                    handle = name.split()[0].lower()
                elif kind == individual:
                    handle = faker.ascii_handle(name)
                else:
                    handle = faker.ascii_handle(core)
                email = ""
                if rng.random() < 0.6:
                    if kind == individual:
                        email = (
                            f"{handle}{rng.randint(1, 999)}@{rng.choice(faker.names.EMAIL_DOMAINS)}"
                        )
                    else:
                        email = f"info@{handle[:20]}{rng.randint(1, 99)}.com"
                district, address = faker.address(province, city)
                company = kind == company_kind
                accounts.append(
                    new_account(
                        name=name,
                        kind=kind,
                        industry_id=rng.choice(industries)
                        if industries and rng.random() < 0.9
                        else None,
                        source_id=rng.choice(sources) if sources and rng.random() < 0.7 else None,
                        status_id=rng.choice(statuses) if statuses and rng.random() < 0.8 else None,
                        lifecycle_stage=rng.choices(stages, weights=stage_weights)[0],
                        credit_rating_id=rng.choice(ratings)
                        if ratings and company and rng.random() < 0.4
                        else None,
                        level_id=rng.choice(levels) if levels and rng.random() < 0.6 else None,
                        phone=phone.display if phone else "",
                        phone_digits=phone.digits if phone else "",
                        email=email,
                        website=f"https://www.{handle[:20]}.com"
                        if company and rng.random() < 0.4
                        else "",
                        province=province,
                        city=city,
                        district=district,
                        address=address,
                        postcode=f"{rng.randint(100000, 859999)}",
                        tax_number=faker.tax_number()
                        if company and not english and rng.random() < 0.7
                        else "",
                        invoice_title=name
                        if company and not english and rng.random() < 0.5
                        else "",
                        annual_revenue=(rng.randint(10, 500_000) * 10_000)
                        if company and rng.random() < 0.5
                        else None,
                        employees=rng.choice((5, 12, 30, 80, 150, 400, 1200, 5000))
                        if company
                        else None,
                        owner_id=owner,
                        department_id=department,
                        created_by_id=owner,
                        created_at=created,
                        updated_at=created,
                    )
                )
                account_index = len(accounts) - 1
                # Contacts: an individual's own person first, then colleagues/other people.
                for slot in range(CONTACTS_PER_ACCOUNT):
                    contact_created = created + datetime.timedelta(seconds=1 + slot)
                    if slot == 0 and kind == individual:
                        contact = make_contact(
                            name=name, owner=owner, department=department, created=contact_created
                        )
                        contacts.append(contact)
                        c = len(contacts) - 1
                        persons[account_index] = c
                        if phone:
                            phones[c] = [(phone, "mobile")]
                        if email:
                            emails[c] = [(email, "home")]
                        links.append((account_index, c, None, "", True))
                        continue
                    person = faker.english_person() if english else faker.person_name()
                    title = rng.choice(
                        faker.names.ENGLISH_TITLES if english else faker.names.JOB_TITLES
                    )
                    contact = make_contact(
                        name=person,
                        owner=owner,
                        department=department,
                        created=contact_created,
                        title=title,
                        english=english,
                    )
                    contacts.append(contact)
                    c = len(contacts) - 1
                    phones[c] = [(faker.phone(), "mobile")]
                    if rng.random() < 0.2:
                        phones[c].append((faker.phone(landline_share=1.0), "work"))
                    if rng.random() < 0.5:
                        local = (
                            faker.ascii_handle(person)
                            if not english
                            else person.replace(" ", ".").lower()
                        )
                        domain = (
                            email.split("@", 1)[1]
                            if "@" in email and company
                            else rng.choice(faker.names.EMAIL_DOMAINS)
                        )
                        emails[c] = [(f"{local}@{domain}", "work")]
                    role = rng.choice(role_ids) if role_ids and rng.random() < 0.7 else None
                    links.append((account_index, c, role, title, slot == 0))

            for account_index, c in persons.items():
                accounts[account_index]["person_id"] = contacts[c]["id"]
            for contact in contacts:
                contact["phones"], contact["emails"] = Related(), Related()
            phone_rows, email_rows = [], []
            for c, items in phones.items():
                contact = contacts[c]
                contact["phones"].extend(
                    tables["phone"].row(
                        contact_id=contact["id"],
                        kind=kind,
                        number=p.display,
                        e164=p.e164,
                        digits=p.digits,
                        is_primary=position == 0,
                    )
                    for position, (p, kind) in enumerate(items)
                )
                phone_rows += contact["phones"]
            for c, items in emails.items():
                contact = contacts[c]
                contact["emails"].extend(
                    tables["email"].row(
                        contact_id=contact["id"],
                        kind=kind,
                        address=address,
                        is_primary=position == 0,
                    )
                    for position, (address, kind) in enumerate(items)
                )
                email_rows += contact["emails"]
            link_rows = []
            for account_index, c, role, title, primary in links:
                account, contact = accounts[account_index], contacts[c]
                link_rows.append(
                    tables["link"].row(
                        account_id=account["id"],
                        contact_id=contact["id"],
                        role_id=role,
                        job_title=title,
                        is_primary=primary,
                        owner_id=account["owner_id"],
                        department_id=account["department_id"],
                        created_by_id=account["owner_id"],
                        created_at=contact["created_at"],
                        updated_at=contact["created_at"],
                        # For str(link) (history's object_repr), not columns.
                        account=account,
                        contact=contact,
                    )
                )
            names: dict = {}
            keys = duplicate_key_rows(Account, accounts, tables["key"], names) + duplicate_key_rows(
                Contact, contacts, tables["key"], names
            )
            wall_clock = timezone.now()  # SearchEntry.updated_at is auto_now
            entries = (
                search_rows(Account, accounts, tables["search"], None, wall_clock)
                + search_rows(
                    Contact,
                    contacts,
                    tables["search"],
                    None,
                    wall_clock,
                    registration=contact_search,
                )
                + search_rows(AccountContact, link_rows, tables["search"], None, wall_clock)
            )
            timeline = [
                tables["timeline"].row(
                    content_type_id=account_type,
                    object_id=link["account_id"],
                    kind="contact_linked",
                    text=linked_as
                    % {
                        "contact": link["contact"],
                        "role": contact_roles[link["role_id"]] if link["role_id"] else no_role,
                    },
                    actor_id=link["owner_id"],
                    account_id=link["account_id"],
                    created_at=link["created_at"],
                    data={},
                )
                for link in link_rows
            ]
            records = []
            if ctx.history:
                history = tables["history"]
                records = (
                    history_rows(
                        Account, accounts, history, tables["account"], after_of=created_snapshot
                    )
                    + history_rows(Contact, contacts, history, tables["contact"])
                    + history_rows(AccountContact, link_rows, history, tables["link"])
                )
            write_started = time.perf_counter()
            with transaction.atomic():
                counts = {
                    "customers_contact": tables["contact"].insert(contacts),
                    "customers_account": tables["account"].insert(accounts),
                    "customers_contactphone": tables["phone"].insert(phone_rows),
                    "customers_contactemail": tables["email"].insert(email_rows),
                    "customers_accountcontact": tables["link"].insert(link_rows),
                    "customers_duplicatekey": tables["key"].insert(keys),
                    "core_searchentry": tables["search"].insert(entries),
                    "core_timelineentry": tables["timeline"].insert(timeline),
                    "core_changerecord": tables["history"].insert(records),
                    "customers_matchname": name_store.write(names),
                }
            writing = time.perf_counter() - write_started
            for account in accounts:
                ctx.account_ids.append(account["id"])
                ctx.account_owner_ids.append(account["owner_id"])
            ctx.contact_ids.extend(contact["id"] for contact in contacts)
            if ctx.on_customers_batch is not None:
                ctx.on_customers_batch(done, n)
            for table, count in counts.items():
                ctx.count(table, count)
            done += n
            seconds = time.perf_counter() - batch_started
            batch_rows = sum(counts.values())
            ctx.log(
                f"  accounts {done:>9,}/{total:,}  batch {batch_rows:,} rows in {seconds:.1f}s"
                f" ({batch_rows / seconds:,.0f} rows/s; writing {writing:.1f}s)"
            )
    for name in ("contact", "account", "phone", "email", "link"):
        tables[name].reset_sequence()


def build_activities(ctx: GenContext, batches: Iterable[tuple[int, int]] | None = None) -> None:
    """Activities and follow-up records: bench/gen_activities.py."""
    from bench.gen_activities import build_activities as build

    build(ctx, batches)


def build_leads(ctx: GenContext) -> None:
    """Leads and a public lead pool: bench/gen_leads.py."""
    from bench.gen_leads import build_leads as build

    build(ctx)


ENTITIES: list[Entity] = [
    Entity("organisation", build_organisation),
    Entity("customers", build_customers),
    Entity("activities", build_activities),
    Entity("leads", build_leads),
]


def register_entity(entity: Entity, *, after: str | None = None) -> None:
    """Add a generator step (activities, leads, opportunities ...), by default at the end."""
    if after is None:
        ENTITIES.append(entity)
        return
    position = next(i for i, e in enumerate(ENTITIES) if e.name == after)
    ENTITIES.insert(position + 1, entity)


# --- bulk loading ----------------------------------------------------------------------------
SQLITE_CACHE_KIB = 1_048_576  # page cache while loading: the indexes of L stay in memory


def _fulltext_statements() -> tuple[list[str], list[str]]:
    """The SQL of migration core.0003 that keeps the full-text side in step with
    core_searchentry row by row: SQLite's insert trigger, PostgreSQL's GIN index."""
    import importlib

    migration = importlib.import_module("guanxi.core.migrations.0003_search_backend")
    sqlite = [s for s in migration.SQLITE_CREATE if "core_search_fts_ai" in s]
    return sqlite, list(migration.POSTGRESQL_CREATE)


def tune_connection() -> list[str]:
    """The connection's settings for a bulk load; answers the statements restoring them.
    SQLite: a large page cache (the indexes of L stay in memory), no syncing (outside a
    transaction only: SQLite refuses it inside one) and a long busy timeout (with --jobs 2
    two processes take turns writing); the journal mode stays, so a batch still rolls back.
    PostgreSQL: asynchronous commits."""
    from django.db import connection

    restore: list[str] = []
    with connection.cursor() as cursor:
        if connection.vendor == "sqlite":
            for pragma, value in (("cache_size", -SQLITE_CACHE_KIB), ("busy_timeout", 600_000)):
                cursor.execute(f"PRAGMA {pragma}")
                restore.append(f"PRAGMA {pragma}={int(cursor.fetchone()[0])}")
                cursor.execute(f"PRAGMA {pragma}={value}")
            if not connection.in_atomic_block:
                cursor.execute("PRAGMA synchronous")
                restore.append(f"PRAGMA synchronous={int(cursor.fetchone()[0])}")
                cursor.execute("PRAGMA synchronous=OFF")
        elif connection.vendor == "postgresql":
            cursor.execute("SET synchronous_commit TO off")
            restore.append("SET synchronous_commit TO DEFAULT")
    return restore


def _drop_foreign_keys(cursor) -> list[str]:
    """Drop the foreign keys of the public schema; answers the statements adding them back."""
    cursor.execute(
        "SELECT conrelid::regclass::text, conname, pg_get_constraintdef(oid) "
        "FROM pg_constraint WHERE contype = 'f' "
        "AND connamespace = 'public'::regnamespace ORDER BY 1, 2"
    )
    restore = []
    for table, name, definition in cursor.fetchall():
        cursor.execute(f'ALTER TABLE {table} DROP CONSTRAINT "{name}"')
        restore.append(f'ALTER TABLE {table} ADD CONSTRAINT "{name}" {definition}')
    return restore


# The large tables the generator only writes to while loading (it reads them by primary key
# or in one scan at most): their plain indexes are built once at the end instead of being
# kept row by row. Follow-ups and account-contact links stay indexed: the generator looks
# them up by account while loading.
WRITE_ONLY_TABLES = (
    "activities_activity",
    "activities_activityassignee",
    "core_changerecord",
    "core_searchentry",
    "core_timelineentry",
    "customers_account",
    "customers_contact",
    "customers_duplicatekey",
    "leads_lead",
    "sales_opportunity",
    "sales_opportunitycompetitor",
    "sales_opportunitycontact",
    "sales_opportunityline",
    "sales_opportunitysplit",
    "sales_stagehistory",
)


def _drop_plain_indexes(cursor, tables: tuple[str, ...] = WRITE_ONLY_TABLES) -> list[str]:
    """Drop the indexes of `tables` that are neither the primary key nor unique nor behind
    a constraint; answers the statements creating them again."""
    cursor.execute(
        "SELECT i.indexrelid::regclass::text, pg_get_indexdef(i.indexrelid) "
        "FROM pg_index i JOIN pg_class t ON t.oid = i.indrelid "
        "WHERE t.relnamespace = 'public'::regnamespace AND t.relname = ANY(%s) "
        "AND NOT i.indisprimary AND NOT i.indisunique "
        "AND NOT EXISTS (SELECT 1 FROM pg_constraint c WHERE c.conindid = i.indexrelid) "
        "ORDER BY 1",
        [list(tables)],
    )
    restore = []
    for name, definition in cursor.fetchall():
        cursor.execute(f"DROP INDEX {name}")
        restore.append(definition)
    return restore


@contextlib.contextmanager
def bulk_load(log: Callable[[str], None] = _log):
    """Settings for writing millions of rows into a new database, restored afterwards
    (`tune_connection`).

    The full-text side is not kept row by row: SQLite's FTS5 insert trigger and
    PostgreSQL's GIN index on the search documents are dropped while loading and put back
    at the end, after which the caller rebuilds the index from core_searchentry (what
    `generate` does anyway); on an error the index is rebuilt here, so a stopped run leaves
    a consistent database.

    PostgreSQL's foreign keys are dropped too and added back at the end, as pg_restore
    does: checked row by row at each commit they cost more than writing the rows, while
    adding one back validates the whole table in a single join, so every row is still
    checked. So are the plain indexes of the tables only written to (WRITE_ONLY_TABLES),
    built once at the end (as pg_restore does too).
    """
    from django.db import connection

    from guanxi.core.search.backends import PG_INDEX, backend_for

    sqlite_trigger, pg_index = _fulltext_statements()
    vendor = connection.vendor
    restore = tune_connection()
    with connection.cursor() as cursor:
        if vendor == "sqlite":
            cursor.execute("DROP TRIGGER IF EXISTS core_search_fts_ai")
            restore = [*sqlite_trigger, *restore]
        elif vendor == "postgresql" and not connection.in_atomic_block:
            # (Inside a transaction the index stays: PostgreSQL will not build it again
            # while the deferred foreign-key checks of the new rows are pending.)
            cursor.execute(f"DROP INDEX IF EXISTS {PG_INDEX}")
            indexes = _drop_plain_indexes(cursor)
            restore = [*pg_index, *indexes, *_drop_foreign_keys(cursor), *restore]
    failed = False
    try:
        yield
    except BaseException:
        failed = True
        raise
    finally:
        started = time.perf_counter()
        with connection.cursor() as cursor:
            for statement in restore:
                cursor.execute(statement)
        if failed and vendor == "sqlite":
            backend_for(connection.alias).rebuild(connection)
        log(f"full-text index and settings restored in {time.perf_counter() - started:.1f}s")


class ActivitiesWorker:
    """`--jobs 2`: the activities step in a second process while this one writes the
    customers (most of the time goes to building rows in Python, so two cores build
    twice as many). The worker is fed each customers batch once it is committed (ids,
    owners, contacts; it reads the persons back) and draws from the activities' own random
    generator in the same order, so the activities, follow-ups and everything written with
    them are the rows one process writes; only the ids of rows in tables both steps write
    to (search entries, timeline, history) interleave."""

    def __init__(self, ctx: GenContext):
        import multiprocessing

        from django.db import connections

        self.ctx = ctx
        connections.close_all()  # the child opens its own
        context = multiprocessing.get_context("fork")
        self.inbox, child_inbox = context.Pipe(duplex=False)
        child_outbox, self.outbox = context.Pipe(duplex=False)
        self.process = context.Process(
            target=_activities_worker, args=(ctx, child_outbox, child_inbox), daemon=True
        )
        self.process.start()
        child_outbox.close()
        child_inbox.close()
        tune_connection()  # this process's new connection

    def send(self, first: int, count: int) -> None:
        ctx = self.ctx
        end = first + count
        per_account = CONTACTS_PER_ACCOUNT
        self.outbox.send(
            (
                first,
                ctx.account_ids[first:end].tolist(),
                ctx.account_owner_ids[first:end].tolist(),
                ctx.contact_ids[first * per_account : end * per_account].tolist(),
            )
        )

    def finish(self) -> None:
        """Wait for the worker; take over its row counts and time."""
        self.outbox.send(None)
        while not self.inbox.poll(1.0):
            if not self.process.is_alive():
                raise RuntimeError("the activities process stopped without an answer")
        status, payload = self.inbox.recv()
        self.process.join()
        if status != "ok":
            raise RuntimeError(f"the activities process failed:\n{payload}")
        rows, seconds = payload
        for table, count in rows.items():
            self.ctx.count(table, count)
        self.ctx.seconds["activities"] = seconds

    def stop(self) -> None:
        if self.process.is_alive():
            self.process.terminate()
            self.process.join()


def _activities_worker(ctx: GenContext, inbox, outbox) -> None:
    import traceback

    try:
        tune_connection()
        ctx.rows = {}

        def batches():
            while (message := inbox.recv()) is not None:
                first, account_ids, owner_ids, contact_ids = message
                ctx.account_ids.extend(account_ids)
                ctx.account_owner_ids.extend(owner_ids)
                ctx.contact_ids.extend(contact_ids)
                yield first, len(account_ids)

        started = time.perf_counter()
        build_activities(ctx, batches())
        outbox.send(("ok", (ctx.rows, time.perf_counter() - started)))
    except BaseException:  # noqa: BLE001 - reported to the parent, which raises
        outbox.send(("error", traceback.format_exc()))
    finally:
        from django.db import connections

        connections.close_all()


# --- running it ------------------------------------------------------------------------------
def dataset_marker_path() -> Path:
    """Where the generator notes what it generated (per database), for the runner's report."""
    import hashlib

    from django.conf import settings
    from django.db import connection

    database = connection.settings_dict
    key = f"{connection.vendor}:{database.get('HOST', '')}:{database['NAME']}"
    digest = hashlib.sha1(key.encode()).hexdigest()[:10]
    return Path(settings.DATA_DIR) / f"bench-dataset-{digest}.json"


def read_dataset_marker() -> dict[str, Any]:
    path = dataset_marker_path()
    try:
        return json.loads(path.read_text())
    except (OSError, ValueError):
        return {}


def analyze_database() -> None:
    """Give the query planner statistics, as a database in service would have them. On
    PostgreSQL also VACUUM: freshly loaded tables have no visibility map, so every
    index-only scan would visit the table for each row until autovacuum came by (in the
    middle of a benchmark run)."""
    from django.db import connection

    with connection.cursor() as cursor:
        cursor.execute("VACUUM (ANALYZE)" if connection.vendor == "postgresql" else "ANALYZE")


def generate(
    *,
    size: str = "S",
    seed: int = SEED_DEFAULT,
    accounts: int | None = None,
    users: int | None = None,
    departments: int | None = None,
    batch_size: int = BATCH_SIZE,
    history: bool = True,
    analyze: bool = True,
    until: datetime.date = UNTIL_DEFAULT,
    entities: Sequence[str] | None = None,
    write_marker: bool = True,
    log: Callable[[str], None] = _log,
    jobs: int = 1,
) -> dict[str, Any]:
    """Generate a dataset into the configured database; answer what was written and how fast.
    `jobs=2` builds the activities in a second process while the customers are written
    (ActivitiesWorker)."""
    from django.db import connection

    from guanxi.core.models import User
    from guanxi.core.search.backends import backend_for
    from guanxi.customers.models import Account

    base = SIZES[size]
    chosen = Size(
        accounts=base.accounts if accounts is None else accounts,
        users=base.users if users is None else users,
        departments=base.departments if departments is None else departments,
    )
    if Account.all_objects.exists() or User.objects.filter(username__startswith="rep0").exists():
        raise RuntimeError(
            "The database already holds accounts or benchmark users: generate into an empty "
            "database (a fresh GUANXI_DATA_DIR or DATABASE_URL)."
        )
    ctx = GenContext(
        size_name=size,
        size=chosen,
        seed=seed,
        until=until,
        batch_size=batch_size,
        history=history,
        log=log,
    )
    log(
        f"Generating dataset {size} (seed {seed}): {chosen.accounts:,} accounts, "
        f"{chosen.users} users, {chosen.departments} departments on {connection.vendor}"
    )
    started = time.perf_counter()
    chosen_names = [e.name for e in ENTITIES if not entities or e.name in entities]
    parallel = jobs > 1 and {"customers", "activities"} <= set(chosen_names)
    if parallel and connection.in_atomic_block:
        log("--jobs 2 needs its own transactions: generating in one process")
        parallel = False
    worker: ActivitiesWorker | None = None
    with bulk_load(log):
        try:
            for entity in ENTITIES:
                if entity.name not in chosen_names or (parallel and entity.name == "activities"):
                    continue
                if parallel and entity.name == "customers":
                    worker = ActivitiesWorker(ctx)
                    ctx.on_customers_batch = worker.send
                before = sum(ctx.rows.values())
                t0 = time.perf_counter()
                entity.build(ctx)
                ctx.seconds[entity.name] = time.perf_counter() - t0
                ctx.on_customers_batch = None
                rows = sum(ctx.rows.values()) - before
                log(
                    f"{entity.name}: {rows:,} rows in {ctx.seconds[entity.name]:.1f}s"
                    f" ({rows / max(ctx.seconds[entity.name], 1e-9):,.0f} rows/s)"
                )
            if worker is not None:
                t0 = time.perf_counter()
                before = sum(ctx.rows.values())
                worker.finish()
                rows = sum(ctx.rows.values()) - before
                log(
                    f"activities (second process): {rows:,} rows in "
                    f"{ctx.seconds['activities']:.1f}s, waited for it "
                    f"{time.perf_counter() - t0:.1f}s"
                )
        finally:
            if worker is not None:
                worker.stop()
        t0 = time.perf_counter()  # the finish includes putting the full-text side back
    backend_for(connection.alias).rebuild(connection)
    if analyze:
        analyze_database()
    ctx.seconds["finish (search rebuild, analyze)"] = time.perf_counter() - t0
    elapsed = time.perf_counter() - started
    total_rows = sum(ctx.rows.values())
    result = {
        "size": size,
        "seed": seed,
        "accounts": chosen.accounts,
        "users": chosen.users,
        "departments": chosen.departments,
        "database": connection.vendor,
        "rows": dict(sorted(ctx.rows.items())),
        "total_rows": total_rows,
        "seconds": round(elapsed, 2),
        "rows_per_second": round(total_rows / max(elapsed, 1e-9)),
        "accounts_per_second": round(chosen.accounts / max(elapsed, 1e-9)),
        "step_seconds": {name: round(value, 2) for name, value in ctx.seconds.items()},
        "history": history,
        "until": until.isoformat(),
        "jobs": 2 if parallel else 1,
    }
    log(
        f"Done: {total_rows:,} rows in {elapsed:.1f}s ({result['rows_per_second']:,} rows/s, "
        f"{result['accounts_per_second']:,} accounts/s)"
    )
    if write_marker:
        with contextlib.suppress(OSError):
            dataset_marker_path().write_text(json.dumps(result, ensure_ascii=False, indent=2))
    return result


# Entities `add_entities` can add to an existing dataset (built on what the database holds).
ADDABLE = ("activities", "leads")
import bench.gen_sales  # noqa: E402, F401  (registers the "sales" step, addable with --add)


def add_entities(
    names: Sequence[str],
    *,
    seed: int = SEED_DEFAULT,
    batch_size: int = BATCH_SIZE,
    analyze: bool = True,
    log: Callable[[str], None] = _log,
) -> dict[str, Any]:
    """Add entities (leads) to a dataset generated before they existed: the organisation
    and the size are read back from the database and the dataset marker."""
    from bench.gen_leads import organisation_from_database
    from guanxi.customers.models import Account

    unknown = [name for name in names if name not in ADDABLE]
    if unknown:
        raise RuntimeError(f"cannot add {unknown}: only {', '.join(ADDABLE)}")
    marker = read_dataset_marker()
    until = datetime.date.fromisoformat(marker["until"]) if marker.get("until") else UNTIL_DEFAULT
    accounts = Account.all_objects.count()
    size_name = marker.get("size", "S")
    ctx = GenContext(
        size_name=size_name,
        size=Size(accounts=accounts, users=marker.get("users", 0), departments=0),
        seed=marker.get("seed", seed),
        until=until,
        batch_size=batch_size,
        log=log,
    )
    organisation_from_database(ctx)
    if "activities" in names:
        customers_from_database(ctx)
    started = time.perf_counter()
    with bulk_load(log):
        for entity in ENTITIES:
            if entity.name in names:
                t0 = time.perf_counter()
                entity.build(ctx)
                ctx.seconds[entity.name] = time.perf_counter() - t0
    from django.db import connection

    from guanxi.core.search.backends import backend_for

    backend_for(connection.alias).rebuild(connection)
    if analyze:
        analyze_database()
    elapsed = time.perf_counter() - started
    added = dict(sorted(ctx.rows.items()))
    marker.setdefault("rows", {}).update(added)
    marker["total_rows"] = sum(marker["rows"].values())
    marker.setdefault("added", {}).update(
        {name: round(ctx.seconds.get(name, 0.0), 2) for name in names}
    )
    with contextlib.suppress(OSError):
        dataset_marker_path().write_text(json.dumps(marker, ensure_ascii=False, indent=2))
    log(f"Added {sum(added.values()):,} rows in {elapsed:.1f}s")
    return {"added": added, "seconds": round(elapsed, 2)}


def customers_from_database(ctx: GenContext) -> None:
    """The per-account facts build_customers leaves in ctx, read back (accounts in id
    order, i.e. creation order; their contacts in id order, as they were inserted), for
    adding activities to a dataset whose generation stopped after the customers step."""
    from guanxi.core.models import User
    from guanxi.customers.models import Account, Contact

    for pk, owner_id in Account.all_objects.order_by("pk").values_list("pk", "owner_id"):
        ctx.account_ids.append(pk)
        ctx.account_owner_ids.append(owner_id or 0)
    ctx.contact_ids.extend(Contact.all_objects.order_by("pk").values_list("pk", flat=True))
    ctx.org.rep_ids = list(
        User.objects.filter(roles__code="sales_rep").order_by("pk").values_list("pk", flat=True)
    )
