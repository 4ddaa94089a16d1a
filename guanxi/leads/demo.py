"""Demo leads and one web form.

Called by `guanxi.core.demo.load_demo()` after the demo users and accounts exist. Idempotent:
nothing is added when leads already exist. Leads go through the lead service (normalised
phones, audit, search index, duplicate keys); about one in six is unowned, for the pools.
"""

from __future__ import annotations

import datetime
import sys

LEAD_COUNT = 300
OWNERS = ["sales.rep1", "sales.rep2", "sales.rep3", "zhang.wei", "david.chen", "emily.zhao"]
# (status, weight): converted and recycled leads come from conversion and the pools.
STATUSES = [("new", 40), ("contacting", 30), ("qualified", 15), ("unqualified", 15)]
RATINGS = ["", "", "hot", "warm", "cold"]
TITLES = ["总经理", "采购经理", "技术总监", "IT 主管", "市场经理", "财务经理", "项目经理"]
SUFFIXES = ["科技有限公司", "贸易有限公司", "信息技术有限公司", "实业有限公司", "咨询有限公司"]
FORM_NAME = "官网联系表单"


def _say(verbosity: int, message: str) -> None:
    if verbosity >= 1:
        sys.stdout.write(message + "\n")


def _province_of(city: str) -> str:
    from guanxi.customers.regions import PROVINCES

    for province, cities in PROVINCES.items():
        if city == province or city in cities:
            return province
    return ""


def _administrator(demo):
    from guanxi.core.models import User
    from guanxi.core.scope import is_administrator

    for user in User.objects.filter(is_active=True).order_by("-is_superuser", "pk"):
        if is_administrator(user):
            return user
    return None


def _web_form(admin, sources):
    from guanxi.leads.models import WebForm
    from guanxi.leads.services.capture import web_form_create

    existing = WebForm.objects.filter(name=FORM_NAME).first()
    if existing is not None or admin is None:
        return existing
    return web_form_create(
        actor=admin,
        data={
            "name": FORM_NAME,
            "title_zh": "联系我们",
            "title_en": "Contact us",
            "thank_you_zh": "感谢您的留言，我们的顾问会在一个工作日内联系您。",
            "thank_you_en": "Thank you. Our consultant will contact you within one working day.",
            "source": sources.get("web_form"),
        },
        fields=[
            {"field": "name", "label_zh": "姓名", "label_en": "Name", "required": True},
            {"field": "company", "label_zh": "公司", "label_en": "Company", "required": True},
            {"field": "phone", "label_zh": "手机", "label_en": "Mobile", "required": True},
            {"field": "email", "label_zh": "邮箱", "label_en": "E-mail", "required": False},
            {"field": "notes", "label_zh": "需求描述", "label_en": "Message", "required": False},
        ],
    )


def load_demo_data(*, demo, verbosity: int = 1) -> None:
    from django.db import transaction
    from django.utils import timezone

    from guanxi.core.demo import BRANDS, CITIES, _mobile, _pinyin_slug
    from guanxi.core.models import PicklistOption
    from guanxi.core.phones import phone_is_valid
    from guanxi.customers.demo import _person_name
    from guanxi.leads.models import Lead
    from guanxi.leads.services.leads import lead_create

    admin = _administrator(demo)
    sources = {
        option.value: option
        for option in PicklistOption.objects.filter(picklist__code="lead_source", is_active=True)
    }
    industries = list(PicklistOption.objects.filter(picklist__code="industry", is_active=True))
    form = _web_form(admin, sources)
    if Lead.all_objects.exists():
        _pools(demo, verbosity)
        return
    owners = [demo.users[name] for name in OWNERS if name in demo.users]
    if not owners or admin is None:
        return
    rng = demo.rng
    statuses = [status for status, weight in STATUSES for _ in range(weight)]
    source_values = [value for value in sources if value != "import"]
    now = timezone.now()
    created = []
    with transaction.atomic():
        for number in range(LEAD_COUNT):
            name = _person_name(rng)
            prefix, city, _districts, _code = rng.choice(CITIES)
            company = f"{prefix}{rng.choice(BRANDS)}{rng.choice(SUFFIXES)}"
            phone = _mobile(rng)
            owner = None if number % 6 == 5 else rng.choice(owners)
            source = sources.get(rng.choice(source_values)) if source_values else None
            data = {
                "name": name,
                "company": company,
                "title": rng.choice(TITLES),
                "phone": phone if phone_is_valid(phone) else "",
                "email": f"{_pinyin_slug(name)}{number}@example.com",
                "source": source,
                "industry": rng.choice(industries) if industries else None,
                "status": rng.choice(statuses),
                "rating": rng.choice(RATINGS),
                "province": _province_of(city),
                "city": city,
                "owner": owner,
            }
            if form is not None and source is not None and source.value == "web_form":
                data["web_form"] = form
            lead = lead_create(actor=owner or admin, data=data, run_hooks=False)
            created.append(lead)
        # Spread the creation dates over the last 120 days, for the funnel and the lists.
        for lead in created:
            moment = now - datetime.timedelta(days=rng.randrange(120), minutes=rng.randrange(1440))
            Lead.all_objects.filter(pk=lead.pk).update(created_at=moment, updated_at=moment)
    _say(verbosity, f"Demo leads: {len(created)} leads, web form “{FORM_NAME}”.")
    _pools(demo, verbosity)


def _pools(demo, verbosity: int) -> None:
    """The regional pools with their rules (idempotent), once the leads exist."""
    from guanxi.leads.demo_pools import load_demo_data as load_pool_demo

    load_pool_demo(demo=demo, verbosity=verbosity)
