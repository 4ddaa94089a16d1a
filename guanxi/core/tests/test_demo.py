"""The demo organisation: who is in it, where, with which role; idempotent; made through the
services (so history and search are filled) and meaningful for the data scope."""

import random
import re
from io import StringIO

import pytest
from django.core.management import call_command

from guanxi.core import demo as demo_module
from guanxi.core.demo import load_demo
from guanxi.core.models import ChangeRecord, Department, User
from guanxi.customers.models import Account

EXPECTED = {
    # username: (role code, department, display name)
    "sales.rep1": ("sales_rep", "华东销售部", "李娜"),
    "sales.rep2": ("sales_rep", "华东销售部", "王芳"),
    "sales.rep3": ("sales_rep", "华北销售部", "刘洋"),
    "sales.manager": ("sales_manager", "华东销售部", "陈明"),
    "zhang.wei": ("sales_rep", "华北销售部", "张伟"),
    "service.agent": ("service_agent", "客服部", "赵敏"),
    "marketing.user": ("marketing", "市场部", "孙丽"),
    "finance.user": ("finance", "财务部", "周静"),
}


def counts():
    return (
        Department.objects.count(),
        User.objects.count(),
        Account.all_objects.count(),
        ChangeRecord.objects.count(),
    )


@pytest.fixture
def loaded(db):
    return load_demo(verbosity=0, accounts=20)


def test_departments_form_the_tree(loaded):
    top = Department.objects.get(name="总经办")
    assert top.parent is None
    sales = Department.objects.get(name="销售中心")
    assert sales.parent == top
    for name in ("华东销售部", "华北销售部"):
        department = Department.objects.get(name=name)
        assert department.parent == sales
        assert department.path.startswith(sales.path)
    for name in ("市场部", "客服部", "财务部"):
        assert Department.objects.get(name=name).parent == top


def test_named_users_have_their_roles_departments_and_password(loaded):
    for username, (role, department, display_name) in EXPECTED.items():
        user = User.objects.get(username=username)
        assert list(user.roles.values_list("code", flat=True)) == [role], username
        assert user.department.name == department, username
        assert user.display_name == display_name
        assert user.check_password("demo"), username
    assert Department.objects.get(name="华东销售部").manager.username == "sales.manager"
    english = User.objects.filter(display_name__regex=r"^[A-Za-z ]+$")
    assert english.count() >= 2


def test_accounts_are_created_through_the_services(loaded):
    accounts = Account.objects.all()
    assert accounts.count() == 20
    owners = set(accounts.values_list("owner__username", flat=True))
    assert owners <= set(demo_module.ACCOUNT_OWNERS)
    assert len(owners) >= 3
    for account in accounts:
        assert account.department_id == account.owner.department_id
        assert account.name
        # Normalised by the account service: "010 1234 5678", "0592 123 4567", "138 ...".
        assert re.fullmatch(r"\d{3,4} \d{3,4} \d{4}", account.phone), account.phone
        assert account.phone_digits
        if account.kind == Account.Kind.COMPANY:
            assert account.industry.picklist.code == "industry"
    # Every account has its creation in the history, by its owner.
    created = ChangeRecord.objects.filter(content_type__model="account", action="create")
    assert created.count() == 20
    assert set(created.values_list("actor__username", flat=True)) == owners
    assert any(
        name.endswith(("有限公司", "股份有限公司"))
        for name in accounts.values_list("name", flat=True)
    )


def test_loading_twice_changes_nothing(loaded):
    before = counts()
    again = load_demo(verbosity=0, accounts=20)
    assert counts() == before
    assert again.created_accounts is False
    assert len(again.accounts) == 20


def test_demo_data_shows_the_data_scope(loaded):
    rep1 = User.objects.get(username="sales.rep1")
    manager = User.objects.get(username="sales.manager")
    east = Department.objects.get(name="华东销售部")
    visible_to_rep = Account.objects.visible_to(rep1)
    assert set(visible_to_rep.values_list("owner_id", flat=True)) <= {rep1.pk}
    east_accounts = Account.objects.filter(department=east)
    assert set(Account.objects.visible_to(manager)) >= set(east_accounts)
    assert east_accounts.count() > visible_to_rep.count()


def test_the_same_seed_gives_the_same_accounts():
    first = demo_module._account_rows(random.Random(42), 30, {})
    second = demo_module._account_rows(random.Random(42), 30, {})
    assert [row["name"] for row in first] == [row["name"] for row in second]
    assert len({row["name"] for row in first}) == 30


@pytest.mark.django_db
def test_demo_command(org):
    out = StringIO()
    call_command("demo", accounts=5, stdout=out)
    assert "Demo data loaded" in out.getvalue()
    assert "sales.rep1" in out.getvalue()
    # The org fixture's 销售中心 sits at the top; the demo makes its own under 总经办.
    assert Account.objects.count() == 5
    out = StringIO()
    call_command("demo", accounts=5, stdout=out)
    assert "already loaded" in out.getvalue()
    assert Account.objects.count() == 5


def test_every_demo_phone_is_a_valid_number():
    """The demo's accounts feed contacts, duplicates and search: their phones must pass the
    same validation a user's input does."""
    import random
    from collections import defaultdict

    from guanxi.core.demo import _account_rows
    from guanxi.core.phones import phone_is_valid

    rows = _account_rows(random.Random(42), 400, defaultdict(lambda: None))
    assert rows and all(phone_is_valid(row["phone"]) for row in rows if row.get("phone"))
