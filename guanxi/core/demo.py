"""The demo organisation: departments, users (password `demo`) and accounts.

`load_demo()` is idempotent: departments and users are looked up by name before they are
created, and accounts are only added when the demo users own none yet. Everything goes
through the services, so the history, the timeline and the search index are filled as if
people had typed it in. A seeded random generator makes every run produce the same data.

Other apps add their own demo records by defining `load_demo_data(*, demo, verbosity)` in a
module `guanxi.<app>.demo`; it is called after the core data with the `DemoData` below.
"""

from __future__ import annotations

import importlib
import random
import sys
from dataclasses import dataclass, field
from typing import TextIO

from django.apps import apps
from django.db import transaction

DEMO_PASSWORD = "demo"
SEED = 42

# (name, parent name or None)
DEPARTMENTS = [
    ("总经办", None),
    ("销售中心", "总经办"),
    ("华东销售部", "销售中心"),
    ("华北销售部", "销售中心"),
    ("市场部", "总经办"),
    ("客服部", "总经办"),
    ("财务部", "总经办"),
]

# (username, display name, role code, department, manages department, language)
USERS = [
    ("huang.jun", "黄俊", "sales_manager", "总经办", "总经办", "zh-hans"),
    ("sales.manager", "陈明", "sales_manager", "华东销售部", "华东销售部", "zh-hans"),
    ("sales.rep1", "李娜", "sales_rep", "华东销售部", None, "zh-hans"),
    ("sales.rep2", "王芳", "sales_rep", "华东销售部", None, "zh-hans"),
    ("sales.rep3", "刘洋", "sales_rep", "华北销售部", None, "zh-hans"),
    ("zhang.wei", "张伟", "sales_rep", "华北销售部", None, "zh-hans"),
    ("david.chen", "David Chen", "sales_rep", "华东销售部", None, "en"),
    ("emily.zhao", "Emily Zhao", "sales_rep", "华北销售部", None, "en"),
    ("marketing.user", "孙丽", "marketing", "市场部", None, "zh-hans"),
    ("service.manager", "Michael Xu", "service_manager", "客服部", "客服部", "en"),
    ("service.agent", "赵敏", "service_agent", "客服部", None, "zh-hans"),
    ("finance.user", "周静", "finance", "财务部", None, "zh-hans"),
    ("auditor", "Sarah Lin", "read_only", "财务部", None, "en"),
]

# Who owns the demo accounts, and how many shares of them each gets.
ACCOUNT_OWNERS = {
    "sales.rep1": 5,
    "sales.rep2": 5,
    "sales.rep3": 4,
    "zhang.wei": 4,
    "david.chen": 3,
    "emily.zhao": 3,
    "sales.manager": 1,
}

CITIES = [
    # (name prefix, city for the address, district, area code)
    ("北京", "北京市", ["朝阳区", "海淀区", "东城区", "丰台区"], "010"),
    ("上海", "上海市", ["浦东新区", "徐汇区", "静安区", "闵行区"], "021"),
    ("深圳市", "深圳市", ["南山区", "福田区", "龙岗区", "宝安区"], "0755"),
    ("广州", "广州市", ["天河区", "越秀区", "番禺区", "黄埔区"], "020"),
    ("杭州", "杭州市", ["西湖区", "滨江区", "余杭区", "拱墅区"], "0571"),
    ("南京", "南京市", ["鼓楼区", "江宁区", "建邺区", "玄武区"], "025"),
    ("苏州", "苏州市", ["工业园区", "姑苏区", "吴中区", "相城区"], "0512"),
    ("天津", "天津市", ["和平区", "滨海新区", "南开区", "河西区"], "022"),
    ("成都", "成都市", ["高新区", "锦江区", "武侯区", "青羊区"], "028"),
    ("武汉", "武汉市", ["江汉区", "洪山区", "武昌区", "东湖高新区"], "027"),
    ("西安", "西安市", ["雁塔区", "碑林区", "未央区", "高新区"], "029"),
    ("青岛", "青岛市", ["市南区", "崂山区", "黄岛区", "李沧区"], "0532"),
    ("厦门", "厦门市", ["思明区", "湖里区", "集美区", "海沧区"], "0592"),  # 7-digit numbers
    ("宁波", "宁波市", ["鄞州区", "海曙区", "江北区", "北仑区"], "0574"),
]

BRANDS = [
    "明达",
    "腾飞",
    "华信",
    "东方",
    "恒瑞",
    "嘉禾",
    "永盛",
    "金桥",
    "博远",
    "瑞丰",
    "宏图",
    "鼎盛",
    "新锐",
    "天成",
    "汇通",
    "同创",
    "锦程",
    "中联",
    "安泰",
    "凯旋",
    "星河",
    "蓝海",
    "远航",
    "众合",
    "德润",
    "盛世",
    "力拓",
    "华晟",
    "佳源",
    "卓越",
]

# (business words, industry picklist value, English business word)
BUSINESSES = [
    ("科技", "it", "Technology"),
    ("软件", "it", "Software"),
    ("信息技术", "it", "Information Technology"),
    ("网络科技", "it", "Network Technology"),
    ("贸易", "retail", "Trading"),
    ("商贸", "retail", "Commerce"),
    ("电子商务", "retail", "E-commerce"),
    ("机械制造", "manufacturing", "Machinery"),
    ("电子", "manufacturing", "Electronics"),
    ("精密制造", "manufacturing", "Precision Manufacturing"),
    ("新材料", "manufacturing", "New Materials"),
    ("建设工程", "construction", "Construction"),
    ("建筑装饰", "construction", "Building Decoration"),
    ("物流", "logistics", "Logistics"),
    ("供应链管理", "logistics", "Supply Chain"),
    ("教育科技", "education", "Education Technology"),
    ("培训", "education", "Training"),
    ("医疗器械", "healthcare", "Medical Devices"),
    ("医药", "healthcare", "Pharmaceutical"),
    ("投资管理", "finance", "Investment Management"),
    ("融资租赁", "finance", "Leasing"),
    ("餐饮管理", "other", "Catering"),
    ("文化传媒", "other", "Media"),
]

SUFFIXES = ["有限公司"] * 6 + ["股份有限公司"] * 2 + ["有限责任公司", "集团有限公司"]

ENGLISH_WORDS = [
    "Northwind",
    "Bluepeak",
    "Silverline",
    "Greenfield",
    "Redwood",
    "Summit",
    "Harborview",
    "Brightstar",
    "Evergreen",
    "Pacific Rim",
    "Lotus Bridge",
    "Jade River",
]
ENGLISH_SUFFIXES = ["Co., Ltd.", "Ltd.", "Inc.", "Limited"]

ROADS = ["中山路", "人民路", "解放路", "科技园路", "长江路", "建设大道", "创业路", "滨江大道"]

SURNAMES = "王李张刘陈杨黄赵吴周徐孙马朱胡郭何林罗高"
GIVEN = ["伟", "芳", "娜", "敏", "静", "丽", "强", "磊", "军", "洋", "勇", "艳", "杰", "娟", "涛"]


@dataclass
class DemoData:
    """What the loader made, for other apps' demo loaders to build on."""

    rng: random.Random
    departments: dict = field(default_factory=dict)
    users: dict = field(default_factory=dict)
    accounts: list = field(default_factory=list)
    created_accounts: bool = False


def _say(stdout: TextIO, verbosity: int, message: str) -> None:
    if verbosity >= 1:
        stdout.write(message + "\n")


def _departments() -> dict:
    from guanxi.core.models import Department
    from guanxi.core.services.organisation import department_create

    made: dict = {}
    for order, (name, parent_name) in enumerate(DEPARTMENTS):
        parent = made.get(parent_name)
        department = Department.objects.filter(name=name, parent=parent).first()
        if department is None:
            department = department_create(
                name=name, parent=parent, actor=None, sort_order=order * 10
            )
        made[name] = department
    return made


def _users(departments: dict) -> dict:
    from guanxi.core.models import Role, User
    from guanxi.core.services.organisation import user_create

    roles = {role.code: role for role in Role.objects.all()}
    made: dict = {}
    for index, (username, display_name, role_code, dept, manages, language) in enumerate(USERS):
        user = User.objects.filter(username=username).first()
        if user is None:
            user = user_create(
                username=username,
                password=DEMO_PASSWORD,
                actor=None,
                roles=[roles[role_code]],
                department=departments[dept],
                display_name=display_name,
                email=f"{username}@example.com",
                phone=f"139{index + 10:02d}00{index * 37 % 10000:04d}",
                language=language,
            )
        made[username] = user
        if manages and departments[manages].manager_id is None:
            department = departments[manages]
            department.manager = user
            department.save(update_fields=["manager"])
    return made


def _pinyin_slug(text: str) -> str:
    from pypinyin import lazy_pinyin

    return "".join(lazy_pinyin(text)).lower()


def _pinyin_initials(text: str) -> str:
    from pypinyin import Style, lazy_pinyin

    return "".join(lazy_pinyin(text, style=Style.FIRST_LETTER)).lower()


def _mobile(rng: random.Random) -> str:
    prefix = rng.choice(["138", "139", "136", "137", "135", "150", "158", "186", "188", "177"])
    return prefix + "".join(str(rng.randrange(10)) for _ in range(8))


def _account_rows(rng: random.Random, count: int, industries: dict) -> list[dict]:
    from guanxi.customers.models import Account

    rows: list[dict] = []
    names: set[str] = set()
    slugs: set[str] = set()
    attempts = 0
    while len(rows) < count and attempts < count * 50:
        attempts += 1
        prefix, city, districts, area = rng.choice(CITIES)
        business, industry, english_business = rng.choice(BUSINESSES)
        brand = rng.choice(BRANDS)
        roll = rng.random()
        if roll < 0.08:
            word = rng.choice(ENGLISH_WORDS)
            name = f"{word} {english_business} {rng.choice(ENGLISH_SUFFIXES)}"
            slug = "".join(c for c in word + english_business.split()[0] if c.isalnum()).lower()
            kind = Account.Kind.COMPANY
        elif roll < 0.13:
            name = rng.choice(SURNAMES) + "".join(
                rng.choice(GIVEN) for _ in range(rng.choice([1, 2]))
            )
            slug = ""
            kind = Account.Kind.INDIVIDUAL
            industry = "other"
        else:
            name = f"{prefix}{brand}{business}{rng.choice(SUFFIXES)}"
            slug = _pinyin_slug(brand) + _pinyin_initials(business)
            if slug in slugs:
                slug = _pinyin_slug(city.removesuffix("市")) + "-" + slug
            kind = Account.Kind.COMPANY
        if name in names or (slug and slug in slugs):
            continue
        names.add(name)
        slugs.add(slug)
        district = rng.choice(districts)
        address = f"{city}{district}{rng.choice(ROADS)}{rng.randrange(1, 999)}号"
        if kind == Account.Kind.COMPANY:
            # Xiamen's local numbers have seven digits; the other cities here have eight.
            digits = 7 if area == "0592" else 8
            phone = f"{area}-{rng.randrange(5 * 10 ** (digits - 1), 9 * 10 ** (digits - 1))}"
            email = f"info@{slug}.example.com"
            website = f"https://www.{slug}.example.com"
        else:
            phone = _mobile(rng)
            email = ""
            website = ""
        rows.append(
            {
                "name": name,
                "kind": kind,
                "industry": industries.get(industry),
                "phone": phone if rng.random() < 0.7 else _mobile(rng),
                "email": email,
                "website": website,
                "address": address,
            }
        )
    return rows


def _accounts(demo: DemoData, count: int) -> int:
    from guanxi.core.models import PicklistOption
    from guanxi.customers.models import Account
    from guanxi.customers.services import account_create

    owners = [demo.users[name] for name in ACCOUNT_OWNERS]
    # By creator, not owner: the pools demo hands some demo accounts to nobody.
    if Account.all_objects.filter(created_by__in=owners).exists():
        demo.accounts = list(Account.objects.filter(created_by__in=owners))
        return 0
    industries = {
        option.value: option for option in PicklistOption.objects.filter(picklist__code="industry")
    }
    weighted = [demo.users[name] for name, weight in ACCOUNT_OWNERS.items() for _ in range(weight)]
    for row in _account_rows(demo.rng, count, industries):
        owner = demo.rng.choice(weighted)
        demo.accounts.append(
            # Through the customers service: phones normalised, duplicate keys written.
            account_create(data={**row, "owner": owner}, actor=owner)
        )
    demo.created_accounts = True
    return len(demo.accounts)


def _other_apps(demo: DemoData, verbosity: int) -> None:
    for config in apps.get_app_configs():
        if not config.name.startswith("guanxi.") or config.name == "guanxi.core":
            continue
        try:
            module = importlib.import_module(f"{config.name}.demo")
        except ModuleNotFoundError as error:
            if error.name != f"{config.name}.demo":
                raise
            continue
        loader = getattr(module, "load_demo_data", None)
        if loader:
            loader(demo=demo, verbosity=verbosity)


def load_demo(*, verbosity: int = 1, accounts: int = 200, stdout: TextIO | None = None) -> DemoData:
    """Create the demo organisation and data; running it again changes nothing."""
    stdout = stdout or sys.stdout
    demo = DemoData(rng=random.Random(SEED))
    with transaction.atomic():
        demo.departments = _departments()
        demo.users = _users(demo.departments)
        created = _accounts(demo, accounts)
        _other_apps(demo, verbosity)
    if created:
        _say(stdout, verbosity, f"Demo data loaded: {len(demo.users)} users, {created} accounts.")
    else:
        _say(stdout, verbosity, "Demo data already loaded.")
    _say(
        stdout,
        verbosity,
        "Demo users (password 'demo'): " + ", ".join(username for username, *_ in USERS),
    )
    return demo
