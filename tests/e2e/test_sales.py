"""The sales story in the browser: a rep converts a lead with "also create an opportunity",
prices the deal with product lines from the default price book, drags it across the
pipeline board (the exit criteria refuse one move with a clear message until the missing
field is filled in), wins it, and sees the funnel and the forecast against the target move."""

import datetime
import re
from decimal import Decimal

import pytest
from django.utils import timezone
from playwright.sync_api import expect

from .conftest import login

pytestmark = [pytest.mark.django_db(transaction=True), pytest.mark.usefixtures("sales_defaults")]


def _catalogue(admin):
    """Two products priced in the default CNY price book (the software with a volume tier)."""
    from guanxi.sales.models import PriceBook
    from guanxi.sales.services.catalogue import price_book_prices_set, product_create

    software = product_create(actor=admin, data={"code": "ERP-STD", "name": "ERP Standard"})
    service = product_create(actor=admin, data={"code": "IMPL", "name": "Implementation"})
    book = PriceBook.objects.get(currency="CNY", is_default=True)
    price_book_prices_set(
        actor=admin,
        price_book=book,
        prices={
            software: [(Decimal("1"), Decimal("12000")), (Decimal("10"), Decimal("10000"))],
            service: [(Decimal("1"), Decimal("3000"))],
        },
    )
    return software, service


def _stages():
    from guanxi.sales.models import Pipeline

    pipeline = Pipeline.objects.get(is_default=True)
    return {stage.name_en: stage for stage in pipeline.stages.all()}


def _pick_product(row, code: str, product) -> None:
    """Choose a product in a line's look-up select: type the code, wait for the match.

    Focusing the search box loads every product and typing then searches; the code matches
    one product only, so a single match means the search has answered (choosing earlier
    would lose the choice when the search's answer replaces the matches)."""
    row.locator("input[data-lookup-search]").fill(code)
    select = row.locator("select[name$='-product']")
    matches = select.locator("optgroup option")
    expect(matches).to_have_count(1)
    expect(matches).to_have_attribute("value", str(product.pk))
    select.select_option(str(product.pk))
    expect(select).to_have_value(str(product.pk))


def _figure(page, name: str):
    return page.locator(f"#forecast-totals [data-figure={name}]")


def test_from_converted_lead_to_won_deal_on_board_funnel_and_forecast(e2e_org, new_page):
    from guanxi.leads.models import Lead
    from guanxi.leads.services.leads import lead_create
    from guanxi.sales.models import Opportunity
    from guanxi.sales.services.forecast import target_set

    org = e2e_org
    org.rep1.language = "en"
    org.rep1.save(update_fields=["language"])
    software, service = _catalogue(org.admin)
    stages = _stages()
    today = timezone.localdate()
    target_set(
        actor=org.admin,
        year=today.year,
        month=today.month,
        level="user",
        user=org.rep1,
        amount=Decimal("50000"),
    )
    lead = lead_create(
        actor=org.rep1,
        data={"name": "Wang Fang", "company": "宁波海天机电", "phone": "13800138456"},
        run_hooks=False,
    )

    page = new_page(locale="en")
    login(page, "rep1")

    # 1. Convert the lead, asking for an opportunity too; it lands on the new account.
    page.goto(f"/leads/{lead.pk}/convert/")
    convert = page.locator("#convert-form")
    convert.get_by_label("Create a new account").check()
    convert.get_by_label("Name of the new account").fill("宁波海天机电有限公司")
    convert.get_by_label("Create a new contact").check()
    convert.get_by_label("Also create an opportunity").check()
    convert.get_by_label("Opportunity name").fill("Haitian ERP rollout")
    convert.get_by_role("button", name="Convert").click()

    expect(page).to_have_url(re.compile(r"/customers/accounts/\d+/$"))
    section = page.locator("#section-opportunities")
    section.scroll_into_view_if_needed()  # the section loads when it comes into view
    link = section.get_by_role("link", name="Haitian ERP rollout")
    expect(link).to_be_visible()
    opportunity = Opportunity.objects.get(name="Haitian ERP rollout")
    assert opportunity.account.name == "宁波海天机电有限公司"
    assert opportunity.lead_id == lead.pk and opportunity.owner == org.rep1
    assert Lead.objects.get(pk=lead.pk).status == "converted"
    link.click()
    detail = f"/sales/opportunities/{opportunity.pk}/"
    expect(page).to_have_url(re.compile(rf"{detail}$"))
    expect(page.locator("#opportunity-stage")).to_have_text("Qualification")
    expect(page.locator("#opportunity-account")).to_have_text("宁波海天机电有限公司")
    # The lead's person came along as the deal's primary contact.
    expect(page.locator("#deal-contacts-table")).to_contain_text("Wang Fang")

    # 2. Two product lines with empty unit prices: the price book prices them, and the
    # amount becomes their sum (2 × 12,000 + 1 × 3,000 − 10 % = 26,700).
    lines = page.locator("#lines-form")
    rows = lines.locator("tbody tr")
    _pick_product(rows.nth(0), "ERP", software)
    rows.nth(0).locator("input[name$='-quantity']").fill("2")
    _pick_product(rows.nth(1), "IMPL", service)
    rows.nth(1).locator("input[name$='-quantity']").fill("1")
    rows.nth(1).locator("input[name$='-discount_percent']").fill("10")
    lines.locator("#lines-save").click()

    expect(page.locator("main .alert-success")).to_contain_text("Product lines saved")
    expect(page.locator("#lines-total")).to_have_text("26,700.00 CNY")
    expect(rows.nth(0).locator("input[name$='-unit_price']")).to_have_value("12000.00")
    expect(rows.nth(1).locator("input[name$='-unit_price']")).to_have_value("3000.00")
    expect(page.locator("#opportunity-amount")).to_contain_text("26,700.00 CNY")
    expect(page.locator("#opportunity-amount")).to_contain_text("from product lines")
    opportunity.refresh_from_db()
    assert opportunity.amount == Decimal("26700.00") and opportunity.amount_from_lines

    # 3. The board: Qualification → Needs analysis is saved; Needs analysis → Proposal is
    # refused while the expected close date is missing, and the card goes back.
    page.goto("/sales/board/")
    card = page.locator(f'.gx-card[data-id="{opportunity.pk}"]')

    def cards_of(stage):
        return page.locator(f'.gx-board-cards[data-stage="{stage.pk}"]')

    def count_of(stage):
        return page.locator(f'.gx-board-column[data-stage="{stage.pk}"] [data-total=count]')

    expect(cards_of(stages["Qualification"]).locator(card)).to_be_visible()
    card.drag_to(cards_of(stages["Needs analysis"]))
    expect(count_of(stages["Needs analysis"])).to_have_text("1")
    expect(count_of(stages["Qualification"])).to_have_text("0")
    expect(page.locator("#board-message")).to_be_hidden()
    opportunity.refresh_from_db()
    assert opportunity.stage == stages["Needs analysis"]

    card.drag_to(cards_of(stages["Proposal"]))
    message = page.locator("#board-message")
    expect(message).to_be_visible()
    expect(message).to_contain_text("Before leaving Needs analysis, fill in: expected close date")
    expect(cards_of(stages["Needs analysis"]).locator(card)).to_be_visible()
    expect(cards_of(stages["Proposal"]).locator(card)).to_have_count(0)
    expect(count_of(stages["Proposal"])).to_have_text("0")
    opportunity.refresh_from_db()
    assert opportunity.stage == stages["Needs analysis"]

    # The rep fills the close date in on the opportunity's edit page: the end of this
    # month, so that the deal counts in this month's forecast.
    next_month = (today.replace(day=28) + datetime.timedelta(days=4)).replace(day=1)
    close_on = next_month - datetime.timedelta(days=1)
    page.goto(f"{detail}edit/")
    form = page.locator("#record-form")
    form.locator("input[name=expected_close_date]").fill(close_on.isoformat())
    form.locator("button[type=submit].btn-primary").last.click()
    expect(page).to_have_url(re.compile(rf"{detail}$"))
    opportunity.refresh_from_db()
    assert opportunity.expected_close_date == close_on

    page.goto("/sales/board/")
    card.drag_to(cards_of(stages["Proposal"]))
    expect(count_of(stages["Proposal"])).to_have_text("1")
    expect(cards_of(stages["Proposal"]).locator(card)).to_be_visible()
    expect(page.locator("#board-message")).to_be_hidden()
    opportunity.refresh_from_db()
    assert opportunity.stage == stages["Proposal"]
    assert opportunity.probability == stages["Proposal"].probability

    # The forecast for this month before the win: nothing won yet against the target.
    forecast = f"/sales/forecast/?period={today:%Y-%m}&who=user:{org.rep1.pk}"
    page.goto(forecast)
    expect(_figure(page, "target")).to_have_text("50,000.00")
    expect(_figure(page, "closed_won")).to_have_text("0.00")
    expect(_figure(page, "pipeline")).to_have_text("26,700.00")

    # 4. Win it on the opportunity page (Proposal's exit criteria — amount and a contact,
    # the converted lead's contact — are met), confirming the question.
    page.goto(detail)
    page.locator("#action-win").click()
    # The panel opens with an animation: type and click once it is fully open.
    expect(page.locator("#win-panel")).to_have_class(re.compile(r"(^|\s)show(\s|$)"))
    win = page.locator("#win-form")
    win.locator("textarea[name=note]").fill("Signed after the site visit")
    questions = []
    page.once("dialog", lambda dialog: (questions.append(dialog.message), dialog.accept()))
    with page.expect_navigation():
        win.locator("#win-save").click()

    assert questions == ["Mark this opportunity as won?"]
    # Every message, so that a refusal shows its reason when this fails.
    expect(page.locator("main .alert").first).to_be_visible()
    assert page.locator("main .alert").all_inner_texts() == ["Marked as won."]
    expect(page.locator("#opportunity-status")).to_have_text("Won")
    expect(page.locator("#opportunity-stage")).to_have_text("Won")
    opportunity.refresh_from_db()
    assert opportunity.is_won and opportunity.is_closed
    assert opportunity.stage == stages["Won"]

    # The funnel shows it in the won stage (and as having reached every stage before).
    page.goto("/sales/funnel/")
    steps = page.locator("#funnel-steps")
    won_row = steps.locator(f'tr[data-stage="{stages["Won"].pk}"]')
    expect(won_row.locator("td").nth(1)).to_have_text("1")
    expect(won_row.locator("td").nth(2)).to_contain_text("26,700")
    expect(won_row.locator("td").nth(3)).to_have_text("1")
    proposal_row = steps.locator(f'tr[data-stage="{stages["Proposal"].pk}"]')
    expect(proposal_row.locator("td").nth(1)).to_have_text("0")
    expect(proposal_row.locator("td").nth(3)).to_have_text("1")

    # The forecast: closed won went up by the deal against the rep's target.
    page.goto(forecast)
    expect(_figure(page, "closed_won")).to_have_text("26,700.00")
    expect(_figure(page, "target")).to_have_text("50,000.00")
    expect(_figure(page, "attainment")).to_have_text("53.4%")
    expect(_figure(page, "pipeline")).to_have_text("0.00")
    rep_row = page.locator(f'#forecast-table tr[data-row="user-{org.rep1.pk}"]')
    expect(rep_row.locator("td").nth(1)).to_have_text("26,700.00")
