"""Demo public pools: one leads pool and one accounts pool per sales region (华东, 华北), with
recycle rules, some records waiting in each, and a few owned records close to (or past)
their recycle date, so the countdown, the warnings and the dry run have something to show.

Called by the leads demo loader: `load_demo_data(demo=demo, verbosity=verbosity)` with the
`DemoData` of `guanxi.core.demo.load_demo()`. Idempotent: nothing happens when the demo
pools exist. Everything goes through the pool and lead services (events, timeline, audit).
"""

from __future__ import annotations

import datetime
import random
import sys

from django.db import transaction
from django.utils import timezone

SEED = 20240606
REGIONS = [
    # (region, department, provinces, people, companies)
    (
        "华东",
        "华东销售部",
        ["上海市", "江苏省", "浙江省", "安徽省"],
        ["周杰", "吴磊", "郑爽", "冯琳", "陈晨", "褚亮", "卫东", "蒋欣"],
        ["上海申达物流", "杭州云帆科技", "苏州恒通机械", "南京金陵医药", "宁波港源贸易"],
    ),
    (
        "华北",
        "华北销售部",
        ["北京市", "天津市", "河北省", "山西省"],
        ["沈洋", "韩雪", "杨帆", "朱婷", "秦川", "尤佳", "许诺", "何平"],
        ["北京中科信达", "天津海河化工", "石家庄冀中建材", "太原晋阳能源", "唐山钢联"],
    ),
]
DAY = datetime.timedelta(days=1)


def _say(verbosity: int, message: str) -> None:
    if verbosity >= 1:
        sys.stdout.write(message + "\n")


def load_demo_data(*, demo, verbosity: int = 1) -> None:
    from guanxi.customers.models import Account
    from guanxi.leads.models import Lead, Pool, PoolKind
    from guanxi.leads.services.leads import lead_create
    from guanxi.leads.services.pools import pool_put

    if Pool.objects.filter(name__in=[f"{region}线索公海" for region, *_ in REGIONS]).exists():
        return
    departments = demo.departments
    actor = demo.users.get("sales.manager") or next(iter(demo.users.values()), None)
    if actor is None:
        return
    rng = random.Random(SEED)
    now = timezone.now()
    counts = {"pools": 0, "leads": 0, "accounts": 0, "aged": 0}
    with transaction.atomic():
        for region, department_name, provinces, people, companies in REGIONS:
            department = departments.get(department_name)
            if department is None:
                continue
            leads_pool = Pool.objects.create(
                name=f"{region}线索公海",
                kind=PoolKind.LEADS,
                department=department,
                provinces=provinces,
                claims_per_day=10,
                max_owned=200,
                cooldown_days=7,
                warning_days=3,
            )
            leads_pool.member_departments.set([department])
            leads_pool.rules.create(not_followed_up_days=14, no_deal_days=60)
            accounts_pool = Pool.objects.create(
                name=f"{region}客户公海",
                kind=PoolKind.ACCOUNTS,
                department=department,
                provinces=provinces,
                claims_per_day=5,
                max_owned=100,
                cooldown_days=15,
                warning_days=5,
            )
            accounts_pool.member_departments.set([department])
            accounts_pool.rules.create(not_followed_up_days=30, exclude_open_opportunity=True)
            counts["pools"] += 2

            # Unowned leads waiting in the pool.
            for index, person in enumerate(people):
                lead = lead_create(
                    actor=actor,
                    data={
                        "name": person,
                        "company": companies[index % len(companies)],
                        "province": provinces[index % len(provinces)],
                        "owner": None,
                        "notes": "公海演示线索",
                    },
                    run_hooks=False,
                )
                pool_put(record=lead, pool=leads_pool, actor=actor, reason="演示数据")
                counts["leads"] += 1

            # Some of the region's accounts released to the pool; a few owned ones aged.
            region_accounts = list(
                Account.objects.filter(department=department, owner__isnull=False).order_by("pk")
            )
            rng.shuffle(region_accounts)
            for account in region_accounts[:6]:
                pool_put(
                    record=account,
                    pool=accounts_pool,
                    actor=actor,
                    reason="长期未跟进，退回公海",
                    event="release",
                )
                counts["accounts"] += 1
            for account, days in zip(region_accounts[6:9], (27, 29, 35), strict=False):
                Account.objects.filter(pk=account.pk).update(
                    last_followed_up_at=now - days * DAY, created_at=now - 90 * DAY
                )
                counts["aged"] += 1
            owned_leads = list(
                Lead.objects.filter(department=department, owner__isnull=False)
                .exclude(status="converted")
                .order_by("pk")[:3]
            )
            for lead, days in zip(owned_leads, (12, 13, 20), strict=False):
                Lead.objects.filter(pk=lead.pk).update(
                    assigned_at=now - 25 * DAY, last_followed_up_at=now - days * DAY
                )
                counts["aged"] += 1
    _say(
        verbosity,
        f"Demo pools loaded: {counts['pools']} pools, {counts['leads']} leads and "
        f"{counts['accounts']} accounts in them, {counts['aged']} owned records near recycling.",
    )
