"""Demo contacts, relations, groups, points and a few deliberate duplicates.

Called by `guanxi.core.demo.load_demo()` after the demo accounts exist. Idempotent: nothing
is added when the demo accounts already have contacts. Everything goes through the
customers services, so history, timeline, search index and duplicate keys are filled.
"""

from __future__ import annotations

import sys

from django.db import transaction

TITLES = [
    ("总经理", "decision_maker"),
    ("副总经理", "decision_maker"),
    ("采购经理", "influencer"),
    ("技术总监", "influencer"),
    ("财务经理", "influencer"),
    ("IT 主管", "user"),
    ("行政主管", "user"),
    ("项目经理", "user"),
    ("前台", "irrelevant"),
]
STATIC_GROUP = "华东重点客户"
DYNAMIC_GROUP = "IT 行业客户"
CITY_PREFIXES = ["北京", "上海", "深圳市", "广州", "杭州", "南京", "苏州", "天津", "成都", "武汉"]
LEGAL_SUFFIXES = ["集团有限公司", "股份有限公司", "有限责任公司", "有限公司"]


def _say(verbosity: int, message: str) -> None:
    if verbosity >= 1:
        sys.stdout.write(message + "\n")


def _person_name(rng) -> str:
    from guanxi.core.demo import GIVEN, SURNAMES

    return rng.choice(SURNAMES) + "".join(rng.choice(GIVEN) for _ in range(rng.choice([1, 2])))


def _email_for(name: str, account) -> str:
    from guanxi.core.demo import _pinyin_slug

    domain = account.email.rpartition("@")[2] if account.email else "example.com"
    domain = domain.removeprefix("info.") or "example.com"
    return f"{_pinyin_slug(name)}@{domain}"


def _short_name(name: str) -> str:
    """北京明达贸易有限公司 -> 明达贸易: the city prefix and the legal suffix dropped."""
    for prefix in CITY_PREFIXES:
        if name.startswith(prefix):
            name = name[len(prefix) :]
            break
    for suffix in LEGAL_SUFFIXES:
        if name.endswith(suffix):
            return name[: -len(suffix)]
    return name


def load_demo_data(*, demo, verbosity: int = 1) -> None:
    from guanxi.core.demo import _mobile
    from guanxi.core.models import PicklistOption
    from guanxi.core.phones import phone_is_valid
    from guanxi.customers import services
    from guanxi.customers.models import Account, AccountContact, Group

    accounts = [account for account in demo.accounts if account.owner_id]
    # Individual accounts link to their own person when created; company links are ours.
    companies_linked = AccountContact.all_objects.filter(
        account__in=accounts, account__kind=Account.Kind.COMPANY
    )
    if not accounts or companies_linked.exists():
        return
    rng = demo.rng
    roles = {
        option.value: option
        for option in PicklistOption.objects.filter(picklist__code="contact_role")
    }
    users = demo.users
    contacts_made = 0
    by_account: dict[int, list] = {}
    with transaction.atomic():
        # 1-3 contacts with roles per company; an individual customer is its own contact.
        for account in accounts:
            if account.kind != Account.Kind.COMPANY:
                continue
            titles = rng.sample(TITLES, rng.choice([1, 2, 2, 3]))
            for position, (title, role) in enumerate(titles):
                name = _person_name(rng)
                phones = [{"number": _mobile(rng), "kind": "mobile", "is_primary": True}]
                if rng.random() < 0.3 and account.phone and phone_is_valid(account.phone):
                    phones.append({"number": account.phone, "kind": "work"})
                contact = services.contact_create(
                    actor=account.owner,
                    data={
                        "name": name,
                        "title": title,
                        "gender": rng.choice(["female", "male"]),
                        "owner": account.owner,
                    },
                    phones=phones,
                    emails=[{"address": _email_for(name, account), "kind": "work"}],
                    account=account,
                    role=roles.get(role),
                    job_title=title,
                    is_primary=position == 0,
                )
                by_account.setdefault(account.pk, []).append(contact)
                contacts_made += 1

        # Relations inside an account: the second reports to the first, the third assists.
        relations = 0
        for people in by_account.values():
            if len(people) >= 2:
                services.contact_relation_add(
                    from_contact=people[1],
                    to_contact=people[0],
                    kind="reports_to",
                    actor=people[1].owner,
                )
                relations += 1
            if len(people) >= 3:
                services.contact_relation_add(
                    from_contact=people[2],
                    to_contact=people[0],
                    kind="assistant_of",
                    actor=people[2].owner,
                )
                relations += 1
        singles = [people[0] for people in by_account.values()]
        for first, second in zip(singles[:6:2], singles[1:6:2], strict=False):
            services.contact_relation_add(
                from_contact=first, to_contact=second, kind="friend_of", actor=first.owner
            )
            relations += 1

        # Two groups: a static list of east-China key accounts and a saved IT filter.
        groups = 0
        rep1 = users.get("sales.rep1")
        manager = users.get("sales.manager") or rep1
        if rep1 is not None and not Group.objects.filter(name=STATIC_GROUP).exists():
            group = services.group_create(
                actor=rep1,
                data={
                    "name": STATIC_GROUP,
                    "description": "重点跟进的华东客户",
                    "owner": rep1,
                },
            )
            mine = [account for account in accounts if account.owner_id == rep1.pk][:8]
            services.group_add_accounts(group=group, accounts=mine, actor=rep1)
            groups += 1
        if manager is not None and not Group.objects.filter(name=DYNAMIC_GROUP).exists():
            services.group_create(
                actor=manager,
                data={
                    "name": DYNAMIC_GROUP,
                    "kind": Group.Kind.DYNAMIC,
                    "description": "行业为信息技术的客户（自动更新）",
                    "conditions": {
                        "match": "all",
                        "conditions": [{"field": "industry", "op": "eq", "value": "it"}],
                    },
                    "owner": manager,
                },
            )
            groups += 1

        # Points for a few accounts: orders earned them, some were redeemed.
        for account in rng.sample(accounts, min(10, len(accounts))):
            earned = rng.choice([300, 800, 1200, 2500, 6000])
            services.points_record(
                account=account, kind="earn", points=earned, reason="订单积分", actor=account.owner
            )
            if rng.random() < 0.4:
                services.points_record(
                    account=account,
                    kind="redeem",
                    points=earned // 4,
                    reason="积分兑换礼品",
                    actor=account.owner,
                )

        # Deliberate duplicates: a few demo companies become the short name of another one
        # with its phone, owned by another rep (北京明达贸易有限公司 vs 明达贸易), so the
        # duplicate check and scan have something to find without adding accounts; and a
        # contact is entered twice. Every demo account gets its duplicate keys first.
        from guanxi.core.services.records import record_update
        from guanxi.customers.duplicates import duplicate_keys_refresh

        for account in accounts:
            duplicate_keys_refresh(account)
        duplicates = 0
        owners = [user for name, user in users.items() if name.startswith("sales.rep")]
        companies = [
            account
            for account in accounts
            if account.kind == Account.Kind.COMPANY
            and account.phone
            and _short_name(account.name) != account.name
        ]
        sources, targets = companies[:3], companies[3:][::-1]
        for source in sources:
            target = next((t for t in targets if t.owner_id != source.owner_id), None) or next(
                iter(targets), None
            )
            if target is None:
                break
            targets.remove(target)
            record_update(
                instance=target,
                data={"name": _short_name(source.name), "phone": source.phone},
                actor=target.owner,
                message="演示：重复客户",
            )
            duplicate_keys_refresh(target)
            duplicates += 1
        twins = [people[0] for people in by_account.values()][:2]
        for original in twins:
            phone = original.phones.first()
            other = next((user for user in owners if user.pk != original.owner_id), original.owner)
            services.contact_create(
                actor=other,
                data={"name": original.name, "title": original.title, "owner": other},
                phones=[{"number": phone.number, "kind": "mobile"}] if phone else None,
            )
            duplicates += 1

    _say(
        verbosity,
        f"Demo contacts loaded: {contacts_made} contacts, {relations} relations, "
        f"{groups} groups, {duplicates} deliberate duplicates.",
    )
