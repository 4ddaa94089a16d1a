"""Demo data of the sales app: product categories and products, the default price book filled
and a USD one with its exchange rate, two territories, a second sales process, competitors,
about 300 opportunities over the last 18 months (open, won and lost, with lines, contacts,
competitors and splits) and this year's targets.

Called by `guanxi.core.demo.load_demo()` after the demo users and accounts exist.
Idempotent: catalogue rows are looked up before they are made, and opportunities and targets
are only added when there are none. Opportunities go through the opportunity services (exit
criteria, stage history, timeline); afterwards their dates are moved back in time so the
reports have 18 months of history.
"""

from __future__ import annotations

import datetime
import sys
from decimal import Decimal

OPPORTUNITY_COUNT = 300
HISTORY_DAYS = 540
OWNERS = ["sales.rep1", "sales.rep2", "sales.rep3", "zhang.wei", "david.chen", "emily.zhao"]

# (category zh, category en, parent zh or None)
CATEGORIES = [
    ("软件", "Software", None),
    ("ERP", "ERP", "软件"),
    ("CRM", "CRM", "软件"),
    ("硬件", "Hardware", None),
    ("服务器", "Servers", "硬件"),
    ("网络设备", "Networking", "硬件"),
    ("服务", "Services", None),
]

# (code, name, category zh, unit, tax rate, list price CNY, cost)
PRODUCTS = [
    ("ERP-STD", "ERP 标准版", "ERP", "套", "13", 98000, 30000),
    ("ERP-PRO", "ERP 专业版", "ERP", "套", "13", 198000, 60000),
    ("ERP-ENT", "ERP 企业版", "ERP", "套", "13", 398000, 110000),
    ("ERP-USR", "ERP 用户许可", "ERP", "个", "13", 2800, 500),
    ("CRM-STD", "CRM 标准版", "CRM", "套", "13", 68000, 20000),
    ("CRM-PRO", "CRM 专业版", "CRM", "套", "13", 128000, 38000),
    ("CRM-USR", "CRM 用户许可", "CRM", "个", "13", 1800, 300),
    ("CRM-MOB", "CRM 移动端模块", "CRM", "套", "13", 30000, 8000),
    ("SRV-R1", "机架服务器 R1", "服务器", "台", "13", 45000, 32000),
    ("SRV-R2", "机架服务器 R2", "服务器", "台", "13", 78000, 56000),
    ("SRV-GPU", "GPU 服务器", "服务器", "台", "13", 260000, 205000),
    ("STO-10", "存储阵列 10TB", "服务器", "台", "13", 36000, 24000),
    ("NET-SW24", "24 口交换机", "网络设备", "台", "13", 6800, 4200),
    ("NET-SW48", "48 口交换机", "网络设备", "台", "13", 12800, 8200),
    ("NET-FW", "下一代防火墙", "网络设备", "台", "13", 52000, 33000),
    ("NET-AP", "无线接入点", "网络设备", "个", "13", 1600, 900),
    ("SVC-IMP", "实施服务", "服务", "人天", "6", 2500, 1200),
    ("SVC-TRN", "培训服务", "服务", "人天", "6", 2000, 800),
    ("SVC-SUP", "年度技术支持", "服务", "年", "6", 30000, 9000),
    ("SVC-CON", "咨询服务", "服务", "人天", "6", 3500, 1500),
]

USD_RATE = Decimal("7.1500")

# (name, provinces, cities, industry values). The demo accounts carry an industry but no
# province, so the demo territories go by industry.
TERRITORIES = [
    ("科技与互联网", [], [], ["it", "finance"]),
    ("制造与建筑", [], [], ["manufacturing", "construction", "logistics"]),
]

COMPETITORS = [
    ("用友", "本地化好，渠道多", "实施周期长"),
    ("金蝶", "中小企业口碑好", "大型项目经验少"),
    ("SAP", "品牌强，功能全面", "价格高，定制难"),
    ("Salesforce", "生态完整", "本地化与数据合规"),
    ("纷享销客", "移动端体验好", "复杂流程支持弱"),
]

PROJECT_PIPELINE = ("项目型销售", "Project sales")
PROJECT_STAGES = [
    # (zh, en, probability, kind, required to leave, expected days)
    ("立项", "Initiation", 10, "open", [], 30),
    ("方案设计", "Solution design", 30, "open", ["expected_close_date"], 45),
    ("招投标", "Tender", 50, "open", ["amount", "contacts"], 30),
    ("商务谈判", "Commercial negotiation", 80, "open", ["amount"], 30),
    ("赢单", "Won", 100, "won", [], None),
    ("输单", "Lost", 0, "lost", [], None),
]

NEXT_STEPS = ["安排产品演示", "提交方案", "约见决策人", "发送报价", "技术交流", "商务谈判", ""]
DEAL_WORDS = [
    "ERP 升级",
    "CRM 项目",
    "数据中心扩容",
    "网络改造",
    "信息化建设",
    "年度采购",
    "云迁移",
]


def _say(verbosity: int, message: str) -> None:
    if verbosity >= 1:
        sys.stdout.write(message + "\n")


def _administrator():
    from guanxi.core.models import User
    from guanxi.core.scope import is_administrator

    for user in User.objects.filter(is_active=True).order_by("-is_superuser", "pk"):
        if is_administrator(user):
            return user
    return None


# --- catalogue ---------------------------------------------------------------------------------
def _catalogue(actor) -> dict:
    from guanxi.sales.models import PriceBook, PriceBookEntry, Product, ProductCategory
    from guanxi.sales.services import catalogue as services

    categories: dict[str, ProductCategory] = {}
    for order, (zh, en, parent) in enumerate(CATEGORIES):
        category = ProductCategory.objects.filter(name_zh=zh).first()
        if category is None:
            category = services.product_category_save(
                actor=actor,
                data={
                    "name_zh": zh,
                    "name_en": en,
                    "parent": categories.get(parent),
                    "sort_order": order,
                },
            )
        categories[zh] = category
    existing = {product.code: product for product in Product.objects.all()}
    products = {}
    for code, name, category, unit, tax, _price, cost in PRODUCTS:
        products[code] = existing.get(code) or services.product_create(
            actor=actor,
            data={
                "code": code,
                "name": name,
                "category": categories[category],
                "unit": unit,
                "tax_rate": Decimal(tax),
                "cost": Decimal(cost),
            },
        )
    cny = PriceBook.objects.filter(currency="CNY", is_default=True).first()
    if cny is None:
        cny = services.price_book_save(
            actor=actor, data={"name": "标准价格表", "currency": "CNY", "is_default": True}
        )
    usd = PriceBook.objects.filter(currency="USD").order_by("pk").first()
    if usd is None:
        usd = services.price_book_save(
            actor=actor, data={"name": "Standard (USD)", "currency": "USD", "is_default": True}
        )
    for book, divisor in ((cny, Decimal(1)), (usd, USD_RATE)):
        if PriceBookEntry.objects.filter(price_book=book).exists():
            continue
        prices = {}
        for code, *_rest, price, _cost in PRODUCTS:
            unit = (Decimal(price) / divisor).quantize(Decimal("1"))
            # Volume tiers: 5% off from 10, 10% off from 50.
            prices[products[code]] = [
                (1, unit),
                (10, (unit * Decimal("0.95")).quantize(Decimal("1"))),
                (50, (unit * Decimal("0.90")).quantize(Decimal("1"))),
            ]
        services.price_book_prices_set(actor=actor, price_book=book, prices=prices)
    return {"products": products, "books": {"CNY": cny, "USD": usd}}


def _exchange_rate(admin) -> None:
    from guanxi.sales.models import ExchangeRate
    from guanxi.sales.services import catalogue as services

    valid_from = datetime.date(datetime.date.today().year - 2, 1, 1)
    if ExchangeRate.objects.filter(currency="USD").exists():
        return
    if admin is not None:
        services.exchange_rate_save(
            actor=admin, data={"currency": "USD", "rate": USD_RATE, "valid_from": valid_from}
        )
    else:
        ExchangeRate.objects.create(currency="USD", rate=USD_RATE, valid_from=valid_from)


def _territories(admin, demo) -> None:
    from guanxi.core.models import PicklistOption
    from guanxi.customers.models import Account
    from guanxi.sales.models import Territory
    from guanxi.sales.services import catalogue as services

    if Territory.objects.exists():
        return
    teams = {
        "科技与互联网": ["sales.rep1", "sales.rep2", "david.chen"],
        "制造与建筑": ["sales.rep3", "zhang.wei", "emily.zhao"],
    }
    for order, (name, provinces, cities, values) in enumerate(TERRITORIES, start=1):
        users = [demo.users[u] for u in teams.get(name, []) if u in demo.users]
        industries = list(
            PicklistOption.objects.filter(picklist__code="industry", value__in=values)
        )
        data = {"name": name, "provinces": provinces, "cities": cities}
        if admin is not None:
            services.territory_save(actor=admin, data=data, industries=industries, users=users)
        else:  # no administrator yet (a bare demo load): the rows alone
            territory = Territory.objects.create(sort_order=order, **data)
            territory.users.set(users)
            territory.industries.set(industries)
    services.accounts_territory_assign(accounts=list(Account.all_objects.only("pk")))


def _project_pipeline():
    from guanxi.sales.models import Pipeline, Stage

    zh, en = PROJECT_PIPELINE
    pipeline = Pipeline.objects.filter(name_zh=zh).first()
    if pipeline is not None:
        return pipeline
    pipeline = Pipeline.objects.create(name_zh=zh, name_en=en, sort_order=10)
    for order, (szh, sen, probability, kind, required, days) in enumerate(PROJECT_STAGES):
        Stage.objects.create(
            pipeline=pipeline,
            name_zh=szh,
            name_en=sen,
            sort_order=order,
            probability=probability,
            kind=kind,
            required_fields=required,
            max_days=days,
        )
    return pipeline


def _competitors(admin) -> list:
    from guanxi.sales.models import Competitor

    found = []
    for name, strengths, weaknesses in COMPETITORS:
        competitor, _created = Competitor.objects.get_or_create(
            name=name, defaults={"strengths": strengths, "weaknesses": weaknesses}
        )
        found.append(competitor)
    return found


# --- opportunities -----------------------------------------------------------------------------
def _aware(day: datetime.date, hour: int = 10):
    from django.utils import timezone

    return timezone.make_aware(datetime.datetime.combine(day, datetime.time(hour)))


def _backdate(opportunity, *, created: datetime.date, closed: datetime.date | None) -> None:
    """Spread the stage history between `created` and `closed` (or today) and move the
    record's own dates with it."""
    from guanxi.sales.models import Opportunity, StageHistory

    today = datetime.date.today()
    end = closed or today
    rows = list(StageHistory.objects.filter(opportunity=opportunity).order_by("entered_at", "id"))
    span = max((end - created).days, len(rows))
    step = span // max(len(rows), 1)
    moments = [_aware(created + datetime.timedelta(days=step * i)) for i in range(len(rows))]
    if closed is not None and rows:
        moments[-1] = _aware(closed, 16)
    for index, row in enumerate(rows):
        left = moments[index + 1] if index + 1 < len(rows) else None
        StageHistory.objects.filter(pk=row.pk).update(entered_at=moments[index], left_at=left)
    fields = {
        "created_at": _aware(created, 9),
        "stage_entered_at": moments[-1] if moments else _aware(created),
    }
    if closed is not None:
        fields.update(closed_at=_aware(closed, 16), close_date=closed)
    Opportunity.all_objects.filter(pk=opportunity.pk).update(**fields)


def _opportunities(demo, verbosity: int, catalogue: dict, competitors: list) -> int:
    from django.db.models import Q

    from guanxi.core.models import PicklistOption
    from guanxi.customers.models import Account, AccountContact
    from guanxi.sales.models import Opportunity, Pipeline, StageKind
    from guanxi.sales.services import catalogue as catalogue_services
    from guanxi.sales.services import opportunities as services

    if Opportunity.all_objects.exists():
        return 0
    owners = [demo.users[name] for name in OWNERS if name in demo.users]
    if not owners:
        return 0
    rng = demo.rng
    accounts_by_owner: dict[int, list] = {}
    accounts = demo.accounts or list(Account.objects.filter(owner__in=owners))
    for account in accounts:
        accounts_by_owner.setdefault(account.owner_id, []).append(account)
    all_accounts = [a for a in accounts if a.owner_id]
    if not all_accounts:
        return 0
    contacts: dict[int, list] = {}
    for link in AccountContact.objects.filter(
        account_id__in=[a.pk for a in all_accounts]
    ).select_related("contact"):
        contacts.setdefault(link.account_id, []).append(link.contact)
    roles = list(PicklistOption.objects.filter(picklist__code="contact_role", is_active=True))
    reasons = list(PicklistOption.objects.filter(picklist__code="lost_reason", is_active=True))
    sources = list(
        PicklistOption.objects.filter(Q(picklist__code="lead_source"), is_active=True).exclude(
            value="import"
        )
    )
    standard = Pipeline.objects.filter(is_default=True).first()
    project = _project_pipeline()
    products = list(catalogue["products"].values())
    today = datetime.date.today()
    made = 0
    for number in range(OPPORTUNITY_COUNT):
        owner = rng.choice(owners)
        pool = accounts_by_owner.get(owner.pk) or all_accounts
        account = rng.choice(pool)
        owner = account.owner if account.owner_id else owner
        pipeline = project if number % 5 == 4 else standard
        stages = list(pipeline.stages.order_by("sort_order", "id"))
        open_stages = [s for s in stages if s.kind == StageKind.OPEN]
        age = rng.randint(0, HISTORY_DAYS)
        created = today - datetime.timedelta(days=age)
        currency = "USD" if number % 20 == 7 else "CNY"
        amount = Decimal(rng.randrange(20, 1500) * 1000)
        if currency == "USD":
            amount = (amount / USD_RATE).quantize(Decimal("1"))
        expected = created + datetime.timedelta(days=rng.randint(30, 180))
        # Older deals are mostly decided; recent ones mostly open.
        roll = rng.random()
        if age > 150:
            outcome = "won" if roll < 0.45 else "lost" if roll < 0.85 else "open"
        elif age > 45:
            outcome = "won" if roll < 0.2 else "lost" if roll < 0.35 else "open"
        else:
            outcome = "open"
        has_contacts = bool(contacts.get(account.pk))
        target = rng.randrange(len(open_stages))
        if not has_contacts:
            # Without a contact a deal cannot leave the stage that asks for one.
            limit = next(
                (i for i, s in enumerate(open_stages) if "contacts" in (s.required_fields or [])),
                len(open_stages) - 1,
            )
            target = min(target, limit)
            if outcome == "won" and limit < len(open_stages) - 1:
                outcome = "lost"
        if expected < today and outcome == "open":
            expected = today + datetime.timedelta(days=rng.randint(7, 90))
        data = {
            "name": f"{account.name[:40]} {rng.choice(DEAL_WORDS)}",
            "account": account,
            "pipeline": pipeline,
            "amount": amount,
            "currency": currency,
            "expected_close_date": expected,
            "next_step": rng.choice(NEXT_STEPS),
            "owner": owner,
            "department_id": owner.department_id,
            "forecast_commit": rng.random() < 0.1,
        }
        if sources and rng.random() < 0.7:
            data["source"] = rng.choice(sources)
        opportunity = services.opportunity_create(actor=owner, data=data)
        catalogue_services.opportunity_territory_assign(opportunity=opportunity)
        if rng.random() < 0.4:
            picked = rng.sample(products, rng.randint(1, 3))
            lines = [
                {
                    "product": product,
                    "quantity": Decimal(rng.choice([1, 1, 2, 5, 10, 20, 60])),
                    "discount_percent": Decimal(rng.choice([0, 0, 5, 10])),
                }
                for product in picked
            ]
            services.opportunity_lines_set(opportunity=opportunity, actor=owner, lines=lines)
        if has_contacts:
            for position, contact in enumerate(contacts[account.pk][:3]):
                services.opportunity_contact_set(
                    opportunity=opportunity,
                    actor=owner,
                    contact=contact,
                    role=rng.choice(roles) if roles else None,
                    attitude=rng.choice(["supporter", "supporter", "neutral", "opponent"]),
                    influence=rng.choice(["low", "medium", "high"]),
                    is_primary=position == 0,
                )
        rivals = rng.sample(competitors, rng.randint(0, 2)) if competitors else []
        for competitor in rivals:
            services.opportunity_competitor_set(
                opportunity=opportunity, actor=owner, competitor=competitor
            )
        if rng.random() < 0.1:
            partner = rng.choice([u for u in owners if u.pk != owner.pk] or owners)
            if partner.pk != owner.pk:
                services.opportunity_splits_set(
                    opportunity=opportunity,
                    actor=owner,
                    splits=[
                        {"user": owner, "percent": Decimal(70)},
                        {"user": partner, "percent": Decimal(30)},
                    ],
                )
        last = target if outcome == "open" else len(open_stages) - 1
        if outcome == "lost":
            last = rng.randrange(len(open_stages)) if has_contacts else target
        for stage in open_stages[1 : last + 1]:
            opportunity.refresh_from_db()
            services.opportunity_move(opportunity=opportunity, actor=owner, stage=stage)
        closed = None
        if outcome != "open":
            closed = min(created + datetime.timedelta(days=rng.randint(20, 150)), today)
            opportunity.refresh_from_db()
            if outcome == "won":
                services.opportunity_win(opportunity=opportunity, actor=owner, note="")
            else:
                winner = rivals[0] if rivals and rng.random() < 0.7 else None
                services.opportunity_lose(
                    opportunity=opportunity,
                    actor=owner,
                    reason=rng.choice(reasons),
                    winner=winner,
                    note="",
                )
        _backdate(opportunity, created=created, closed=closed)
        made += 1
    _say(verbosity, f"Demo sales: {made} opportunities.")
    return made


# --- targets -----------------------------------------------------------------------------------
def _targets(admin, demo) -> None:
    from guanxi.sales.models import SalesTarget

    year = datetime.date.today().year
    if SalesTarget.objects.filter(year=year).exists():
        return
    reps = {name: demo.users[name] for name in OWNERS if name in demo.users}
    departments = {
        name: demo.departments[name]
        for name in ("华东销售部", "华北销售部")
        if name in demo.departments
    }
    # Monthly shares: a slow start of the year, a strong end.
    weights = [5, 6, 8, 8, 8, 9, 8, 8, 9, 9, 10, 12]
    scale = Decimal(sum(weights))

    def monthly(total: Decimal):
        return [(total * w / scale).quantize(Decimal("1")) for w in weights]

    rows = []
    per_rep = Decimal(6_000_000)
    for user in reps.values():
        rows.append({"level": "user", "user": user, "amount": per_rep, "month": 0})
        rows += [
            {"level": "user", "user": user, "amount": value, "month": month}
            for month, value in enumerate(monthly(per_rep), start=1)
        ]
    for department in departments.values():
        members = [u for u in reps.values() if u.department_id == department.pk]
        total = per_rep * max(len(members), 1)
        rows.append({"level": "department", "department": department, "amount": total, "month": 0})
        rows += [
            {"level": "department", "department": department, "amount": value, "month": month}
            for month, value in enumerate(monthly(total), start=1)
        ]
    company = per_rep * len(reps) * Decimal("1.1")
    rows.append({"level": "company", "amount": company, "month": 0})
    rows += [
        {"level": "company", "amount": value, "month": month}
        for month, value in enumerate(monthly(company), start=1)
    ]
    try:
        from guanxi.sales.services.forecast import target_set
    except ImportError:  # the forecast module has not landed
        target_set = None
    for row in rows:
        if target_set is not None and admin is not None:
            target_set(actor=admin, year=year, **row)
        else:
            SalesTarget.objects.create(year=year, metric="sales", **row)


def load_demo_data(*, demo, verbosity: int = 1) -> None:
    from django.db import transaction

    admin = _administrator()
    actor = admin or demo.users.get("huang.jun") or demo.users.get("sales.manager")
    if actor is None:
        return
    with transaction.atomic():
        _exchange_rate(admin)
        catalogue = _catalogue(actor)
        competitors = _competitors(admin)
        _territories(admin, demo)
        _opportunities(demo, verbosity, catalogue, competitors)
        _targets(admin, demo)
