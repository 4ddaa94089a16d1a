"""Leads in the browser: a visitor submits the hosted web form and the assignment rule hands
the lead to a rep, who finds it in their lead list; a rep logs a follow-up on a lead,
converts it into a new account and contact, and finds the follow-up on the account."""

import datetime
import importlib
import re

import pytest
from django.apps import apps as django_apps
from django.utils import timezone
from playwright.sync_api import expect

from .conftest import login

pytestmark = pytest.mark.django_db(transaction=True)


@pytest.fixture(autouse=True)
def lead_picklists(e2e_org):
    """The lead sources and the follow-up channels, which the transactional flush removed."""
    for module, function in (
        ("guanxi.leads.migrations.0002_lead_picklists", "create_sources"),
        ("guanxi.activities.migrations.0002_activity_picklists", "create_picklists"),
    ):
        getattr(importlib.import_module(module), function)(django_apps, None)


def _speaks_english(user) -> None:
    user.language = "en"
    user.save(update_fields=["language"])


def test_a_visitor_submits_the_hosted_form_and_the_rule_assigns_the_lead(e2e_org, new_page):
    from guanxi.leads.models import Lead
    from guanxi.leads.services.assignment import assignment_rule_save
    from guanxi.leads.services.capture import TIMESTAMP_FIELD, web_form_token
    from guanxi.leads.tests.factories import make_web_form

    org = e2e_org
    form = make_web_form(actor=org.admin, thank_you_zh="谢谢您的留言，我们会尽快联系您。")
    assignment_rule_save(
        actor=org.admin,
        data={
            "name": "Website leads to rep2",
            "action": "user",
            "user": org.rep2,
            "conditions": {"web_forms": [form.pk]},
        },
        members=[],
    )

    visitor = new_page(locale="zh-CN")
    visitor.goto(f"/leads/f/{form.key}/")
    expect(visitor.locator("#web-form-title")).to_have_text("联系我们")
    web_form = visitor.locator("#web-form")
    web_form.get_by_label("姓名").fill("韩梅梅")
    web_form.get_by_label("公司").fill("杭州云图科技")
    web_form.get_by_label("电话").fill("13900139000")
    web_form.get_by_label("邮箱").fill("han.meimei@example.com")
    web_form.get_by_label("留言").fill("想了解企业版的报价")
    # A person takes more than the ~2 seconds the form insists on: instead of waiting, the
    # page carries a timestamp signed (by the same helper) as if served half a minute ago.
    served = web_form_token(form, now=timezone.now() - datetime.timedelta(seconds=30))
    web_form.locator(f"input[name={TIMESTAMP_FIELD}]").evaluate(
        "(input, token) => { input.value = token; }", served
    )
    # (The button's label comes from the translation catalogue, hence its id.)
    web_form.locator("#web-form-submit").click()

    expect(visitor.locator("#web-form-thanks")).to_have_text("谢谢您的留言，我们会尽快联系您。")
    lead = Lead.objects.get(name="韩梅梅")
    assert (lead.owner, lead.web_form, lead.company) == (org.rep2, form, "杭州云图科技")
    assert form.submissions.get().accepted

    rep = new_page()
    login(rep, "rep2")
    rep.goto("/leads/")
    row = rep.locator("#record-table tr", has_text="韩梅梅")
    expect(row).to_be_visible()
    expect(row).to_contain_text("杭州云图科技")
    expect(row).to_contain_text(org.rep2.display_name)
    row.get_by_role("link", name="韩梅梅").click()
    expect(rep).to_have_url(re.compile(rf"/leads/{lead.pk}/$"))
    expect(rep.locator("#lead-email")).to_contain_text("han.meimei@example.com")


def test_convert_a_lead_and_find_its_follow_up_on_the_new_account(e2e_org, new_page):
    from guanxi.activities.models import FollowUp
    from guanxi.customers.models import Account, Contact
    from guanxi.leads.models import Lead
    from guanxi.leads.services.leads import lead_create

    org = e2e_org
    _speaks_english(org.rep1)
    lead = lead_create(
        actor=org.rep1,
        data={"name": "李雷", "company": "苏州精工机械", "phone": "13800138123"},
        run_hooks=False,
    )
    page = new_page(locale="en")
    login(page, "rep1")
    page.goto(f"/leads/{lead.pk}/")

    follow_up_form = page.locator("#quick-follow-up")
    follow_up_form.get_by_label("channel").select_option("phone")
    follow_up_form.get_by_label("what was said").fill("Wants a quote for 20 machines")
    follow_up_form.get_by_role("button", name="Log follow-up").click()
    expect(page.locator("#lead-follow-ups")).to_contain_text("Wants a quote for 20 machines")

    page.locator("#lead-action-convert").click()
    expect(page).to_have_url(re.compile(rf"/leads/{lead.pk}/convert/$"))
    convert = page.locator("#convert-form")
    convert.get_by_label("Create a new account").check()
    convert.get_by_label("Name of the new account").fill("苏州精工机械有限公司")
    convert.get_by_label("Create a new contact").check()
    expect(convert.get_by_label("Name of the new contact")).to_have_value("李雷")
    convert.get_by_role("button", name="Convert").click()

    expect(page).to_have_url(re.compile(r"/customers/accounts/\d+/$"))
    expect(page.locator("main h1")).to_contain_text("苏州精工机械有限公司")
    expect(page.locator("main .alert-success")).to_contain_text("Lead converted")
    expect(page.locator("#section-follow_ups")).to_contain_text("Wants a quote for 20 machines")

    account = Account.objects.get(name="苏州精工机械有限公司")
    assert page.url.endswith(f"/customers/accounts/{account.pk}/")
    lead.refresh_from_db()
    assert lead.status == "converted"
    assert lead.converted_account == account
    assert lead.converted_contact == Contact.objects.get(name="李雷")
    follow_up = FollowUp.objects.get(content="Wants a quote for 20 machines")
    assert follow_up.account_id == account.pk

    # Converting twice is impossible: the lead page no longer offers it, the URL refuses.
    page.goto(f"/leads/{lead.pk}/")
    expect(page.locator("#lead-converted")).to_contain_text("苏州精工机械有限公司")
    expect(page.locator("#lead-action-convert")).to_have_count(0)
    page.goto(f"/leads/{lead.pk}/convert/")
    expect(page).to_have_url(re.compile(rf"/leads/{lead.pk}/$"))
    assert Account.objects.count() == 1 and Lead.objects.get(pk=lead.pk).status == "converted"
