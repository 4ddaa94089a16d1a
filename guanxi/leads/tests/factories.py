"""Lead makers for tests and the data-scope leak test."""

from guanxi.core.scope import can
from guanxi.core.services.records import record_create
from guanxi.core.tests.leak import register_leak_maker
from guanxi.leads.models import Lead, WebForm
from guanxi.leads.services.leads import lead_create


def make_lead(*, owner, label, actor, **data):
    """A lead owned by `owner`; with owner None it is unowned (nobody's, e.g. in a pool).
    The created-hooks (assignment, scoring) do not run: the test decides the owner."""
    values = {"name": label, "owner": owner, **data}
    if not can(actor, Lead, "add"):
        # Roles that may not add leads (finance, read-only) still own some in the leak test.
        return record_create(model=Lead, data=values, actor=actor)
    return lead_create(actor=actor, data=values, run_hooks=False)


def make_web_form(*, actor, **data):
    from guanxi.leads.services.capture import web_form_create

    fields = data.pop(
        "fields",
        [
            {"field": "name", "label_zh": "姓名", "label_en": "Name", "required": True},
            {"field": "company", "label_zh": "公司", "label_en": "Company", "required": False},
            {"field": "phone", "label_zh": "电话", "label_en": "Phone", "required": False},
            {"field": "email", "label_zh": "邮箱", "label_en": "E-mail", "required": False},
            {"field": "notes", "label_zh": "留言", "label_en": "Message", "required": False},
        ],
    )
    values = {"name": "Website contact form", "title_en": "Contact us", "title_zh": "联系我们"}
    values.update(data)
    return web_form_create(actor=actor, data=values, fields=fields)


register_leak_maker(Lead, make_lead)

__all__ = ["make_lead", "make_web_form", "WebForm"]


# --- public pools (公海) ------------------------------------------------------------------------
def make_pool(*, kind="leads", name=None, members=(), member_departments=(), **data):
    """A pool with no recycle rule; its members see and claim what it holds."""
    from guanxi.leads.models import Pool

    pool = Pool.objects.create(kind=kind, name=name or f"{kind} pool", **data)
    pool.members.set(members)
    pool.member_departments.set(member_departments)
    return pool


def make_recycle_rule(*, pool, **data):
    from guanxi.leads.models import RecycleRule

    return RecycleRule.objects.create(pool=pool, **data)


def make_pool_lead(*, owner, label="pool lead", actor=None, pool=None, **data):
    """A lead owned by `owner` (assignment hooks off); with `pool` (and no owner) it is put
    into the pool."""
    from guanxi.leads.services.leads import lead_create
    from guanxi.leads.services.pools import pool_put

    actor = actor or owner
    lead = lead_create(actor=actor, data={"name": label, "owner": owner, **data}, run_hooks=False)
    if pool is not None:
        pool_put(record=lead, pool=pool, actor=actor, reason="test")
    return lead


def make_pool_account(*, owner, label="pool account", actor=None, pool=None, **data):
    from guanxi.customers.tests.factories import make_account
    from guanxi.leads.services.pools import pool_put

    account = make_account(owner=owner, label=label, actor=actor or owner, **data)
    if pool is not None:
        pool_put(record=account, pool=pool, actor=actor or owner, reason="test")
    return account
