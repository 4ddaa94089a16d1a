"""The activities of the benchmark dataset: 5 activities and 2 follow-up records per account
(DESIGN.md: 5,000,000 activities for L's 1,000,000 accounts), bulk inserted.

Per account, over its life from its creation to a month after the dataset's end (`until`,
the dataset's "now"):

- two follow-up records (跟进记录) on the account or one of its contacts, the second about
  when the first planned it, each mostly with a next follow-up date; a next date creates the
  follow-up task (one of the account's five activities, linked as `next_activity`) and the
  later follow-up does the earlier one's task, as `follow_up_create` does;
- the other activities: calls, tasks, e-mails, visits, meetings, SMS, notes, at working hours
  on working days, half of them soon after the account was created (so the last months are
  busier than the first, as in a growing business); past ones mostly done (completed at their
  due time), some cancelled, some still open (overdue, already notified and escalated); future
  ones open; a quarter of visits and meetings are appointments (past ones with their
  outcome); most done visits checked in; ~10% with one or two colleagues of the owner's
  department assigned; reminders 15 minutes before (sent for the past ones).

Owner and department are the account's (so owners are skewed like the accounts'), `account_id`
is set on every row and `contact_id` as the regarding registry answers (the contact, or an
individual account's person), `due_at` is the end or the start. Written with them: the CREATE
history entries (unless --no-history), the "activity planned" and "follow-up" timeline entries
on the regarding record, and the search entries (documents built once per distinct text).
At the end, the accounts' and contacts' last / next follow-up columns are set in bulk from
their newest follow-up. Left out: recurring series, and the timeline entries of later steps
(done, rescheduled, checked in).
"""

from __future__ import annotations

import datetime
import functools
import operator
import time
from collections.abc import Iterable
from dataclasses import dataclass
from typing import Any

ACTIVITIES_PER_ACCOUNT = 5
FOLLOW_UPS_PER_ACCOUNT = 2
FUTURE_DAYS = 31
AFTER_CREATION_DAYS = 90.0  # mean delay of the "soon after creation" half

KINDS = ["call", "task", "email", "visit", "meeting", "sms", "note"]
KIND_WEIGHTS = [34, 18, 14, 12, 10, 5, 7]
LENGTH_MINUTES = {"call": (5, 30), "visit": (60, 180), "meeting": (45, 120)}
PRIORITIES = ["normal", "high", "low", "urgent"]
PRIORITY_WEIGHTS = [62, 20, 12, 6]
SUBJECTS = {
    "call": ["电话回访", "确认采购需求", "跟进报价反馈", "催收回款", "预约拜访时间", "售后回访"],
    "task": ["准备报价单", "整理合同条款", "寄送样品", "更新客户资料", "提交方案", "申请特价"],
    "email": ["发送产品资料", "邮件确认会议纪要", "发送报价邮件", "发送合同草稿"],
    "visit": ["上门拜访", "现场演示", "现场调研", "陪同技术拜访", "节日拜访"],
    "meeting": ["方案交流会", "商务谈判", "项目启动会", "季度业务回顾", "技术交流"],
    "sms": ["短信提醒参会", "节日问候短信"],
    "note": ["决策链备注", "竞争对手情况", "客户预算情况"],
}
FOLLOW_UP_TASK_SUBJECTS = ["跟进客户", "再次跟进", "回访客户意向", "跟进试用情况"]
DESCRIPTIONS = ["", "", "", "", "带上最新的产品手册", "确认参会人员和议程", "客户关注交付周期"]
OUTCOMES = [
    "客户认可方案，等待内部审批",
    "已确认需求，下周发正式报价",
    "对价格有顾虑，需再沟通",
    "决策人出差，改期再谈",
    "已发送资料，客户会转给技术部",
    "达成初步合作意向",
]
LOCATIONS = {"visit": ["客户现场", "客户工厂", "客户办公室"], "meeting": ["公司会议室", "线上会议"]}
CHANNELS = ["phone", "wechat", "visit", "meeting", "email", "sms", "other"]
CHANNEL_WEIGHTS = [35, 30, 12, 6, 10, 3, 4]
REACTIONS = ["interested", "neutral", "hesitant", "not_interested", "complained", ""]
REACTION_WEIGHTS = [30, 30, 20, 10, 3, 7]
FOLLOW_UP_CONTENT = [
    "电话沟通了新版报价，客户表示需要内部讨论",
    "微信发送了产品手册，对方已读并询问交期",
    "上门拜访采购经理，了解了明年的采购计划",
    "客户反馈试用效果不错，希望增加账号数量",
    "约了技术负责人下周做演示",
    "客户对售后响应时间有疑问，已解释服务政策",
    "对比了竞品价格，客户倾向我们的方案",
    "财务确认预算已批，等待合同流程",
    "客户暂时没有需求，三个月后再联系",
]
APPOINTMENT_OUTCOMES = ["came", "no_show", "cancelled"]
APPOINTMENT_WEIGHTS = [70, 18, 12]


class Row(dict):
    """A row as a dict of column values (attnames) that reads like a model instance, so the
    search registrations' title / field sources work on it."""

    def __getattr__(self, name: str) -> Any:
        try:
            return self[name]
        except KeyError:
            raise AttributeError(name) from None

    @property
    def pk(self) -> Any:
        return self.get("id")


class Related(list):
    """A reverse relation already in memory (`contact.phones.all()` for the duplicate
    source's describe), without a query."""

    def all(self) -> Related:
        return self


_ROW_TYPES: dict[type, type] = {}


def row_type(model) -> type[Row]:
    """A Row class that reads like an instance of `model` to the project's own helpers:
    `_meta` (the duplicate check finds its source by it), `get_FOO_display()` of the
    fields with choices (search subtitles) and the model's `__str__` (history's
    object_repr, timeline texts)."""
    found = _ROW_TYPES.get(model)
    if found is not None:
        return found
    from django.utils.encoding import force_str
    from django.utils.hashable import make_hashable

    namespace: dict[str, Any] = {"_meta": model._meta, "__str__": model.__str__}
    for f in model._meta.concrete_fields:
        if f.choices:
            # Model._get_FIELD_display
            def display(self, f=f):
                value = self.get(f.attname)
                choices = dict(make_hashable(f.flatchoices))
                return force_str(choices.get(make_hashable(value), value), strings_only=True)

            namespace[f"get_{f.name}_display"] = display
    found = _ROW_TYPES[model] = type(f"{model.__name__}Row", (Row,), namespace)
    return found


_JSON_READY = frozenset({str, int, bool, float})  # what _json_value passes through as is


def _datetime_adapter(connection):
    """connection.ops.adapt_datetimefield_value without its per-value settings lookups: on
    SQLite the naive UTC text Django stores (remembered: a row's times recur in its
    history, timeline and search rows), elsewhere the aware datetime itself."""
    if connection.vendor != "sqlite":
        # PostgreSQL's adapt_datetimefield_value is the identity: COPY takes the datetime.
        return (
            None if connection.vendor == "postgresql" else connection.ops.adapt_datetimefield_value
        )

    def adapt(value):
        return None if value is None else _utc_text(value)

    return adapt


@functools.lru_cache(maxsize=65536)
def _utc_text(value: datetime.datetime) -> str:
    return str(value.astimezone(datetime.UTC).replace(tzinfo=None))


def _json_adapter(connection, encoder):
    """JSONField.get_db_prep_save: None is SQL NULL, anything else JSON: the text
    json.dumps(value, cls=encoder) gives (from one encoder instead of one per value), which
    is what SQLite stores and what PostgreSQL's COPY reads into jsonb (Django's Jsonb
    adapter dumps the same text)."""
    if connection.vendor not in ("sqlite", "postgresql"):
        adapt_json = connection.ops.adapt_json_value

        def adapt(value):
            return None if value is None else adapt_json(value, encoder)

        return adapt
    import json

    # json.dumps(value, cls=encoder) is encoder().encode(value) (json.JSONEncoder for None).
    encode = (encoder or json.JSONEncoder)().encode

    def adapt_text(value):
        return None if value is None else encode(value)

    return adapt_text


class Table:
    """Fast inserts of Row dicts into one model's table (Django's bulk_create compiles every
    value through the field API, most of the generator's time): values are read with one
    itemgetter per row and only the columns that need it are adapted (datetimes, JSON,
    decimals, dates); SQLite gets an `executemany` of a prepared INSERT, PostgreSQL a
    `COPY ... FROM STDIN`. Rows get their ids here when `ids` is set, from the table's
    current maximum (the generator fills a new database), so related rows can point at them
    before anything is written."""

    def __init__(self, model, *, ids: bool = False):
        from django.db import connection, models

        self.model = model
        self.ids = ids
        self.vendor = connection.vendor
        self.fields = [f for f in model._meta.concrete_fields if ids or not f.primary_key]
        self.defaults = {
            f.attname: f.get_default() for f in model._meta.concrete_fields if not f.primary_key
        }
        self.row_type = row_type(model)
        ops = connection.ops
        converters = []
        for f in self.fields:
            if isinstance(f, models.DateTimeField):
                converters.append(_datetime_adapter(connection))
            elif isinstance(f, models.JSONField):
                converters.append(_json_adapter(connection, f.encoder))
            elif isinstance(f, models.DecimalField | models.DateField | models.UUIDField):
                converters.append(
                    lambda value, f=f: (
                        None if value is None else f.get_db_prep_save(value, connection)
                    )
                )
            else:
                converters.append(None)
        self.converters = converters
        self._adapt = [(i, c) for i, c in enumerate(converters) if c is not None]
        attnames = [f.attname for f in self.fields]
        self._getter = (
            operator.itemgetter(*attnames)
            if len(attnames) > 1
            else lambda row, name=attnames[0]: (row[name],)
        )
        quote = ops.quote_name
        table = quote(model._meta.db_table)
        columns = ", ".join(quote(f.column) for f in self.fields)
        self.sql = (
            f"INSERT INTO {table} ({columns}) VALUES ({', '.join(['%s'] * len(self.fields))})"
        )
        self.copy_sql = f"COPY {table} ({columns}) FROM STDIN"
        self.next_id = 1
        if ids:
            from django.db.models import Max

            self.next_id = (model._base_manager.aggregate(top=Max("pk"))["top"] or 0) + 1
        # snapshot(): (field name, attname) of the audited fields.
        from guanxi.core.services.records import UNAUDITED_FIELDS

        self.audited = [
            (f.name, f.attname)
            for f in model._meta.concrete_fields
            if f.name not in UNAUDITED_FIELDS and not f.primary_key
        ]

    def row(self, **values: Any) -> Row:
        row = self.row_type(self.defaults)
        row.update(values)
        if self.ids:
            row["id"] = self.next_id
            self.next_id += 1
        return row

    def values(self, rows: list[dict]) -> list[tuple]:
        """The rows as tuples of database values, in the INSERT's column order."""
        getter, adapt = self._getter, self._adapt
        plain = [getter(row) for row in rows]
        if not adapt:
            return plain
        out = []
        for values in plain:
            values = list(values)
            for i, convert in adapt:
                values[i] = convert(values[i])
            out.append(values)
        return out

    def insert(self, rows: list[dict]) -> int:
        if not rows:
            return 0
        write_values(self, self.values(rows))
        return len(rows)

    def snapshot(self, row: dict) -> dict[str, Any]:
        """guanxi.core.services.records.snapshot of the row (its _json_value only for the
        values that are not JSON already)."""
        from guanxi.core.services.records import _json_value

        snapshot = {}
        for name, attname in self.audited:
            value = row.get(attname)
            if value is not None and type(value) not in _JSON_READY:
                value = _json_value(value)
            snapshot[name] = value
        return snapshot

    def reset_sequence(self) -> None:
        """After explicit ids, PostgreSQL's sequence must move past them."""
        from django.core.management.color import no_style
        from django.db import connection

        statements = connection.ops.sequence_reset_sql(no_style(), [self.model])
        if statements:
            with connection.cursor() as cursor:
                for statement in statements:
                    cursor.execute(statement)


def write_values(table: Table, values: list) -> None:
    """Write adapted rows: one executemany on SQLite, COPY on PostgreSQL."""
    from django.db import connection

    if not values:
        return
    with connection.cursor() as cursor:
        if table.vendor == "postgresql":
            with cursor.cursor.copy(table.copy_sql) as copy:
                write_row = copy.write_row
                for row in values:
                    write_row(row)
        else:
            cursor.executemany(table.sql, values)


def search_rows(
    model, rows: list[Row], table: Table, memo: dict | None, now, *, registration=None
) -> list[dict]:
    """core_searchentry rows like bench.generate.search_entries, building each distinct
    document once when `memo` is given (activity subjects and follow-up texts repeat: jieba
    and pypinyin are the expensive part). `registration` replaces the model's own (see
    bench.generate.search_registration)."""
    from django.contrib.contenttypes.models import ContentType

    from guanxi.core.search.registry import _value, registration_for

    registration = registration or registration_for(model)
    if registration is None:
        return []
    content_type_id = ContentType.objects.get_for_model(model, for_concrete_model=True).pk
    sources = [
        registration.title,
        *registration.fields,
        *registration.phone_fields,
        *registration.email_fields,
        *registration.person_fields,
    ]
    found = []
    for row in rows:
        if not registration.is_searchable(row):
            continue
        if memo is None:
            document = registration.document_of(row)
        else:
            key = (model, tuple(_value(row, source) for source in sources))
            document = memo.get(key)
            if document is None:
                document = memo[key] = registration.document_of(row)
        found.append(
            table.row(
                content_type_id=content_type_id,
                object_id=row["id"],
                title=registration.title_of(row),
                subtitle=registration.subtitle_of(row),
                document=document,
                updated_at=now,
            )
        )
    return found


class _Clock:
    """Local working times, fast: the zone's offset is looked up once per day."""

    def __init__(self, tz):
        self.tz = tz
        self._offsets: dict[datetime.date, datetime.timedelta] = {}

    def local_day(self, moment: datetime.datetime) -> datetime.date:
        return moment.astimezone(self.tz).date()

    def at(self, day: datetime.date, minutes: int) -> datetime.datetime:
        naive = datetime.datetime.combine(day, datetime.time(0)) + datetime.timedelta(
            minutes=minutes
        )
        return naive.replace(tzinfo=self.tz)

    def work_time(self, rng, moment: datetime.datetime) -> datetime.datetime:
        """A half hour from 9:00 to 17:00 on the working day of `moment` (or the Monday
        after a weekend)."""
        day = self.local_day(moment)
        if day.weekday() >= 5:
            day += datetime.timedelta(days=7 - day.weekday())
        return self.at(day, 540 + 30 * rng.randrange(17))


@dataclass
class _Account:
    """What an account's activities are made from."""

    id: int
    owner: int
    department: int | None
    created: datetime.datetime
    contacts: list[int]
    person: int | None
    colleagues: list[int]


class _Generator:
    """The rows of one batch of accounts: activities, assignees and follow-ups."""

    MINUTE = datetime.timedelta(minutes=1)
    HOUR = datetime.timedelta(hours=1)
    DAY = datetime.timedelta(days=1)

    def __init__(self, *, rng, tables, clock, now, content_types):
        self.rng = rng
        self.tables = tables
        self.clock = clock
        self.now = now
        self.end = now + datetime.timedelta(days=FUTURE_DAYS)
        self.account_type, self.contact_type = content_types
        self.activities: list[Row] = []
        self.assignees: list[dict] = []
        self.follow_ups: list[Row] = []

    def between(self, low: datetime.datetime, high: datetime.datetime) -> datetime.datetime:
        return low + (high - low) * self.rng.random()

    def regarding_of(self, account: _Account, use_contact: bool) -> tuple[int, int, int | None]:
        """(content type, id, contact id) as the regarding registry answers them."""
        if use_contact and account.contacts:
            contact = self.rng.choice(account.contacts)
            return self.contact_type, contact, contact
        return self.account_type, account.id, account.person

    def _state(self, kind: str, start_at, due, appointment: bool, owner: int) -> dict[str, Any]:
        """Status and what goes with it: past ones mostly done, some cancelled, some open
        (overdue, already notified and escalated); future ones open."""
        rng, now = self.rng, self.now
        row: dict[str, Any] = {"status": "open"}
        if due >= now:
            if rng.random() < 0.03:
                row["status"] = "cancelled"
            return row
        roll = rng.random()
        if appointment:
            outcome = rng.choices(APPOINTMENT_OUTCOMES, weights=APPOINTMENT_WEIGHTS)[0]
            row["appointment_outcome"] = outcome
            roll = 0.0 if outcome == "came" else 0.9
        if roll < 0.85:
            row.update(
                status="done",
                completed_at=min(due + self.MINUTE * rng.randint(0, 240), now),
                completed_by_id=owner,
            )
            if kind in ("call", "visit", "meeting") and rng.random() < 0.6:
                row["outcome"] = rng.choice(OUTCOMES)
            if kind == "visit" and rng.random() < 0.7:
                row["check_in_at"] = start_at + self.MINUTE * rng.randint(-10, 15)
                row["check_in_place"] = rng.choice(LOCATIONS["visit"])
        elif roll < 0.90 or appointment:
            row["status"] = "cancelled"
        else:
            row["overdue_notified_at"] = due + 5 * self.MINUTE
            if due + self.DAY < now:
                row["escalated_at"] = due + self.DAY
        return row

    def add_activity(
        self,
        account: _Account,
        *,
        kind: str,
        subject: str,
        start_at: datetime.datetime,
        regarding: tuple,
        created_at: datetime.datetime,
        closed_at: datetime.datetime | None = None,
        follow_up_task: bool = False,
    ) -> Row:
        rng = self.rng
        length = LENGTH_MINUTES.get(kind)
        # A follow-up task is due at the next follow-up time itself.
        all_day = kind == "task" and not follow_up_task and rng.random() < 0.03
        if all_day:
            start_at = self.clock.at(self.clock.local_day(start_at), 0)
        end_at = start_at + self.MINUTE * rng.randint(*length) if length else None
        due = end_at or start_at
        appointment = kind in ("visit", "meeting") and rng.random() < 0.25
        if closed_at is not None:  # a later follow-up did this follow-up task
            row = {"status": "done", "completed_at": closed_at, "completed_by_id": account.owner}
        else:
            row = self._state(kind, start_at, due, appointment, account.owner)
        reminder = None if kind == "note" else start_at - 15 * self.MINUTE
        regarding_type, regarding_id, contact_id = regarding
        created_at = min(created_at, start_at, self.now)
        activity = self.tables["activity"].row(
            kind=kind,
            subject=subject,
            description=rng.choice(DESCRIPTIONS),
            start_at=start_at,
            end_at=end_at,
            all_day=all_day,
            due_at=due,
            priority=rng.choices(PRIORITIES, weights=PRIORITY_WEIGHTS)[0],
            location=rng.choice(LOCATIONS[kind]) if kind in LOCATIONS else "",
            is_private=rng.random() < 0.03,
            regarding_type_id=regarding_type,
            regarding_id=regarding_id,
            account_id=account.id,
            contact_id=contact_id,
            is_appointment=appointment,
            reminder_at=reminder,
            reminder_sent_at=reminder if reminder and reminder < self.now else None,
            owner_id=account.owner,
            department_id=account.department,
            created_by_id=account.owner,
            created_at=created_at,
            updated_at=row.get("completed_at") or created_at,
            **row,
        )
        self.activities.append(activity)
        if account.colleagues and rng.random() < 0.10:
            chosen = rng.sample(
                account.colleagues, min(len(account.colleagues), rng.choice((1, 1, 2)))
            )
            self.assignees += [
                self.tables["assignee"].row(
                    activity_id=activity["id"], user_id=user_id, start_at=activity["start_at"]
                )
                for user_id in chosen
            ]
        return activity

    def account(self, account: _Account) -> None:
        """Two follow-ups on one record (the second about when the first planned it, doing
        its task), then the other activities up to ACTIVITIES_PER_ACCOUNT."""
        rng, now, day, hour = self.rng, self.now, self.DAY, self.HOUR
        regarding = self.regarding_of(account, rng.random() < 0.3)
        # Both in the past: between the account's creation and just before "now".
        latest = max(now - self.MINUTE, account.created)
        first_at = account.created + (latest - account.created) * rng.uniform(0.02, 0.7)
        first_next = first_at + day * rng.uniform(2, 30) if rng.random() < 0.85 else None
        planned = first_next or first_at + day * rng.uniform(3, 30)
        second_at = planned + hour * rng.uniform(-20, 20)
        if not first_at < second_at <= latest:
            second_at = self.between(first_at, latest)
        second_next = second_at + day * rng.uniform(2, 30) if rng.random() < 0.8 else None
        moments = [(first_at, first_next), (second_at, second_next)][:FOLLOW_UPS_PER_ACCOUNT]
        tasks = 0
        for position, (followed_at, next_at) in enumerate(moments):
            task_id = None
            if next_at is not None and tasks < ACTIVITIES_PER_ACCOUNT:
                # follow_up_create's next task; the later follow-up does it when due by then.
                closed = None
                if position + 1 < len(moments) and next_at <= moments[position + 1][0] + day:
                    closed = moments[position + 1][0]
                task_id = self.add_activity(
                    account,
                    kind="task",
                    subject=rng.choice(FOLLOW_UP_TASK_SUBJECTS),
                    start_at=next_at,
                    regarding=regarding,
                    created_at=followed_at,
                    closed_at=closed,
                    follow_up_task=True,
                )["id"]
                tasks += 1
            self.follow_ups.append(
                self.tables["follow_up"].row(
                    regarding_type_id=regarding[0],
                    regarding_id=regarding[1],
                    account_id=account.id,
                    contact_id=regarding[2],
                    channel=rng.choices(CHANNELS, weights=CHANNEL_WEIGHTS)[0],
                    content=rng.choice(FOLLOW_UP_CONTENT),
                    reaction=rng.choices(REACTIONS, weights=REACTION_WEIGHTS)[0],
                    followed_up_at=followed_at,
                    next_follow_up_at=next_at,
                    next_activity_id=task_id,
                    owner_id=account.owner,
                    department_id=account.department,
                    created_by_id=account.owner,
                    created_at=followed_at,
                    updated_at=followed_at,
                )
            )
        for _other in range(ACTIVITIES_PER_ACCOUNT - tasks):
            kind = rng.choices(KINDS, weights=KIND_WEIGHTS)[0]
            if rng.random() < 0.5:
                moment = self.between(account.created, self.end)
            else:
                moment = account.created + day * rng.expovariate(1 / AFTER_CREATION_DAYS)
                if moment >= self.end:
                    moment = self.between(account.created, self.end)
            start_at = self.clock.work_time(rng, moment)
            self.add_activity(
                account,
                kind=kind,
                subject=rng.choice(SUBJECTS[kind]),
                start_at=start_at,
                regarding=self.regarding_of(account, rng.random() < 0.25),
                created_at=start_at - day * rng.uniform(0.05, 10),
            )


def build_activities(ctx, batches: Iterable[tuple[int, int]] | None = None) -> None:
    """The activities of the accounts in ctx, in batches of ctx.batch_size accounts, or of
    `batches` ((first account index, count) as the accounts arrive: `--jobs 2` feeds them
    from the customers step running in the other process; ctx.size.accounts in all)."""
    from django.contrib.contenttypes.models import ContentType
    from django.db import transaction
    from django.utils import timezone, translation
    from django.utils.translation import gettext

    from bench.generate import SPAN_DAYS
    from guanxi.activities.models import Activity, ActivityAssignee, FollowUp
    from guanxi.core.models import (
        ChangeAction,
        ChangeRecord,
        PicklistOption,
        SearchEntry,
        TimelineEntry,
    )
    from guanxi.customers.models import Account, Contact

    rng = ctx.rng("activities")
    org = ctx.org
    if batches is None:
        total = len(ctx.account_ids)
        per_account = max(1, len(ctx.contact_ids) // max(total, 1))
        batches = (
            (done, min(ctx.batch_size, total - done))
            for done in range(0, total, max(ctx.batch_size, 1))
        )
    else:
        from bench.generate import CONTACTS_PER_ACCOUNT

        total, per_account = ctx.size.accounts, CONTACTS_PER_ACCOUNT
    if not total:
        return
    content_type = ContentType.objects.get_for_model
    activity_type, follow_up_type = content_type(Activity).pk, content_type(FollowUp).pk
    tables = {
        "activity": Table(Activity, ids=True),
        "follow_up": Table(FollowUp, ids=True),
        "assignee": Table(ActivityAssignee),
        "search": Table(SearchEntry),
        "timeline": Table(TimelineEntry),
        "history": Table(ChangeRecord),
    }
    clock = _Clock(timezone.get_default_timezone())
    now = ctx.start + datetime.timedelta(days=SPAN_DAYS)  # the dataset's "now": `until`
    step = datetime.timedelta(days=SPAN_DAYS) / total
    # Colleagues to assign: the reps of the owner's department.
    department_reps: dict[int | None, list[int]] = {}
    for user_id in org.rep_ids:
        department_reps.setdefault(org.user_department.get(user_id), []).append(user_id)
    kind_labels = dict(
        PicklistOption.objects.filter(picklist__code="activity_type").values_list(
            "value", "label_zh"
        )
    )
    with translation.override("zh-hans"):
        planned_text = gettext("%(type)s planned: %(subject)s")
    memo: dict = {}
    wall_clock = timezone.now()
    for done, n in batches:
        batch_started = time.perf_counter()
        ids = list(ctx.account_ids[done : done + n])
        persons = dict(Account.all_objects.filter(pk__in=ids).values_list("pk", "person_id"))
        batch = _Generator(
            rng=rng,
            tables=tables,
            clock=clock,
            now=now,
            content_types=(content_type(Account).pk, content_type(Contact).pk),
        )
        for index in range(done, done + n):
            owner = ctx.account_owner_ids[index]
            department = org.user_department.get(owner)
            batch.account(
                _Account(
                    id=ctx.account_ids[index],
                    owner=owner,
                    department=department,
                    # As build_customers dates it (at most 0.9 of a step after its slot).
                    created=ctx.start + step * (index + 0.9),
                    contacts=list(ctx.contact_ids[index * per_account : (index + 1) * per_account]),
                    person=persons.get(ctx.account_ids[index]),
                    colleagues=[pk for pk in department_reps.get(department, ()) if pk != owner],
                )
            )
        activities, follow_ups = batch.activities, batch.follow_ups
        search = search_rows(Activity, activities, tables["search"], memo, wall_clock)
        search += search_rows(FollowUp, follow_ups, tables["search"], memo, wall_clock)
        timeline = [
            tables["timeline"].row(
                content_type_id=row["regarding_type_id"],
                object_id=row["regarding_id"],
                kind="activity_created",
                text=planned_text
                % {"type": kind_labels.get(row["kind"], row["kind"]), "subject": row["subject"]},
                actor_id=row["owner_id"],
                account_id=row["account_id"],
                created_at=row["created_at"],
                data={"activity": row["id"], "type": row["kind"]},
            )
            for row in activities
        ]
        timeline += [
            tables["timeline"].row(
                content_type_id=row["regarding_type_id"],
                object_id=row["regarding_id"],
                kind="follow_up",
                text=row["content"],
                actor_id=row["owner_id"],
                account_id=row["account_id"],
                created_at=row["followed_up_at"],
                data={
                    "follow_up": row["id"],
                    "channel": row["channel"],
                    "reaction": row["reaction"],
                    "next": row["next_follow_up_at"].isoformat()
                    if row["next_follow_up_at"]
                    else None,
                },
            )
            for row in follow_ups
        ]
        history: list[dict] = []
        if ctx.history:
            for type_id, table, rows, text in (
                (activity_type, tables["activity"], activities, "subject"),
                (follow_up_type, tables["follow_up"], follow_ups, "content"),
            ):
                history += [
                    tables["history"].row(
                        content_type_id=type_id,
                        object_id=row["id"],
                        object_repr=(row[text] if text == "subject" else row[text][:60])[:200],
                        action=ChangeAction.CREATE.value,
                        actor_id=row["owner_id"],
                        request_id="",
                        created_at=row["created_at"],
                        after=table.snapshot(row),
                    )
                    for row in rows
                ]
        write_started = time.perf_counter()
        with transaction.atomic():
            counts = {
                "activities_activity": tables["activity"].insert(activities),
                "activities_activityassignee": tables["assignee"].insert(batch.assignees),
                "activities_followup": tables["follow_up"].insert(follow_ups),
                "core_searchentry": tables["search"].insert(search),
                "core_timelineentry": tables["timeline"].insert(timeline),
                "core_changerecord": tables["history"].insert(history),
            }
        writing = time.perf_counter() - write_started
        for name, count in counts.items():
            ctx.count(name, count)
        seconds = time.perf_counter() - batch_started
        batch_rows = sum(counts.values())
        ctx.log(
            f"  activities for {done + n:>9,}/{total:,} accounts  batch {batch_rows:,} rows in "
            f"{seconds:.1f}s ({batch_rows / max(seconds, 1e-9):,.0f} rows/s; "
            f"writing {writing:.1f}s)"
        )
    tables["activity"].reset_sequence()
    tables["follow_up"].reset_sequence()
    follow_up_dates_refresh(ctx)


def follow_up_dates_refresh(ctx, *, chunk: int = 50_000) -> None:
    """The accounts' and contacts' last / next follow-up columns from their newest follow-up
    (what follow_up_create keeps row by row), one UPDATE per range of ids."""
    from django.db import transaction
    from django.db.models import Exists, Max, Min, OuterRef, Subquery

    from guanxi.activities.models import FollowUp
    from guanxi.customers.models import Account, Contact

    started = time.perf_counter()
    updated = 0
    for model, column in ((Account, "account_id"), (Contact, "contact_id")):
        newest = FollowUp.all_objects.filter(**{column: OuterRef("pk")}).order_by(
            "-followed_up_at", "-id"
        )
        bounds = model.all_objects.aggregate(low=Min("pk"), high=Max("pk"))
        if bounds["low"] is None:
            continue
        for low in range(bounds["low"], bounds["high"] + 1, chunk):
            with transaction.atomic():
                updated += (
                    model.all_objects.filter(pk__gte=low, pk__lt=low + chunk)
                    .filter(Exists(FollowUp.all_objects.filter(**{column: OuterRef("pk")})))
                    .update(
                        last_followed_up_at=Subquery(newest.values("followed_up_at")[:1]),
                        next_follow_up_at=Subquery(newest.values("next_follow_up_at")[:1]),
                    )
                )
    ctx.log(
        f"  follow-up dates of {updated:,} accounts and contacts in "
        f"{time.perf_counter() - started:.1f}s"
    )
