"""Leads and a public lead pool for the benchmark dataset (DESIGN.md: 1,000,000 leads for L,
one per account).

Bulk inserts only (bench.gen_activities.Table: explicit ids, executemany / COPY): name,
company, phone, e-mail, source, province and city, status / qualification stage / score
spread like a funnel, owners Zipf-skewed over the account owners (department from the owner),
creation dates over the dataset's two years. About 15% are unowned and sit in one public
lead pool (公海) whose members are every sales department, so the pool page has rows. Not
generated (yet): audit history, search entries, duplicate keys and score history of leads.

`python -m bench generate --add leads` adds them to a dataset generated before leads existed
(the organisation is read back from the database).
"""

from __future__ import annotations

import datetime
import time
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from bench.generate import GenContext

POOL_SHARE = 0.15
# status -> weight; the stage and score follow the status.
STATUSES = [("new", 40), ("working", 30), ("qualified", 12), ("converted", 8), ("rejected", 10)]
SURNAMES = "王李张刘陈杨黄赵吴周徐孙马朱胡郭何高林罗郑梁谢宋唐许韩冯邓曹彭曾肖田董袁潘于蒋蔡余杜叶程苏魏吕丁任沈姚卢姜崔钟谭陆汪范金石廖贾夏韦付方白邹孟熊秦邱江尹薛闫段雷侯龙史陶黎贺顾毛郝龚邵万钱严覃武戴莫孔向汤"  # noqa: E501
GIVEN = "伟芳娜敏静丽强磊军洋勇艳杰娟涛明超秀霞平刚桂英华玉萍红娥玲芬燕彬鹏辉斌宇浩凯健俊帆帅旭宁"
COMPANY_CORES = [
    "华信", "中科", "宏达", "金山", "东方", "天成", "恒通", "新纪元", "瑞丰", "海川", "联创",
    "博远", "同舟", "安泰", "鼎盛", "汇通", "长城", "星辰", "蓝海", "智源",
]  # fmt: skip
SUFFIXES = ["科技有限公司", "贸易有限公司", "实业有限公司", "信息技术有限公司", "咨询服务部"]
PROVINCES = [
    ("北京市", "北京"), ("上海市", "上海"), ("广东省", "广州"), ("广东省", "深圳"),
    ("浙江省", "杭州"), ("江苏省", "南京"), ("四川省", "成都"), ("湖北省", "武汉"),
    ("山东省", "济南"), ("陕西省", "西安"),
]  # fmt: skip


def _stage_and_score(rng, status: str) -> tuple[str, int]:
    if status in ("qualified", "converted"):
        return "sql", rng.randint(60, 100)
    if status == "working":
        return ("mql" if rng.random() < 0.4 else "nurturing"), rng.randint(20, 80)
    return "nurturing", rng.randint(0, 40)


def build_leads(ctx: GenContext) -> None:
    from django.contrib.contenttypes.models import ContentType
    from django.db import transaction

    from bench.gen_activities import Table
    from guanxi.core.models import Department, PicklistOption
    from guanxi.leads.models import LEAD_SOURCE_PICKLIST, Lead, Pool, PoolEntry

    rng = ctx.rng("leads")
    org = ctx.org
    total = ctx.size.accounts  # one lead per account, as in DESIGN.md's L
    sources = list(
        PicklistOption.objects.filter(picklist__code=LEAD_SOURCE_PICKLIST, is_active=True)
        .order_by("sort_order", "pk")
        .values_list("pk", flat=True)
    ) or [None]
    statuses = [s for s, _w in STATUSES]
    weights = [w for _s, w in STATUSES]
    pool = Pool.objects.create(name="线索公海", kind="leads", claims_per_day=20)
    sales_roots = list(Department.objects.filter(depth=1).values_list("pk", flat=True))
    pool.member_departments.set(sales_roots or org.department_ids[:1])
    ctx.count("leads_pool", 1)
    lead_type = ContentType.objects.get_for_model(Lead).pk
    leads_table, entries_table = Table(Lead, ids=True), Table(PoolEntry)
    start, span = ctx.start, datetime.timedelta(days=730)
    step = span / max(total, 1)
    done = 0
    while done < total:
        t0 = time.perf_counter()
        n = min(ctx.batch_size, total - done)
        leads, pooled = [], []
        for i in range(done, done + n):
            created = start + step * i
            status = rng.choices(statuses, weights=weights)[0]
            stage, score = _stage_and_score(rng, status)
            in_pool = status in ("new", "working") and rng.random() < POOL_SHARE / 0.7
            owner = None
            if not in_pool:
                owner = rng.choices(org.owner_ids, cum_weights=org.owner_cum_weights)[0]
            province, city = rng.choice(PROVINCES)
            name = rng.choice(SURNAMES) + "".join(rng.choices(GIVEN, k=rng.randint(1, 2)))
            phone = f"1{rng.choice('3456789')}{rng.randint(0, 999999999):09d}"
            lead = leads_table.row(
                owner_id=owner,
                department_id=org.user_department.get(owner) if owner else None,
                created_by_id=owner,
                name=name,
                company=f"{city}{rng.choice(COMPANY_CORES)}{rng.choice(SUFFIXES)}",
                phone=phone,
                phone_digits=phone,
                email=f"lead{i + 1}@example.cn",
                source_id=rng.choice(sources),
                province=province,
                city=city,
                status=status,
                stage=stage,
                score=score,
                assigned_at=created if owner else None,
                converted_at=created + datetime.timedelta(days=20)
                if status == "converted"
                else None,
                created_at=created,
                updated_at=created,
            )
            leads.append(lead)
            if in_pool:
                pooled.append((lead, created))
        entries = [
            entries_table.row(
                pool_id=pool.pk,
                content_type_id=lead_type,
                object_id=lead["id"],
                entered_at=created,
                reason="bench",
            )
            for lead, created in pooled
        ]
        with transaction.atomic():
            leads_table.insert(leads)
            entries_table.insert(entries)
        ctx.count("leads_lead", n)
        ctx.count("leads_poolentry", len(entries))
        done += n
        seconds = max(time.perf_counter() - t0, 1e-9)
        ctx.log(f"  leads {done:>9,}/{total:,}  {n + len(entries):,} rows in {seconds:.1f}s")
    leads_table.reset_sequence()


def organisation_from_database(ctx: GenContext) -> None:
    """Fill ctx.org from a dataset generated earlier (for `--add`): the account owners,
    weighted by how many accounts they own, and every user's department."""
    from django.db.models import Count

    from guanxi.core.models import User
    from guanxi.customers.models import Account

    org = ctx.org
    users = list(User.objects.values_list("pk", "department_id"))
    org.user_ids = [pk for pk, _d in users]
    org.user_department = dict(users)
    org.department_ids = sorted({d for _pk, d in users if d})
    owners = list(
        Account.all_objects.exclude(owner=None)
        .values("owner")
        .annotate(n=Count("id"))
        .order_by("-n", "owner")
        .values_list("owner", "n")
    )
    org.owner_ids = [pk for pk, _n in owners]
    cumulative, running = [], 0.0
    for _pk, n in owners:
        running += n
        cumulative.append(running)
    org.owner_cum_weights = cumulative
