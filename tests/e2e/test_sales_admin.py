"""Sales screens in the browser beyond the main story (test_sales.py): an administrator
drags the stages of a sales process into a new order, the decision-chain diagram of an
opportunity draws its contacts, and the opportunity form refuses a stage change whose exit
criteria are not met without losing what the user typed."""

import re
from decimal import Decimal

import pytest
from playwright.sync_api import expect

from .conftest import login

pytestmark = [pytest.mark.django_db(transaction=True), pytest.mark.usefixtures("sales_defaults")]


def _speak_english(*users) -> None:
    for user in users:
        user.language = "en"
        user.save(update_fields=["language"])


def _console_errors(page) -> list[str]:
    """Collects what the page logs as console errors (failed loads of scripts included)."""
    errors: list[str] = []
    page.on(
        "console",
        lambda message: errors.append(message.text) if message.type == "error" else None,
    )
    return errors


def _pipeline_stages():
    from guanxi.sales.models import Pipeline

    pipeline = Pipeline.objects.get(is_default=True)
    return pipeline, list(pipeline.stages.order_by("sort_order", "id"))


def _account_with_contacts(owner, names):
    from guanxi.customers.services import contact_create
    from guanxi.customers.tests.factories import make_account

    account = make_account(owner=owner, label="宁波海天机电有限公司", actor=owner)
    contacts = [
        contact_create(actor=owner, data={"name": name, "owner": owner}, account=account)
        for name in names
    ]
    return account, contacts


# --- 1. the sales process screen: drag a stage above another ----------------------------------
def test_administrator_drags_a_stage_above_another_and_the_order_is_saved(e2e_org, new_page):
    from guanxi.sales.models import Stage

    org = e2e_org
    _speak_english(org.admin)
    pipeline, stages = _pipeline_stages()
    names = [stage.name_en for stage in stages]
    assert names == ["Qualification", "Needs analysis", "Proposal", "Negotiation", "Won", "Lost"]
    by_name = {stage.name_en: stage for stage in stages}

    page = new_page(locale="en")
    errors = _console_errors(page)
    login(page, "admin")
    page.goto(f"/sales/admin/pipelines/{pipeline.pk}/")
    items = page.locator("#stage-list > li[data-stage]")
    expect(items).to_have_count(6)

    def item(name):
        return page.locator(f'#stage-list > li[data-stage="{by_name[name].pk}"]')

    def shown_order():
        return [int(pk) for pk in items.evaluate_all("(els) => els.map((e) => e.dataset.stage)")]

    # Negotiation, dragged by its handle onto Needs analysis, lands above it; the new
    # order is posted as soon as the stage is dropped.
    with page.expect_response(re.compile(r"/reorder/$")) as answer:
        item("Negotiation").locator(".bi-grip-vertical").drag_to(
            item("Needs analysis"), target_position={"x": 20, "y": 3}
        )
    assert answer.value.status == 204
    wanted = ["Qualification", "Negotiation", "Needs analysis", "Proposal", "Won", "Lost"]
    assert shown_order() == [by_name[name].pk for name in wanted]
    orders = dict(Stage.objects.filter(pipeline=pipeline).values_list("name_en", "sort_order"))
    assert sorted(orders, key=orders.get) == wanted
    assert orders["Negotiation"] < orders["Needs analysis"] < orders["Proposal"]

    # The order stays after a reload, on this screen and in the list of processes.
    page.reload()
    expect(items).to_have_count(6)
    assert shown_order() == [by_name[name].pk for name in wanted]
    page.goto("/sales/admin/pipelines/")
    expect(page.locator("#pipelines tbody tr").first).to_contain_text(
        "Qualification → Negotiation → Needs analysis → Proposal → Won → Lost"
    )

    assert not errors, errors

    # A closing stage cannot go above the open ones: the refusal is shown above the list,
    # which goes back to the saved order.
    page.goto(f"/sales/admin/pipelines/{pipeline.pk}/")
    expect(items).to_have_count(6)
    message = page.locator("#stage-order-message")
    expect(message).to_be_hidden()
    with page.expect_response(re.compile(r"/reorder/$")) as answer:
        item("Won").locator(".bi-grip-vertical").drag_to(
            item("Qualification"), target_position={"x": 20, "y": 3}
        )
    assert answer.value.status == 400
    expect(message).to_be_visible()
    expect(message).to_have_text("The won and lost stages come after the open stages.")
    expect(items.first).to_have_attribute("data-stage", str(by_name["Qualification"].pk))
    assert shown_order() == [by_name[name].pk for name in wanted]
    orders = dict(Stage.objects.filter(pipeline=pipeline).values_list("name_en", "sort_order"))
    assert sorted(orders, key=orders.get) == wanted
    # The only console error is the refused request itself.
    assert len(errors) == 1 and "400" in errors[0], errors


# --- 2. the decision chain on the opportunity page -------------------------------------------
GREEN, GREY, RED = "#198754", "#6c757d", "#dc3545"

# What the SVG chart draws for each contact: the two lines of its label (drawn as two
# <text> elements at the same place) and the circle right above them (same centre x).
DRAWN_NODES = """() => {
  const svg = document.querySelector("#decision-chain svg");
  const circles = [...svg.querySelectorAll("path")].filter(
    (path) => (path.getAttribute("d") || "").startsWith("M1 0A1 1 0 1 1"));
  const labels = {};
  for (const text of svg.querySelectorAll("text")) {
    const key = text.getAttribute("transform");
    (labels[key] = labels[key] || []).push(text);
  }
  const centre = (box) => ({x: box.left + box.width / 2, y: box.top + box.height / 2});
  return Object.values(labels).filter((texts) => texts.length === 2).map(([name, caption]) => {
    const at = centre(name.getBoundingClientRect());
    const above = circles.filter((circle) => centre(circle.getBoundingClientRect()).y < at.y);
    const circle = above.sort((a, b) =>
      Math.abs(centre(a.getBoundingClientRect()).x - at.x)
      - Math.abs(centre(b.getBoundingClientRect()).x - at.x))[0];
    return {
      name: name.textContent,
      caption: caption.textContent,
      colour: circle && circle.getAttribute("fill"),
      diameter: circle && Math.round(circle.getBoundingClientRect().width),
    };
  }).sort((a, b) => a.name.localeCompare(b.name));
}"""

# The legend's entries: a label and the colour swatch drawn just before it.
DRAWN_LEGEND = """() => [
  ...document.querySelectorAll("#decision-chain svg text[text-anchor=start]")
].map((text) => ({
  label: text.textContent,
  colour: text.previousElementSibling.getAttribute("fill"),
}))"""


def test_decision_chain_diagram_shows_each_contact_role_attitude_and_influence(e2e_org, new_page):
    from guanxi.core.models import PicklistOption
    from guanxi.sales.services.opportunities import opportunity_contact_set, opportunity_create

    org = e2e_org
    _speak_english(org.rep1)
    account, (chen, li, zhao) = _account_with_contacts(org.rep1, ["Chen Jie", "Li Na", "Zhao Lei"])
    opportunity = opportunity_create(
        actor=org.rep1,
        data={"name": "Haitian ERP rollout", "account": account, "amount": Decimal("80000")},
    )
    roles = {
        option.value: option
        for option in PicklistOption.objects.filter(picklist__code="contact_role")
    }
    for contact, role, attitude, influence in (
        (chen, "decision_maker", "supporter", "high"),
        (li, "influencer", "neutral", "medium"),
        (zhao, "user", "opponent", "low"),
    ):
        opportunity_contact_set(
            opportunity=opportunity,
            actor=org.rep1,
            contact=contact,
            role=roles[role],
            attitude=attitude,
            influence=influence,
        )

    page = new_page(locale="en")
    errors = _console_errors(page)
    login(page, "rep1")
    page.goto(f"/sales/opportunities/{opportunity.pk}/")
    # The table lists them...
    table = page.locator("#deal-contacts-table tbody tr")
    expect(table).to_have_count(3)
    expect(table.nth(0)).to_contain_text("Chen Jie")
    expect(table.nth(0)).to_contain_text("Decision maker")
    # ...and the diagram draws them: a circle per contact in its attitude's colour, sized
    # by its influence, with the name and "role · attitude · influence" under it.
    expect(page.locator("#decision-chain svg")).to_have_count(1)
    expected = [
        {
            "name": "Chen Jie",
            "caption": "Decision maker · Supporter · Influence: High",
            "colour": GREEN,
            "diameter": 52,
        },
        {
            "name": "Li Na",
            "caption": "Influencer · Neutral · Influence: Medium",
            "colour": GREY,
            "diameter": 36,
        },
        {
            "name": "Zhao Lei",
            "caption": "User · Opponent · Influence: Low",
            "colour": RED,
            "diameter": 24,
        },
    ]
    # (Waits out the chart's appearing animation, in which the circles grow.)
    page.wait_for_function(
        f"(expected) => JSON.stringify(({DRAWN_NODES})()) === JSON.stringify(expected)",
        arg=expected,
    )
    assert page.evaluate(DRAWN_NODES) == expected
    # The legend says what the colours mean.
    assert page.evaluate(DRAWN_LEGEND) == [
        {"label": "Supporter", "colour": GREEN},
        {"label": "Neutral", "colour": GREY},
        {"label": "Opponent", "colour": RED},
    ]
    assert not errors, errors


# --- 3. the exit criteria on the opportunity's edit form ---------------------------------------
def test_edit_form_refuses_a_stage_change_without_the_exit_criteria_and_keeps_the_input(
    e2e_org, new_page
):
    from guanxi.sales.models import Opportunity
    from guanxi.sales.services.opportunities import opportunity_create, opportunity_move

    org = e2e_org
    _speak_english(org.rep1)
    _, stages = _pipeline_stages()
    by_name = {stage.name_en: stage for stage in stages}
    account, _ = _account_with_contacts(org.rep1, [])
    opportunity = opportunity_create(
        actor=org.rep1,
        data={"name": "Haitian ERP rollout", "account": account, "amount": Decimal("80000")},
    )
    opportunity_move(opportunity=opportunity, actor=org.rep1, stage=by_name["Needs analysis"])
    opportunity.refresh_from_db()
    version = opportunity.version
    assert opportunity.expected_close_date is None

    page = new_page(locale="en")
    errors = _console_errors(page)
    login(page, "rep1")
    detail = f"/sales/opportunities/{opportunity.pk}/"
    page.goto(f"{detail}edit/")
    form = page.locator("#record-form")
    form.locator("input[name=name]").fill("Haitian ERP rollout, phase 1")
    form.locator("input[name=amount]").fill("95000")
    form.locator("[name=next_step]").fill("Call the CFO on Monday")
    form.locator("select[name=stage]").select_option(str(by_name["Proposal"].pk))
    form.locator("button[type=submit].btn-primary").last.click()

    # Refused, saying what is missing; nothing typed is lost and nothing is saved.
    form = page.locator("#record-form")
    expect(form.locator(".alert-danger")).to_have_text(
        "Before leaving Needs analysis, fill in: expected close date."
    )
    expect(page).to_have_url(re.compile(rf"{detail}edit/$"))
    expect(form.locator("input[name=name]")).to_have_value("Haitian ERP rollout, phase 1")
    expect(form.locator("input[name=amount]")).to_have_value("95000")
    expect(form.locator("[name=next_step]")).to_have_value("Call the CFO on Monday")
    expect(form.locator("select[name=stage]")).to_have_value(str(by_name["Proposal"].pk))
    opportunity.refresh_from_db()
    assert opportunity.stage == by_name["Needs analysis"]
    assert opportunity.name == "Haitian ERP rollout" and opportunity.next_step == ""
    assert opportunity.amount == Decimal("80000") and opportunity.version == version

    # With the close date filled in on the same form, the change goes through.
    form.locator("input[name=expected_close_date]").fill("2030-06-30")
    form.locator("button[type=submit].btn-primary").last.click()
    expect(page).to_have_url(re.compile(rf"{detail}$"))
    expect(page.locator("#opportunity-stage")).to_have_text("Proposal")
    opportunity = Opportunity.objects.get(pk=opportunity.pk)
    assert opportunity.stage == by_name["Proposal"]
    assert opportunity.name == "Haitian ERP rollout, phase 1"
    assert opportunity.next_step == "Call the CFO on Monday"
    assert opportunity.amount == Decimal("95000")
    assert str(opportunity.expected_close_date) == "2030-06-30"
    assert not errors, errors
