from tests.e2e.conftest import login


def test_shots(new_page, e2e_org):
    from guanxi.core.services.records import record_create
    from guanxi.customers import services
    from guanxi.customers.models import Account
    rep1 = e2e_org.rep1
    rep1.language = "en"; rep1.save()
    a = record_create(model=Account, data={"name": "上海明达贸易有限公司", "city": "上海市"}, actor=rep1)
    p = services.contact_create(actor=rep1, data={"name": "王小明", "title": "采购经理"}, phones=[{"number": "13812345678"}, {"number": "010-65123456", "kind": "work"}], emails=[{"address": "wxm@example.com"}], account=a, job_title="采购经理", is_primary=True)
    q = services.contact_create(actor=rep1, data={"name": "李雷"}, account=a)
    services.contact_relation_add(from_contact=q, to_contact=p, kind="reports_to", actor=rep1)
    services.points_record(account=a, kind="earn", points=1200, reason="订单", actor=rep1)
    page = new_page(locale="en", viewport={"width": 1400, "height": 1000})
    login(page, "rep1")
    page.goto(f"/customers/contacts/{p.pk}/"); page.wait_for_timeout(800)
    page.screenshot(path="/tmp/shot_contact.png", full_page=True)
    page.goto(f"/customers/contacts/{p.pk}/edit/"); page.wait_for_timeout(800)
    page.screenshot(path="/tmp/shot_contact_edit.png", full_page=True)
    page.goto("/customers/contacts/"); page.wait_for_timeout(500)
    page.screenshot(path="/tmp/shot_contact_list.png")
    page.goto("/customers/groups/new/"); page.wait_for_timeout(500)
    page.locator("select[name=kind]").select_option("dynamic"); page.wait_for_timeout(800)
    page.locator(".gx-condition-add").click()
    page.locator(".gx-condition-row select").first.select_option("industry"); page.wait_for_timeout(300)
    page.locator(".gx-condition-add").click()
    page.locator(".gx-condition-row").nth(1).locator("select").first.select_option("city")
    page.locator(".gx-condition-row").nth(1).locator("input").fill("上海市"); page.wait_for_timeout(1000)
    page.screenshot(path="/tmp/shot_group_form.png", full_page=True)
    page.goto(f"/customers/accounts/{a.pk}/"); page.wait_for_timeout(800)
    page.screenshot(path="/tmp/shot_account.png", full_page=True)
