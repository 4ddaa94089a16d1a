"""The sales pipeline of the benchmark dataset: a product catalogue, the default price book,
two sales processes, opportunities (DESIGN.md: 500,000 for L's 1,000,000 accounts, so half an
opportunity per account) with everything the opportunity services keep, and this year's
targets.

- catalogue: a category tree (6 product lines, ~30 sub-categories, a few third-level ones)
  and PRODUCTS products with unit, tax rate and cost; the default CNY price book from
  migration 0002 gets a price per product in three quantity tiers (1, 10, 50); a USD
  exchange rate; a dozen competitors;
- pipelines: the default "标准销售流程" of migration 0002 and a second "项目型销售" (used by a
  quarter of the sales departments and the solutions product line); a quarter of the deals
  run in it;
- opportunities: on about 30% of the accounts (active customers have several deals), created
  evenly over the dataset's two years (ids in creation order), owner and department the
  account's, ~40% closed (won or lost, with a lost reason, a note and often the winning
  competitor), the open ones spread over the open stages with expected close dates around
  and after the dataset's "now"; 0-3 product lines priced from the price book (the amount is
  then their sum, `amount_from_lines`), 0-3 of the account's contacts with role, attitude
  and influence (the first one primary), competitors with their status, a few credit splits
  with the colleague on the deal's team. Every stage the deal left has its exit criteria
  (`required_fields`) satisfied, as `opportunity_move` / `opportunity_win` demand;
  `probability`, `amount_company`, `stage_entered_at`, `is_closed` / `is_won` /
  `closed_at` / `close_date` / `lost_reason` / `winner`, `furthest_stage` /
  `closed_from_stage` and `version` are what the services leave behind, and the stage
  history has one stay per stage (entered_at / left_at, the open stay last);
- with them: the "created" / "stage changed" / "won" / "lost" timeline entries, the CREATE
  history entries (unless --no-history) and the search entries (opportunities are
  registered for search);
- targets (业绩目标) for the year of the dataset's "now": per rep from their won amount of
  the year before (+10-35%), per department (and region, and the root) the sum of its
  people, and the company, each for the year and its twelve months; the forecast settings
  (commit from 70%, best case from 40%).

Rows are written with `executemany` and explicit ids (`bench.gen_activities.Table`).
`python -m bench generate --add sales` adds all this to a dataset generated before (the
accounts, their contacts and owners are read from the database).
"""

from __future__ import annotations

import datetime
import time
from array import array
from decimal import ROUND_HALF_UP, Decimal
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from bench.generate import GenContext

OPPORTUNITIES_PER_ACCOUNT = 0.5  # DESIGN.md: 500,000 opportunities for 1,000,000 accounts
ACTIVE_ACCOUNT_SHARE = 0.3  # accounts that ever get an opportunity
PROJECT_PIPELINE_SHARE = 0.25
CLOSE_SHARE = 0.47  # of the deals whose sales cycle is over: about 40% closed in all
WIN_SHARE = 0.42
USD_SHARE = 0.04
SPLIT_SHARE = 0.04
PRODUCTS = 300
USD_RATE = Decimal("7.1500")
CENT = Decimal("0.01")

# (zh, en, children: (zh, en, grandchildren))
CATEGORY_TREE = [
    ("软件", "Software", [
        ("ERP", "ERP", ["财务模块", "供应链模块", "生产模块"]), ("CRM", "CRM", []),
        ("办公协同", "Collaboration", []), ("数据分析", "Analytics", []),
        ("安全软件", "Security software", []),
    ]),
    ("硬件", "Hardware", [
        ("服务器", "Servers", ["机架服务器", "GPU 服务器"]), ("存储", "Storage", []),
        ("网络设备", "Networking", ["交换机", "防火墙", "无线"]), ("终端", "Devices", []),
    ]),
    ("云服务", "Cloud", [
        ("云主机", "Cloud servers", []), ("对象存储", "Object storage", []),
        ("数据库服务", "Database services", []), ("CDN", "CDN", []),
    ]),
    ("服务", "Services", [
        ("实施服务", "Implementation", []), ("培训服务", "Training", []),
        ("技术支持", "Support", []), ("咨询服务", "Consulting", []),
    ]),
    ("耗材", "Supplies", [
        ("打印耗材", "Printing supplies", []), ("线缆配件", "Cables and parts", []),
    ]),
    ("解决方案", "Solutions", [
        ("智能制造", "Smart manufacturing", []), ("智慧园区", "Smart campus", []),
        ("数字营销", "Digital marketing", []),
    ]),
]  # fmt: skip
SERVICE_LINES = {"服务", "云服务", "解决方案"}  # 6% VAT, billed per year / day
UNITS = {"软件": "套", "硬件": "台", "云服务": "年", "服务": "人天", "耗材": "件", "解决方案": "项"}
EDITIONS = ["标准版", "专业版", "企业版", "旗舰版", "基础版", "增强版", "Lite", "Pro", "Max"]

PROJECT_PIPELINE = ("项目型销售", "Project sales")
COMPETITORS = [
    ("用友", "本地化好，渠道多", "实施周期长"),
    ("金蝶", "中小企业口碑好", "大型项目经验少"),
    ("SAP", "品牌强，功能全面", "价格高，定制难"),
    ("Oracle", "数据库与套件一体", "许可贵"),
    ("Salesforce", "生态完整", "本地化与数据合规"),
    ("纷享销客", "移动端体验好", "复杂流程支持弱"),
    ("华为", "硬件与云一体", "软件生态弱"),
    ("浪潮", "政企关系好", "产品线分散"),
    ("新华三", "网络设备强", "软件较弱"),
    ("阿里云", "云服务规模大", "私有化部署少"),
    ("腾讯云", "生态流量大", "行业方案少"),
    ("本地集成商", "价格低，响应快", "交付质量不稳"),
]
DEAL_WORDS = [
    "ERP 升级", "CRM 项目", "数据中心扩容", "网络改造", "信息化建设", "年度采购", "云迁移",
    "安全加固", "办公协同平台", "数据分析平台", "智能工厂", "园区网络", "终端更新",
    "备份容灾", "年度技术支持", "培训项目", "咨询项目", "营销系统",
]  # fmt: skip
NEXT_STEPS = ["安排产品演示", "提交方案", "约见决策人", "发送报价", "技术交流", "商务谈判", ""]
CLOSE_NOTES = {
    True: ["客户签约，下月回款", "竞品价格更高，我们胜出", "决策人认可方案", ""],
    False: ["客户选择了更便宜的方案", "预算被砍", "项目暂停", "决策链没有打通", ""],
}
# Where open deals stand and where lost deals were lost (by open stage, first to last).
OPEN_STAGE_WEIGHTS = [40, 28, 18, 14]
LOST_STAGE_WEIGHTS = [35, 30, 20, 15]
LOST_REASON_WEIGHTS = {
    "price": 30,
    "competitor": 25,
    "no_budget": 15,
    "no_decision": 12,
    "product_fit": 8,
    "relationship": 6,
    "other": 4,
}
ATTITUDES = (["supporter", "neutral", "opponent"], [45, 40, 15])
INFLUENCES = (["low", "medium", "high"], [25, 45, 30])
# Targets: the month's share of the year (Q4 heavy, Chinese New Year light).
SEASON = [6, 5, 8, 8, 8, 8, 8, 8, 9, 9, 10, 13]


def _log_uniform(rng, low: float, high: float) -> float:
    import math

    return math.exp(rng.uniform(math.log(low), math.log(high)))


def _money(value) -> Decimal:
    return Decimal(value).quantize(CENT, ROUND_HALF_UP)


# --- catalogue, pipelines, competitors -------------------------------------------------------
def build_catalogue(ctx: GenContext, rng) -> dict[str, Any]:
    """Categories, products, the default CNY price book's entries, the USD rate, the second
    pipeline and the competitors (bulk, small)."""
    from django.db import transaction

    from bench.generate import explicit_timestamps
    from guanxi.core.models import Department
    from guanxi.sales.models import (
        ExchangeRate,
        PriceBook,
        PriceBookEntry,
        Product,
        ProductCategory,
    )

    created = ctx.start - datetime.timedelta(days=20)
    with transaction.atomic(), explicit_timestamps(Product):
        # The tree, level by level (parents need their ids).
        tops = ProductCategory.objects.bulk_create(
            [
                ProductCategory(name_zh=zh, name_en=en, sort_order=i)
                for i, (zh, en, _children) in enumerate(CATEGORY_TREE)
            ]
        )
        children, grand_specs = [], []
        for top, (_zh, _en, kids) in zip(tops, CATEGORY_TREE, strict=True):
            for j, (zh, en, grand) in enumerate(kids):
                children.append(ProductCategory(name_zh=zh, name_en=en, parent=top, sort_order=j))
                grand_specs.append(grand)
        ProductCategory.objects.bulk_create(children)
        grandchildren = []
        for child, grand in zip(children, grand_specs, strict=True):
            grandchildren += [
                ProductCategory(name_zh=zh, name_en="", parent=child, sort_order=k)
                for k, zh in enumerate(grand)
            ]
        ProductCategory.objects.bulk_create(grandchildren)
        ctx.count("sales_productcategory", len(tops) + len(children) + len(grandchildren))
        # Products on the leaves, each with its product line (the top category).
        top_of = {top.pk: top for top in tops}
        leaves = [c for c, g in zip(children, grand_specs, strict=True) if not g] + grandchildren
        parent_of = {c.pk: c.parent_id for c in children}
        products = []
        for i in range(PRODUCTS):
            leaf = leaves[i % len(leaves)]
            top_id = parent_of.get(leaf.parent_id, leaf.parent_id)
            line = top_of[top_id].name_zh
            price = Decimal(round(_log_uniform(rng, 300, 400_000), -1 if i % 3 else -2))
            products.append(
                Product(
                    code=f"P{top_id:02d}-{i + 1:04d}",
                    name=f"{leaf.name_zh} {rng.choice(EDITIONS)} V{rng.randint(1, 9)}",
                    category=leaf,
                    unit=UNITS.get(line, "件"),
                    tax_rate=Decimal("6.00") if line in SERVICE_LINES else Decimal("13.00"),
                    cost=_money(price * Decimal(rng.uniform(0.35, 0.75))),
                    description="",
                    created_at=created,
                    updated_at=created,
                )
            )
            products[-1]._list_price = price
        Product.objects.bulk_create(products)
        ctx.count("sales_product", len(products))
        book = PriceBook.objects.filter(currency="CNY", is_default=True).first()
        if book is None:  # as migration 0002 leaves it
            book = PriceBook.objects.create(name="标准价格表", currency="CNY", is_default=True)
        tiers = ((Decimal("1"), Decimal("1")), (Decimal("10"), Decimal("0.95")),
                 (Decimal("50"), Decimal("0.90")))  # fmt: skip
        entries = [
            PriceBookEntry(
                price_book=book,
                product=product,
                min_quantity=quantity,
                unit_price=_money(product._list_price * factor),
            )
            for product in products
            for quantity, factor in tiers
        ]
        PriceBookEntry.objects.bulk_create(entries)
        ctx.count("sales_pricebookentry", len(entries))
        if not ExchangeRate.objects.filter(currency="USD").exists():
            ExchangeRate.objects.create(
                currency="USD", rate=USD_RATE, valid_from=(ctx.start - datetime.timedelta(days=60))
            )
            ctx.count("sales_exchangerate", 1)
        sales_departments = list(
            Department.objects.filter(name__contains="销售")
            .order_by("pk")
            .values_list("pk", flat=True)
        )
        project = _project_pipeline(sales_departments[::4], tops[-1])
        competitors = _competitors()
    usd_book = PriceBook.objects.filter(currency="USD", is_default=True, is_active=True).first()
    prices: dict[int, list[tuple[Decimal, Decimal]]] = {}
    for entry in entries:
        prices.setdefault(entry.product_id, []).append((entry.min_quantity, entry.unit_price))
    return {
        "products": [p.pk for p in products],
        "prices": prices,
        "book": book.pk,
        "usd_book": usd_book.pk if usd_book else None,
        "project": project,
        "competitors": competitors,
    }


def _project_pipeline(department_ids: list[int], solutions):
    """The second sales process (as an administrator would set it up), with its stages."""
    from guanxi.sales.demo import PROJECT_STAGES
    from guanxi.sales.models import Pipeline, Stage

    zh, en = PROJECT_PIPELINE
    pipeline = Pipeline.objects.filter(name_zh=zh).first()
    if pipeline is None:
        pipeline = Pipeline.objects.create(name_zh=zh, name_en=en, sort_order=1)
        Stage.objects.bulk_create(
            [
                Stage(
                    pipeline=pipeline,
                    name_zh=s_zh,
                    name_en=s_en,
                    sort_order=order,
                    probability=probability,
                    kind=kind,
                    required_fields=required,
                    max_days=days,
                )
                for order, (s_zh, s_en, probability, kind, required, days) in enumerate(
                    PROJECT_STAGES
                )
            ]
        )
    pipeline.departments.set(department_ids)
    pipeline.product_categories.set([solutions])
    return pipeline


def _competitors() -> list[int]:
    from guanxi.sales.models import Competitor

    ids = []
    for name, strengths, weaknesses in COMPETITORS:
        competitor, _created = Competitor.objects.get_or_create(
            name=name, defaults={"strengths": strengths, "weaknesses": weaknesses}
        )
        ids.append(competitor.pk)
    return ids


class _Process:
    """A pipeline's stages as the generator walks them."""

    def __init__(self, pipeline):
        from guanxi.sales.models import StageKind

        stages = list(pipeline.stages.order_by("sort_order", "id"))
        self.pipeline = pipeline
        self.open = [s for s in stages if s.kind == StageKind.OPEN]
        self.won = next(s for s in stages if s.kind == StageKind.WON)
        self.lost = next(s for s in stages if s.kind == StageKind.LOST)


# --- opportunities ---------------------------------------------------------------------------
class _Tokens:
    """Search documents as `SearchRegistration.document_of` builds them, from memoised
    per-text token lists (a document is its texts' tokens in order, without repeats)."""

    def __init__(self):
        self.memo: dict[str, list[str]] = {}

    def of(self, text: str) -> list[str]:
        found = self.memo.get(text)
        if found is None:
            from guanxi.core.search.text import DocumentBuilder

            builder = DocumentBuilder()
            builder.add_text(text)
            found = self.memo[text] = list(builder._tokens)
        return found

    def document(self, *texts: str) -> str:
        seen: dict[str, None] = {}
        for text in texts:
            for token in self.of(text):
                seen.setdefault(token, None)
        return " ".join(seen)


class _Named:
    """Stands in for a related record in a Row (the search registration reads `.name`)."""

    __slots__ = ("name",)

    def __init__(self, name: str):
        self.name = name

    def __str__(self) -> str:
        return self.name


def _price(tiers: list[tuple[Decimal, Decimal]], quantity: Decimal) -> Decimal:
    """price_for: the highest tier the quantity reaches."""
    price = tiers[0][1]
    for minimum, unit_price in tiers:
        if quantity >= minimum:
            price = unit_price
    return price


def build_sales(ctx: GenContext) -> None:
    from django.contrib.contenttypes.models import ContentType
    from django.db import transaction
    from django.utils import timezone, translation
    from django.utils.translation import gettext

    from bench.gen_activities import Table
    from guanxi.core.models import (
        ChangeAction,
        ChangeRecord,
        PicklistOption,
        SearchEntry,
        ShareAccess,
        TeamMember,
        TimelineEntry,
    )
    from guanxi.core.search.registry import registration_for
    from guanxi.customers.models import Account, AccountContact
    from guanxi.leads.models import LEAD_SOURCE_PICKLIST
    from guanxi.sales.models import (
        LOST_REASON_PICKLIST,
        ForecastSettings,
        Opportunity,
        OpportunityCompetitor,
        OpportunityContact,
        OpportunityLine,
        OpportunitySplit,
        StageHistory,
    )
    from guanxi.sales.services.opportunities import default_pipeline, line_total

    if Opportunity.all_objects.exists():
        raise RuntimeError("The dataset already has opportunities: generate into a new one.")
    if not ctx.account_ids:  # `--add sales`: the accounts come from the database
        from bench.generate import customers_from_database

        customers_from_database(ctx)
    total_accounts = len(ctx.account_ids)
    total = round(total_accounts * OPPORTUNITIES_PER_ACCOUNT)
    if not total:
        return
    rng = ctx.rng("sales")
    catalogue = build_catalogue(ctx, rng)
    processes = [_Process(default_pipeline()), _Process(catalogue["project"])]
    ForecastSettings.objects.update_or_create(
        pk=1, defaults={"commit_probability": 70, "best_case_probability": 40}
    )
    options = {
        code: dict(
            PicklistOption.objects.filter(picklist__code=code, is_active=True)
            .order_by("sort_order", "pk")
            .values_list("value", "pk")
        )
        for code in (LOST_REASON_PICKLIST, LEAD_SOURCE_PICKLIST, "contact_role")
    }
    reasons = list(options[LOST_REASON_PICKLIST].items())
    reason_weights = [LOST_REASON_WEIGHTS.get(value, 5) for value, _pk in reasons]
    sources = list(options[LEAD_SOURCE_PICKLIST].values())
    roles = list(options["contact_role"].values()) or [None]
    competitors = catalogue["competitors"]
    products, prices = catalogue["products"], catalogue["prices"]

    tables = {
        "opportunity": Table(Opportunity, ids=True),
        "line": Table(OpportunityLine),
        "contact": Table(OpportunityContact),
        "competitor": Table(OpportunityCompetitor),
        "split": Table(OpportunitySplit),
        "stage": Table(StageHistory),
        "team": Table(TeamMember),
        "search": Table(SearchEntry),
        "timeline": Table(TimelineEntry),
        "history": Table(ChangeRecord),
    }
    opportunity_type = ContentType.objects.get_for_model(Opportunity).pk
    registration = registration_for(Opportunity)
    tokens = _Tokens()
    tz = timezone.get_default_timezone()
    start = ctx.start
    span = datetime.timedelta(days=730)
    now = start + span  # the dataset's "now": `until`
    hour, day = datetime.timedelta(hours=1), datetime.timedelta(days=1)
    # Active accounts (in id order, i.e. creation order): the ones that get deals.
    active = array("q", (pk for pk in ctx.account_ids if rng.random() < ACTIVE_ACCOUNT_SHARE))
    if not active:
        active = array("q", ctx.account_ids[:1])
    # Colleagues for credit splits: the owner's department's other owners.
    by_department: dict[int | None, list[int]] = {}
    for owner in sorted(set(ctx.org.owner_ids)):
        by_department.setdefault(ctx.org.user_department.get(owner), []).append(owner)
    with translation.override("zh-hans"):
        texts = {
            "created": gettext("Opportunity %(name)s created in stage %(stage)s."),
            "stage": gettext("Stage changed from %(old)s to %(new)s."),
            "won": gettext("Won %(name)s (%(amount)s %(currency)s)."),
            "lost": gettext("Lost %(name)s at stage %(stage)s: %(reason)s."),
        }
        stage_names = {
            stage.pk: str(stage)
            for process in processes
            for stage in (*process.open, process.won, process.lost)
        }
        reason_labels = dict(
            PicklistOption.objects.filter(picklist__code=LOST_REASON_PICKLIST).values_list(
                "pk", "label_zh"
            )
        )
    stage_objects = {
        stage.pk: stage
        for process in processes
        for stage in (*process.open, process.won, process.lost)
    }
    wall_clock = timezone.now()
    done = 0
    while done < total:
        batch_started = time.perf_counter()
        n = min(ctx.batch_size, total - done)
        # Creation times evenly over the two years; each on an active account that existed.
        specs = []
        for k in range(done, done + n):
            created = start + span * ((k + rng.random()) / total)
            reach = max(1, int(len(active) * (k + 1) / total))
            specs.append((created, active[rng.randrange(reach)]))
        account_ids = sorted({account_id for _created, account_id in specs})
        accounts = {
            pk: (name, owner, department, account_created)
            for pk, name, owner, department, account_created in Account.all_objects.filter(
                pk__in=account_ids
            ).values_list("pk", "name", "owner_id", "department_id", "created_at")
        }
        contacts: dict[int, list[int]] = {}
        for account_id, contact_id in (
            AccountContact.all_objects.filter(account_id__in=account_ids, is_deleted=False)
            .order_by("pk")
            .values_list("account_id", "contact_id")
        ):
            contacts.setdefault(account_id, []).append(contact_id)
        planned = []
        for created, account_id in specs:
            name, owner, department, account_created = accounts[account_id]
            if created <= account_created:
                created = min(account_created + hour * rng.randint(1, 72), now - hour)
            planned.append((created, account_id))
        planned.sort()
        rows: dict[str, list] = {name: [] for name in tables}
        for created, account_id in planned:
            account_name, owner, account_department, _account_created = accounts[account_id]
            if owner is None:
                owner = rng.choices(ctx.org.owner_ids, cum_weights=ctx.org.owner_cum_weights)[0]
            department = ctx.org.user_department.get(owner, account_department)
            process = processes[1] if rng.random() < PROJECT_PIPELINE_SHARE else processes[0]
            stages = process.open
            # Fate: open at a stage, or closed (won from the last open stage, lost at one).
            cycle = day * _log_uniform(rng, 14, 300)
            closed = created + cycle < now - hour and rng.random() < CLOSE_SHARE
            won = closed and rng.random() < WIN_SHARE
            if won:
                reached = len(stages) - 1
            else:
                weights = LOST_STAGE_WEIGHTS if closed else OPEN_STAGE_WEIGHTS
                reached = rng.choices(range(len(stages)), weights=weights[: len(stages)])[0]
            # Exit criteria of every stage left (moves forward, and the win).
            left = stages[: reached + 1] if won else stages[:reached]
            required = {name for stage in left for name in (stage.required_fields or [])}
            account_contacts = contacts.get(account_id, [])
            if "contacts" in required and not account_contacts:
                # No contact to name: the deal stays (or was lost) before that stage.
                blocked = next(
                    i for i, s in enumerate(stages) if "contacts" in (s.required_fields or [])
                )
                won, reached = False, blocked
                left = stages[:reached]
                required = {name for stage in left for name in (stage.required_fields or [])}
            currency = "USD" if rng.random() < USD_SHARE and "lines" not in required else "CNY"
            rate = USD_RATE if currency == "USD" else Decimal("1")
            price_book = catalogue["book"] if currency == "CNY" else catalogue["usd_book"]
            # Product lines (priced from the price book) or a typed amount.
            line_rows = []
            n_lines = (
                rng.choices((0, 1, 2, 3), weights=(35, 30, 22, 13))[0] if (currency == "CNY") else 0
            )
            if "lines" in required and currency == "CNY":
                n_lines = max(n_lines, 1)
            for position, product in enumerate(rng.sample(products, n_lines)):
                quantity = Decimal(rng.choice((1, 1, 2, 3, 5, 10, 12, 20, 50, 100)))
                unit_price = _price(prices[product], quantity)
                discount = Decimal(rng.choice((0, 0, 0, 5, 10, 15, 20)))
                line_rows.append(
                    tables["line"].row(
                        product_id=product,
                        quantity=quantity,
                        unit_price=unit_price,
                        discount_percent=discount,
                        total=line_total(quantity, unit_price, discount),
                        sort_order=position,
                    )
                )
            if line_rows:
                amount = sum((line["total"] for line in line_rows), Decimal("0"))
            elif "amount" in required or reached > 0 or rng.random() < 0.75:
                amount = Decimal(round(_log_uniform(rng, 5_000, 3_000_000), -2))
            else:
                amount = Decimal("0")
            if "amount" in required and not amount:
                amount = Decimal("10000")
            amount_company = _money(amount * rate)
            # Stays: the stages in order, spread over [created, closing) or [created, now).
            path = stages[: reached + 1]
            end = created + cycle if closed else now
            cuts = sorted(rng.random() for _ in range(len(path) - 1))
            entered = [created] + [created + (end - created) * cut for cut in cuts]
            if closed:
                path = [*path, process.won if won else process.lost]
                entered.append(end)
            final = path[-1]
            probability = (100 if won else 0) if closed else final.probability
            edited = not closed and rng.random() < 0.12
            if edited:
                probability = min(99, max(1, probability + rng.choice((-10, -5, 5, 10))))
            expected = None
            if "expected_close_date" in required or rng.random() < 0.7:
                if closed:
                    expected = (end + day * rng.uniform(-20, 20)).astimezone(tz).date()
                else:
                    expected = (now + day * rng.uniform(-30, 200)).astimezone(tz).date()
            lost_reason = winner = None
            close_note = ""
            if closed and not won:
                value, lost_reason = rng.choices(reasons, weights=reason_weights)[0]
                if competitors and (value == "competitor" or rng.random() < 0.3):
                    winner = rng.choice(competitors)
            if closed:
                close_note = rng.choice(CLOSE_NOTES[won])
            # The deal's contacts (the first one primary) and competitors.
            n_contacts = min(
                len(account_contacts), rng.choices((0, 1, 2, 3), weights=(30, 35, 25, 10))[0]
            )
            if "contacts" in required:
                n_contacts = max(n_contacts, 1)
            chosen_contacts = rng.sample(account_contacts, n_contacts)
            on_deal = set()
            if winner is not None:
                on_deal.add(winner)
            n_rivals = rng.choices((0, 1, 2), weights=(55, 30, 15))[0]
            if "competitors" in required:
                n_rivals = max(n_rivals, 1)
            for rival in rng.sample(competitors, min(n_rivals, len(competitors))):
                on_deal.add(rival)
            colleagues = [pk for pk in by_department.get(department, ()) if pk != owner]
            split_with = rng.choice(colleagues) if colleagues and rng.random() < SPLIT_SHARE else 0
            moves = len(path) - 1
            version = 1 + moves + (2 if line_rows else 0) + int(edited) + int(bool(split_with))
            closed_at = end if closed else None
            last_change = entered[-1]
            row = tables["opportunity"].row(
                name=f"{rng.choice(DEAL_WORDS)}（{created.astimezone(tz):%Y%m}）",
                account_id=account_id,
                pipeline_id=process.pipeline.pk,
                stage_id=final.pk,
                amount=amount,
                currency=currency,
                amount_company=amount_company,
                amount_from_lines=bool(line_rows),
                price_book_id=price_book,
                expected_close_date=expected,
                probability=probability,
                next_step="" if closed and rng.random() < 0.5 else rng.choice(NEXT_STEPS),
                source_id=rng.choice(sources) if sources and rng.random() < 0.7 else None,
                forecast_commit=not closed and rng.random() < 0.05,
                is_closed=closed,
                is_won=won,
                closed_at=closed_at,
                close_date=closed_at.astimezone(tz).date() if closed_at else None,
                lost_reason_id=lost_reason,
                close_note=close_note,
                winner_id=winner,
                stage_entered_at=entered[-1],
                # The furthest stage of the path (the lost stage never is).
                furthest_stage_id=(process.won if closed and won else stages[reached]).pk,
                closed_from_stage_id=stages[reached].pk if closed else None,
                owner_id=owner,
                department_id=department,
                created_by_id=owner,
                created_at=created,
                updated_at=last_change,
                version=version,
                custom_data={},
            )
            pk = row["id"]
            row["account"] = _Named(account_name)
            row["stage"] = stage_objects[final.pk]
            rows["opportunity"].append(row)
            for line in line_rows:
                line["opportunity_id"] = pk
            rows["line"] += line_rows
            for position, contact in enumerate(chosen_contacts):
                rows["contact"].append(
                    tables["contact"].row(
                        opportunity_id=pk,
                        contact_id=contact,
                        role_id=rng.choice(roles),
                        attitude=rng.choices(*ATTITUDES)[0],
                        influence=rng.choices(*INFLUENCES)[0],
                        is_primary=position == 0,
                    )
                )
            for rival in sorted(on_deal):
                if rival == winner:
                    status = "won"
                elif won:
                    status = "eliminated"  # opportunity_win eliminates the active ones
                else:
                    status = "active" if rng.random() < 0.8 else "eliminated"
                rows["competitor"].append(
                    tables["competitor"].row(
                        opportunity_id=pk, competitor_id=rival, status=status, notes=""
                    )
                )
            if split_with:
                share = Decimal(rng.choice((60, 70, 80)))
                rows["split"] += [
                    tables["split"].row(opportunity_id=pk, user_id=owner, percent=share),
                    tables["split"].row(
                        opportunity_id=pk, user_id=split_with, percent=Decimal(100) - share
                    ),
                ]
                rows["team"].append(
                    tables["team"].row(
                        content_type_id=opportunity_type,
                        object_id=pk,
                        user_id=split_with,
                        access=ShareAccess.READ,
                        role="split",
                        created_at=created + hour,
                    )
                )
            # Stage history: one stay per stage, the last one open.
            for i, stage in enumerate(path):
                stay_probability = (
                    probability if closed and i == len(path) - 1 else stage.probability
                )
                rows["stage"].append(
                    tables["stage"].row(
                        opportunity_id=pk,
                        stage_id=stage.pk,
                        entered_at=entered[i],
                        left_at=entered[i + 1] if i + 1 < len(entered) else None,
                        amount_company=amount_company,
                        probability=stay_probability,
                        changed_by_id=owner,
                    )
                )
            # Timeline: created, each stage change, won / lost.
            title = row["name"]
            timeline = rows["timeline"]
            timeline.append(
                tables["timeline"].row(
                    content_type_id=opportunity_type,
                    object_id=pk,
                    kind="opportunity_created",
                    text=texts["created"] % {"name": title, "stage": stage_names[path[0].pk]},
                    actor_id=owner,
                    account_id=account_id,
                    created_at=created,
                    data={},
                )
            )
            for i in range(1, len(path) - (1 if closed else 0)):
                old, new = path[i - 1], path[i]
                timeline.append(
                    tables["timeline"].row(
                        content_type_id=opportunity_type,
                        object_id=pk,
                        kind="opportunity_stage",
                        text=texts["stage"]
                        % {"old": stage_names[old.pk], "new": stage_names[new.pk]},
                        actor_id=owner,
                        account_id=account_id,
                        created_at=entered[i],
                        data={"old": old.pk, "new": new.pk},
                    )
                )
            if closed:
                if won:
                    text = texts["won"] % {"name": title, "amount": amount, "currency": currency}
                else:
                    text = texts["lost"] % {
                        "name": title,
                        "stage": stage_names[path[-2].pk],
                        "reason": reason_labels.get(lost_reason, ""),
                    }
                timeline.append(
                    tables["timeline"].row(
                        content_type_id=opportunity_type,
                        object_id=pk,
                        kind="opportunity_won" if won else "opportunity_lost",
                        text=text + (f" {close_note}" if close_note else ""),
                        actor_id=owner,
                        account_id=account_id,
                        created_at=end,
                        data={},
                    )
                )
            if ctx.history:
                after = tables["opportunity"].snapshot(row)
                # As record_create saw it: first stage, nothing closed, no lines yet.
                after.update(
                    stage=path[0].pk,
                    probability=path[0].probability,
                    stage_entered_at=created.isoformat(),
                    is_closed=False,
                    is_won=False,
                    closed_at=None,
                    close_date=None,
                    lost_reason=None,
                    close_note="",
                    winner=None,
                    amount_from_lines=False,
                )
                if line_rows:
                    after.update(amount="0", amount_company="0")
                rows["history"].append(
                    tables["history"].row(
                        content_type_id=opportunity_type,
                        object_id=pk,
                        object_repr=title[:200],
                        action=ChangeAction.CREATE,
                        actor_id=owner,
                        request_id="",
                        created_at=created,
                        after=after,
                    )
                )
            if registration is not None and registration.is_searchable(row):
                next_step = row["next_step"]
                rows["search"].append(
                    tables["search"].row(
                        content_type_id=opportunity_type,
                        object_id=pk,
                        title=registration.title_of(row),
                        subtitle=registration.subtitle_of(row),
                        document=tokens.document(title, account_name, next_step),
                        updated_at=wall_clock,
                    )
                )
        with transaction.atomic():
            counts = {
                "sales_opportunity": tables["opportunity"].insert(rows["opportunity"]),
                "sales_opportunityline": tables["line"].insert(rows["line"]),
                "sales_opportunitycontact": tables["contact"].insert(rows["contact"]),
                "sales_opportunitycompetitor": tables["competitor"].insert(rows["competitor"]),
                "sales_opportunitysplit": tables["split"].insert(rows["split"]),
                "core_teammember": tables["team"].insert(rows["team"]),
                "sales_stagehistory": tables["stage"].insert(rows["stage"]),
                "core_timelineentry": tables["timeline"].insert(rows["timeline"]),
                "core_changerecord": tables["history"].insert(rows["history"]),
                "core_searchentry": tables["search"].insert(rows["search"]),
            }
        for name, count in counts.items():
            ctx.count(name, count)
        done += n
        seconds = max(time.perf_counter() - batch_started, 1e-9)
        batch_rows = sum(counts.values())
        ctx.log(
            f"  opportunities {done:>9,}/{total:,}  batch {batch_rows:,} rows in {seconds:.1f}s"
            f" ({batch_rows / seconds:,.0f} rows/s)"
        )
    tables["opportunity"].reset_sequence()
    build_targets(ctx)


# --- targets ---------------------------------------------------------------------------------
def _months(amount: Decimal) -> list[Decimal]:
    """The year's amount over its months by SEASON, rounded to hundreds, summing exactly."""
    total = sum(SEASON)
    months = [(amount * weight / total).quantize(Decimal("100")) for weight in SEASON]
    months[-1] += amount - sum(months)
    return months


def build_targets(ctx: GenContext) -> None:
    """Targets for the dataset's current year: reps from last year's wins, departments the
    sum of their people (by path), the company the sum of all; each for the year (month 0)
    and its twelve months."""
    from django.db import transaction
    from django.db.models import Sum
    from django.utils import timezone

    from bench.gen_activities import Table
    from guanxi.core.models import Department, User
    from guanxi.sales.models import Opportunity, SalesTarget

    rng = ctx.rng("sales-targets")
    year = (ctx.start + datetime.timedelta(days=729)).year
    won = dict(
        Opportunity.all_objects.filter(is_won=True, close_date__year=year - 1)
        .values("owner_id")
        .annotate(amount=Sum("amount_company"))
        .order_by()
        .values_list("owner_id", "amount")
    )
    owners = set(
        Opportunity.all_objects.order_by().values_list("owner_id", flat=True).distinct()
    ) - {None}
    if not owners:
        return
    known = sorted(Decimal(value) for value in won.values() if value)
    typical = known[len(known) // 2] if known else Decimal("1000000")
    people: dict[int, Decimal] = {}
    for owner in sorted(owners):
        base = Decimal(won.get(owner) or 0) or typical * Decimal(rng.uniform(0.5, 1.0))
        people[owner] = (base * Decimal(rng.uniform(1.10, 1.35))).quantize(Decimal("10000"))
    departments = list(Department.objects.values_list("pk", "path"))
    user_paths = dict(
        User.objects.filter(pk__in=list(people)).values_list("pk", "department__path")
    )
    admin = User.objects.filter(roles__is_admin=True).order_by("pk").values_list("pk", flat=True)
    admin_id = admin.first()
    table = Table(SalesTarget)
    stamp = timezone.now()
    targets = []

    def add(level: str, amount: Decimal, **subject) -> None:
        for month, value in ((0, amount), *enumerate(_months(amount), start=1)):
            targets.append(
                table.row(
                    year=year,
                    month=month,
                    level=level,
                    metric="sales",
                    amount=value,
                    updated_by_id=admin_id,
                    updated_at=stamp,
                    **subject,
                )
            )

    for user_id, amount in people.items():
        add("user", amount, user_id=user_id)
    for department_id, path in departments:
        amount = sum(
            (a for u, a in people.items() if (user_paths.get(u) or "").startswith(path)),
            Decimal("0"),
        )
        if amount:
            add("department", amount, department_id=department_id)
    add("company", sum(people.values(), Decimal("0")))
    with transaction.atomic():
        table.insert(targets)
    ctx.count("sales_salestarget", len(targets))


def _register() -> None:
    """The "sales" step of the generator, also for `--add sales`."""
    from bench import generate

    if not any(entity.name == "sales" for entity in generate.ENTITIES):
        generate.register_entity(generate.Entity("sales", build_sales))
    if "sales" not in generate.ADDABLE:
        generate.ADDABLE = (*generate.ADDABLE, "sales")


_register()
