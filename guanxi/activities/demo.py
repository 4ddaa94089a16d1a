"""Demo activities and follow-up records for the demo sales team.

Called by `guanxi.core.demo.load_demo()` after the demo accounts and contacts exist. For the
owners of the demo accounts it plans about three activities per account over the last three
months and the next month (calls, meetings, visits, tasks, e-mails; most past ones done, some
overdue, appointments with their outcomes, visits checked in, some with colleagues assigned),
a few recurring weekly team meetings, and about 1.5 follow-up records per account with their
next follow-up dates (which create the follow-up tasks and keep the accounts' and contacts'
"last / next follow-up" columns). Everything goes through the activities services, so the
history, the timeline and the search index are filled as if people had typed it in.

Idempotent: nothing is added when the demo account owners already have activities. A seeded
random generator of its own makes every run produce the same plan (relative to today).
"""

from __future__ import annotations

import datetime
import random
import sys
from dataclasses import dataclass

from django.db import transaction
from django.utils import timezone

SEED = "42:activities"
PAST_DAYS = 90
FUTURE_DAYS = 30
ACTIVITIES_PER_ACCOUNT = 1.6  # standalone ones; follow-up tasks and team meetings come on top
FOLLOW_UPS_PER_ACCOUNT = 1.5

# (kind, weight, minutes long or None for a due time only)
KINDS = [
    ("call", 34, (15, 30)),
    ("visit", 20, (60, 180)),
    ("meeting", 15, (60, 120)),
    ("task", 16, None),
    ("email", 8, None),
    ("sms", 3, None),
    ("note", 4, None),
]
PRIORITIES = [("normal", 60), ("high", 20), ("low", 12), ("urgent", 8)]

# Subjects per kind: Chinese for the Chinese-speaking team, English for the others.
SUBJECTS = {
    "zh": {
        "call": [
            "电话回访：{name}",
            "确认{name}的采购需求",
            "跟进{name}报价反馈",
            "催收{name}回款",
        ],
        "visit": ["拜访{name}", "上门演示：{name}", "{name}现场调研", "陪同技术拜访{name}"],
        "meeting": ["{name}方案交流会", "与{name}商务谈判", "{name}项目启动会", "{name}季度回顾"],
        "task": ["准备{name}报价单", "整理{name}合同条款", "给{name}寄送样品", "更新{name}资料"],
        "email": ["给{name}发送产品资料", "邮件确认{name}会议纪要", "发送{name}报价邮件"],
        "sms": ["短信提醒{name}参会", "短信问候{name}"],
        "note": ["{name}：决策链备注", "{name}：竞争对手情况"],
    },
    "en": {
        "call": ["Call back {name}", "Confirm needs with {name}", "Chase {name} on the quote"],
        "visit": ["Visit {name}", "On-site demo at {name}", "Site survey at {name}"],
        "meeting": ["Proposal review with {name}", "Negotiation with {name}", "Kick-off: {name}"],
        "task": ["Prepare the quote for {name}", "Send samples to {name}", "Update {name} file"],
        "email": ["Send brochures to {name}", "E-mail the minutes to {name}"],
        "sms": ["Text {name} a reminder"],
        "note": ["{name}: decision makers", "{name}: competitors"],
    },
}
INTERNAL_SUBJECTS = {
    "zh": ["整理本周客户拜访记录", "提交月度销售预测", "准备部门周报", "更新客户分级表"],
    "en": [
        "Write up this week's visits",
        "Submit the monthly forecast",
        "Prepare the weekly report",
    ],
}
OUTCOMES = {
    "zh": [
        "客户认可方案，等待内部审批",
        "已确认需求，下周发正式报价",
        "对价格有顾虑，需再沟通",
        "决策人出差，改期再谈",
        "已发送资料，客户会转给技术部",
        "达成初步合作意向",
    ],
    "en": [
        "They like the proposal; waiting for internal approval",
        "Needs confirmed; formal quote next week",
        "Worried about the price; talk again",
        "Decision maker travelling; rescheduled",
    ],
}
FOLLOW_UP_CONTENT = {
    "zh": [
        "电话沟通了新版报价，客户表示需要内部讨论",
        "微信发送了产品手册，对方已读并询问交期",
        "上门拜访采购经理，了解了明年的采购计划",
        "客户反馈试用效果不错，希望增加账号数量",
        "约了技术负责人下周做演示",
        "客户对售后响应时间有疑问，已解释服务政策",
        "对比了竞品价格，客户倾向我们的方案",
        "财务确认预算已批，等待合同流程",
        "客户暂时没有需求，三个月后再联系",
    ],
    "en": [
        "Walked them through the new quote; they will discuss it internally",
        "Sent the brochure on WeChat; they asked about delivery times",
        "Met the purchasing manager about next year's plan",
        "The trial went well; they want more seats",
        "Booked a demo with their technical lead next week",
    ],
}
CHANNELS = [("phone", 35), ("wechat", 30), ("visit", 12), ("meeting", 6), ("email", 10)]
CHANNELS += [("sms", 3), ("other", 4)]
REACTIONS = [
    ("interested", 30),
    ("neutral", 30),
    ("hesitant", 20),
    ("not_interested", 10),
    ("complained", 3),
    ("", 7),
]
APPOINTMENT_OUTCOMES = [("came", 65), ("no_show", 15), ("rescheduled", 10), ("cancelled", 10)]

# Recurring team meetings: (subject, owner, assignees, weekday, hour, minute, minutes long).
TEAM_MEETINGS = [
    (
        "华东销售部周例会",
        "sales.manager",
        ["sales.rep1", "sales.rep2", "david.chen"],
        0,
        9,
        30,
        60,
    ),
    ("华北销售部周例会", "sales.rep3", ["zhang.wei", "emily.zhao"], 1, 9, 30, 60),
    ("销售中心周报会", "huang.jun", ["sales.manager"], 4, 16, 0, 45),
]


def _say(verbosity: int, message: str) -> None:
    if verbosity >= 1:
        sys.stdout.write(message + "\n")


def _pick(rng: random.Random, weighted: list[tuple]) -> object:
    values = [row[0] for row in weighted]
    weights = [row[1] for row in weighted]
    return rng.choices(values, weights=weights)[0]


def _language(user) -> str:
    return "en" if (getattr(user, "language", "") or "").startswith("en") else "zh"


def _short(name: str) -> str:
    from guanxi.customers.demo import _short_name

    return _short_name(name)


def _work_time(rng: random.Random, day: datetime.date) -> datetime.datetime:
    """A half hour between 9:00 and 17:00 local time on a working day at or after `day`."""
    while day.weekday() >= 5:
        day += datetime.timedelta(days=1)
    slot = rng.randrange(16)  # 9:00 .. 16:30
    naive = datetime.datetime.combine(day, datetime.time(9 + slot // 2, 30 * (slot % 2)))
    return timezone.make_aware(naive, timezone.get_current_timezone())


@dataclass
class _Plan:
    """What the loader made, for the summary line and the bookkeeping at the end."""

    activities: int = 0
    follow_ups: int = 0
    series: int = 0


def load_demo_data(*, demo, verbosity: int = 1) -> None:
    from guanxi.activities.models import Activity, FollowUp

    accounts = [account for account in demo.accounts if account.owner_id]
    if not accounts:
        return
    owner_ids = {account.owner_id for account in accounts}
    if (
        Activity.all_objects.filter(owner_id__in=owner_ids).exists()
        or FollowUp.all_objects.filter(account__in=accounts).exists()
    ):
        return
    rng = random.Random(SEED)
    now = timezone.now()
    plan = _Plan()
    with transaction.atomic():
        _team_meetings(demo, rng, now, plan, full=len(accounts) >= 50)
        _customer_activities(demo, accounts, rng, now, plan)
        _follow_ups(accounts, rng, now, plan)
        _bookkeeping(owner_ids | {u.pk for u in demo.users.values()}, rng, now)
    _say(
        verbosity,
        f"Demo activities loaded: {plan.activities} activities ({plan.series} recurring series), "
        f"{plan.follow_ups} follow-up records.",
    )


def _team_meetings(demo, rng: random.Random, now, plan: _Plan, *, full: bool) -> None:
    """Weekly team meetings from three months ago to a month ahead; the past ones held.
    A small demo (the tests') gets one series, a full one all three."""
    from guanxi.activities.models import Activity
    from guanxi.activities.services import activity_complete, activity_create

    meetings = TEAM_MEETINGS if full else TEAM_MEETINGS[:1]
    today = timezone.localdate(now)
    for subject, owner_name, assignee_names, weekday, hour, minute, minutes in meetings:
        owner = demo.users.get(owner_name)
        if owner is None:
            continue
        first_day = today - datetime.timedelta(days=PAST_DAYS)
        first_day += datetime.timedelta(days=(weekday - first_day.weekday()) % 7)
        start = timezone.make_aware(
            datetime.datetime.combine(first_day, datetime.time(hour, minute)),
            timezone.get_current_timezone(),
        )
        assignees = [demo.users[name].pk for name in assignee_names if name in demo.users]
        first = activity_create(
            actor=owner,
            data={
                "kind": "meeting",
                "subject": subject,
                "start_at": start,
                "end_at": start + datetime.timedelta(minutes=minutes),
                "location": "公司会议室",
                "owner": owner,
            },
            assignee_ids=assignees,
            recurrence={
                "frequency": "weekly",
                "interval": 1,
                "until": today + datetime.timedelta(days=FUTURE_DAYS),
            },
        )
        plan.series += 1
        for occurrence in Activity.objects.filter(series_id=first.series_id).order_by("start_at"):
            plan.activities += 1
            if occurrence.due_at < now:
                activity_complete(activity=occurrence, actor=owner, outcome="")


def _contacts_by_account(accounts) -> dict[int, list]:
    from guanxi.customers.models import AccountContact

    found: dict[int, list] = {}
    links = (
        AccountContact.objects.filter(account__in=accounts)
        .select_related("contact")
        .order_by("account_id", "-is_primary", "id")
    )
    for link in links:
        found.setdefault(link.account_id, []).append(link.contact)
    return found


def _colleagues(demo) -> dict[int, list[int]]:
    """Sales users of the same department, to assign each other."""
    by_department: dict[int, list[int]] = {}
    for user in demo.users.values():
        if user.department_id:
            by_department.setdefault(user.department_id, []).append(user.pk)
    return {
        user.pk: [pk for pk in by_department.get(user.department_id, []) if pk != user.pk]
        for user in demo.users.values()
    }


def _customer_activities(demo, accounts, rng: random.Random, now, plan: _Plan) -> None:
    from guanxi.activities.services import (
        activity_cancel,
        activity_check_in,
        activity_complete,
        activity_create,
        activity_reschedule,
        appointment_set_outcome,
    )

    contacts = _contacts_by_account(accounts)
    colleagues = _colleagues(demo)
    owners = {user.pk: user for user in demo.users.values()}
    today = timezone.localdate(now)
    total = round(len(accounts) * ACTIVITIES_PER_ACCOUNT)
    for _index in range(total):
        account = rng.choice(accounts)
        owner = owners.get(account.owner_id) or account.owner
        language = _language(owner)
        kind = _pick(rng, KINDS)
        length = {k: m for k, _w, m in KINDS}[kind]
        day = today + datetime.timedelta(days=rng.randint(-PAST_DAYS, FUTURE_DAYS))
        start = _work_time(rng, day)
        end = start + datetime.timedelta(minutes=rng.randint(*length)) if length else None
        regarding = account
        roll = rng.random()
        if roll < 0.2 and contacts.get(account.pk):
            regarding = rng.choice(contacts[account.pk])
        elif roll < 0.28 and kind in ("task", "note"):
            regarding = None
        if regarding is None:
            subject = rng.choice(INTERNAL_SUBJECTS[language])
        else:
            subject = rng.choice(SUBJECTS[language][kind]).format(name=_short(str(regarding)))
        appointment = kind in ("visit", "meeting") and rng.random() < 0.35
        data = {
            "kind": kind,
            "subject": subject[:200],
            "start_at": start,
            "end_at": end,
            "all_day": kind == "task" and rng.random() < 0.1,
            "priority": _pick(rng, PRIORITIES),
            "location": (account.address or "")[:255] if kind == "visit" else "",
            "is_private": rng.random() < 0.05,
            "is_appointment": appointment,
            "owner": owner,
        }
        assignees = []
        if colleagues.get(owner.pk) and rng.random() < 0.15:
            assignees = [rng.choice(colleagues[owner.pk])]
        activity = activity_create(
            actor=owner, data=data, regarding=regarding, assignee_ids=assignees
        )
        plan.activities += 1
        due = end or start
        if due >= now:
            if rng.random() < 0.03:
                activity_cancel(activity=activity, actor=owner, reason="客户改期")
            continue
        if appointment:
            outcome = _pick(rng, APPOINTMENT_OUTCOMES)
            appointment_set_outcome(
                activity=activity, actor=owner, outcome=outcome, note=rng.choice(OUTCOMES[language])
            )
            if outcome == "rescheduled":
                later = today + datetime.timedelta(days=rng.randint(1, 14))
                activity_reschedule(activity=activity, actor=owner, start_at=_work_time(rng, later))
            if outcome == "came" and kind == "visit":
                activity_check_in(
                    activity=activity,
                    actor=owner,
                    place=account.address or account.name,
                    at=start + datetime.timedelta(minutes=rng.randint(-10, 15)),
                )
            continue
        roll = rng.random()
        if roll < 0.80:
            if kind == "visit" and rng.random() < 0.7:
                activity_check_in(
                    activity=activity,
                    actor=owner,
                    place=account.address or account.name,
                    at=start + datetime.timedelta(minutes=rng.randint(-10, 15)),
                )
            outcome = rng.choice(OUTCOMES[language]) if kind not in ("note", "sms") else ""
            activity_complete(activity=activity, actor=owner, outcome=outcome)
        elif roll < 0.85:
            activity_cancel(activity=activity, actor=owner)
        # else: still open, so overdue.


def _follow_ups(accounts, rng: random.Random, now, plan: _Plan) -> None:
    """A chain of follow-ups per chosen customer, oldest first; each names the next date,
    which the next follow-up mostly keeps (closing the task), and the last one points to the
    future (sometimes to a date already missed: an overdue follow-up)."""
    from guanxi.activities.services import follow_up_create

    contacts = _contacts_by_account(accounts)
    target = round(len(accounts) * FOLLOW_UPS_PER_ACCOUNT)
    chosen = rng.sample(accounts, max(1, round(len(accounts) * 0.6)))
    per_account = [1] * len(chosen)
    while sum(per_account) < target:
        per_account[rng.randrange(len(chosen))] += 1
    for account, count in zip(chosen, per_account, strict=True):
        owner = account.owner
        language = _language(owner)
        regarding = account
        if contacts.get(account.pk) and rng.random() < 0.3:
            regarding = contacts[account.pk][0]
        moment = now - datetime.timedelta(days=rng.randint(20, PAST_DAYS), hours=rng.randint(0, 8))
        for position in range(count):
            last = position == count - 1
            if last:
                roll = rng.random()
                if roll < 0.15:  # missed: overdue by a few days
                    gap = (now - moment) - datetime.timedelta(days=rng.randint(1, 6))
                elif roll < 0.25:  # due today
                    gap = (now - moment) + datetime.timedelta(hours=rng.randint(1, 6))
                else:
                    gap = (now - moment) + datetime.timedelta(days=rng.randint(1, FUTURE_DAYS))
                if gap <= datetime.timedelta(hours=1):
                    gap = datetime.timedelta(days=rng.randint(1, 7))
                next_at = moment + gap if rng.random() < 0.9 else None
            else:
                remaining = (now - moment) / (count - position)
                next_at = moment + remaining * rng.uniform(0.5, 0.95)
            follow_up_create(
                actor=owner,
                regarding=regarding,
                channel=_pick(rng, CHANNELS),
                content=rng.choice(FOLLOW_UP_CONTENT[language]),
                reaction=_pick(rng, REACTIONS),
                followed_up_at=moment,
                next_follow_up_at=next_at,
            )
            plan.follow_ups += 1
            if next_at is not None:
                plan.activities += 1
            if last:
                break
            # The next contact happens around the planned date (a day early or late).
            planned = next_at or moment + datetime.timedelta(days=7)
            following = min(
                planned + datetime.timedelta(hours=rng.randint(-20, 20)),
                now - datetime.timedelta(hours=1),
            )
            if following <= moment + datetime.timedelta(hours=1):
                break
            moment = following


def _bookkeeping(user_ids, rng: random.Random, now) -> None:
    """What the background job would have done over the past three months: completion times
    when the work was done (not "today"), reminders already sent, and overdue notices and
    escalations already made, except for the last two days (so the jobs have something to
    show)."""
    from guanxi.activities.models import Activity, ActivityStatus

    recent = now - datetime.timedelta(days=2)
    changed = []
    for activity in Activity.all_objects.filter(owner_id__in=user_ids, due_at__lt=now):
        dirty = False
        if activity.status == ActivityStatus.DONE:
            done_at = min(activity.due_at + datetime.timedelta(minutes=rng.randint(0, 240)), now)
            activity.completed_at = done_at
            dirty = True
        if activity.reminder_at and activity.reminder_at < recent:
            activity.reminder_sent_at = activity.reminder_at
            dirty = True
        if activity.status == ActivityStatus.OPEN and activity.due_at < recent:
            activity.overdue_notified_at = activity.due_at + datetime.timedelta(minutes=5)
            activity.escalated_at = activity.due_at + datetime.timedelta(days=1)
            dirty = True
        if dirty:
            changed.append(activity)
    Activity.all_objects.bulk_update(
        changed,
        ["completed_at", "reminder_sent_at", "overdue_notified_at", "escalated_at"],
        batch_size=500,
    )
