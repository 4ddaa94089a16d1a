"""The board page (kanban and list), the move endpoint behind drag and drop, and the menu."""

import datetime
from decimal import Decimal

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.urls import reverse

from guanxi.core.models import PicklistOption
from guanxi.sales.models import Opportunity, Pipeline, Stage, StageHistory
from guanxi.sales.services import opportunities as services
from guanxi.sales.tests.test_board_selectors import make_opportunity, stages

pytestmark = pytest.mark.django_db


@pytest.fixture
def pipeline():
    return Pipeline.objects.get(is_default=True)


def login(client, user):
    client.force_login(user)
    return client


def move(client, opportunity, stage, version=None, **extra):
    return client.post(
        reverse("sales:board_move"),
        {
            "opportunity": opportunity.pk,
            "stage": stage.pk,
            "version": opportunity.version if version is None else version,
            **extra,
        },
    )


# --- the page --------------------------------------------------------------------------------
def test_board_page_shows_columns_cards_and_totals(client, org, pipeline):
    make_opportunity(org.rep1, "华为 ERP", amount="12345.5")
    make_opportunity(org.rep3, "North secret", amount="999")
    response = login(client, org.rep1).get(reverse("sales:board"))
    assert response.status_code == 200
    html = response.content.decode()
    assert "华为 ERP" in html and "North secret" not in html
    assert "12,345.50" in html
    assert 'class="card gx-card gx-card-movable"' in html
    assert "Sortable.min.js" in html and "sales/board.js" in html
    assert html.count('class="gx-board-column') == 6
    assert reverse("sales:board_move") in html
    assert "Price" in html  # the lost dialog offers the lost reasons


def test_read_only_cards_are_not_draggable(client, org, pipeline):
    make_opportunity(org.rep1, "Look only")
    html = login(client, org.read_only).get(reverse("sales:board")).content.decode()
    assert "Look only" in html and "gx-card-movable" not in html


def test_board_as_list_with_sums(client, org, pipeline):
    s = stages(pipeline)
    make_opportunity(org.rep1, "One", amount="1000")
    make_opportunity(org.rep1, "Two", amount="3000", stage=s["Proposal"])
    response = login(client, org.rep1).get(reverse("sales:board"), {"view": "list"})
    html = response.content.decode()
    assert 'id="board-list"' in html and 'id="board"' not in html
    assert "4,000.00" in html  # open pipeline total
    assert "1,600.00" in html  # weighted: 1000 × 10% + 3000 × 50%
    assert "Show as board" in html


def test_board_filters_are_read_from_the_query(client, org, pipeline):
    make_opportunity(org.rep1, "East", amount="100")
    make_opportunity(org.rep3, "North", amount="400")
    response = login(client, org.admin).get(reverse("sales:board"), {"team": org.north.pk})
    html = response.content.decode()
    assert "North" in html and ">East<" not in html


def test_board_page_query_count_is_fixed(client, org, pipeline):
    make_opportunity(org.rep1, "First")
    login(client, org.manager)
    url = reverse("sales:board")
    client.get(url)
    with CaptureQueriesContext(connection) as few:
        client.get(url)
    for number in range(5):
        make_opportunity(org.rep2, f"More {number}")
    with CaptureQueriesContext(connection) as many:
        assert client.get(url).status_code == 200
    assert len(many) == len(few)


def test_board_needs_the_view_permission(client, org):
    from guanxi.core.models import Role

    Role.objects.filter(code="service_agent").update(permissions={"customers.account": ["view"]})
    assert login(client, org.agent).get(reverse("sales:board")).status_code == 404


def test_menu_lists_board_and_funnel(client, org):
    html = login(client, org.rep1).get(reverse("sales:board")).content.decode()
    assert reverse("sales:funnel") in html and "Pipeline board" in html


# --- moving ----------------------------------------------------------------------------------
def test_move_answers_the_new_version_and_totals(client, org, pipeline):
    s = stages(pipeline)
    opportunity = make_opportunity(org.rep1, "Deal", amount="2000")
    make_opportunity(org.rep1, "Stays", amount="500")
    response = move(login(client, org.rep1), opportunity, s["Needs analysis"])
    assert response.status_code == 200, response.content
    data = response.json()
    opportunity.refresh_from_db()
    assert opportunity.stage == s["Needs analysis"] and opportunity.probability == 25
    assert data["version"] == opportunity.version and data["stage"] == s["Needs analysis"].pk
    needs = data["columns"][str(s["Needs analysis"].pk)]
    assert needs["count"] == 1 and needs["total"] == "2000.00" and needs["weighted"] == "500.00"
    qualification = data["columns"][str(s["Qualification"].pk)]
    assert qualification["count"] == 1 and qualification["total"] == "500.00"
    assert data["summary"]["total"] == "2500.00" and data["summary"]["weighted"] == "550.00"
    assert StageHistory.objects.filter(opportunity=opportunity).count() == 2


def test_move_totals_follow_the_board_filters(client, org, pipeline):
    s = stages(pipeline)
    opportunity = make_opportunity(org.rep1, "Mine", amount="100")
    make_opportunity(org.rep2, "Colleague's", amount="700")
    response = move(login(client, org.manager), opportunity, s["Needs analysis"], owner=org.rep1.pk)
    assert response.status_code == 200
    assert response.json()["summary"]["total"] == "100.00"


def test_exit_criteria_refusal_is_a_400_with_the_message(client, org, pipeline):
    s = stages(pipeline)
    opportunity = make_opportunity(org.rep1, "Deal", stage=s["Needs analysis"])
    response = move(login(client, org.rep1), opportunity, s["Proposal"])
    assert response.status_code == 400
    assert response.json()["detail"] == (
        "Before leaving Needs analysis, fill in: expected close date."
    )
    opportunity.refresh_from_db()
    assert opportunity.stage == s["Needs analysis"]


def test_stale_version_is_a_409(client, org, pipeline):
    s = stages(pipeline)
    opportunity = make_opportunity(org.rep1, "Deal")
    stale = opportunity.version
    services.opportunity_update(opportunity=opportunity, actor=org.rep1, data={"next_step": "Call"})
    response = move(login(client, org.rep1), opportunity, s["Needs analysis"], version=stale)
    assert response.status_code == 409
    assert "changed by someone else" in response.json()["detail"]
    assert response.json()["current_version"] == opportunity.version
    opportunity.refresh_from_db()
    assert opportunity.stage == s["Qualification"]


def test_won_column_wins(client, org, pipeline):
    s = stages(pipeline)
    opportunity = make_opportunity(
        org.rep1,
        "Deal",
        amount="800",
        stage=s["Negotiation"],
        expected_close_date=datetime.date(2030, 1, 1),
    )
    response = move(login(client, org.rep1), opportunity, s["Won"])
    assert response.status_code == 200, response.content
    opportunity.refresh_from_db()
    assert opportunity.is_won and opportunity.is_closed
    data = response.json()
    assert data["is_closed"] is True
    assert data["columns"][str(s["Won"].pk)] == {
        "count": 1,
        "total": "800.00",
        "weighted": "800.00",
        "total_display": "800.00",
        "weighted_display": "800.00",
    }


def test_lost_column_needs_a_reason(client, org, pipeline):
    s = stages(pipeline)
    opportunity = make_opportunity(org.rep1, "Deal", amount="300")
    login(client, org.rep1)
    response = move(client, opportunity, s["Lost"])
    assert response.status_code == 400
    assert response.json() == {"detail": "Say why the opportunity was lost.", "needs_reason": True}
    opportunity.refresh_from_db()
    assert not opportunity.is_closed
    price = PicklistOption.objects.get(picklist__code="lost_reason", value="price")
    response = move(client, opportunity, s["Lost"], reason=price.pk, note="Too dear")
    assert response.status_code == 200, response.content
    opportunity.refresh_from_db()
    assert opportunity.is_closed and not opportunity.is_won
    assert opportunity.lost_reason == price and opportunity.close_note == "Too dear"
    assert response.json()["columns"][str(s["Lost"].pk)]["count"] == 1


def test_invisible_opportunity_is_a_404(client, org, pipeline):
    s = stages(pipeline)
    opportunity = make_opportunity(org.rep3, "North")
    response = move(login(client, org.rep1), opportunity, s["Needs analysis"])
    assert response.status_code == 404
    opportunity.refresh_from_db()
    assert opportunity.stage == s["Qualification"]


def test_visible_but_not_editable_is_a_403(client, org, pipeline):
    s = stages(pipeline)
    opportunity = make_opportunity(org.rep1, "Deal")
    response = move(login(client, org.read_only), opportunity, s["Needs analysis"])
    assert response.status_code == 403
    opportunity.refresh_from_db()
    assert opportunity.stage == s["Qualification"]


def test_stage_of_another_pipeline_is_refused(client, org, pipeline):
    other = Pipeline.objects.create(name_zh="其他", name_en="Other")
    foreign = Stage.objects.create(pipeline=other, name_zh="A", name_en="A", kind="open")
    opportunity = make_opportunity(org.rep1, "Deal")
    response = move(login(client, org.rep1), opportunity, foreign)
    assert response.status_code == 400


def test_move_must_be_a_post_with_numbers(client, org):
    login(client, org.rep1)
    assert client.get(reverse("sales:board_move")).status_code == 405
    response = client.post(reverse("sales:board_move"), {"opportunity": "x"})
    assert response.status_code == 400


def test_move_query_count_is_fixed(client, org, pipeline):
    s = stages(pipeline)
    first = make_opportunity(org.rep1, "First", amount="1")
    second = make_opportunity(org.rep1, "Second", amount="1")
    login(client, org.rep1)
    with CaptureQueriesContext(connection) as few:
        assert move(client, first, s["Needs analysis"]).status_code == 200
    for number in range(5):
        make_opportunity(org.rep1, f"More {number}", amount=Decimal("3"))
    with CaptureQueriesContext(connection) as many:
        assert move(client, second, s["Needs analysis"]).status_code == 200
    assert len(many) == len(few)
    assert Opportunity.objects.filter(stage=s["Needs analysis"]).count() == 2


def test_more_link_opens_the_list_filtered_by_stage(client, org, pipeline, monkeypatch):
    from guanxi.sales.selectors import board as selectors

    monkeypatch.setattr(selectors, "CARDS_PER_COLUMN", 2)
    monkeypatch.setattr(selectors.board, "__kwdefaults__", {"limit": 2, "today": None})
    s = stages(pipeline)
    for number in range(3):
        make_opportunity(org.rep1, f"Deal {number}")
    html = login(client, org.rep1).get(reverse("sales:board"), {"owner": "me"}).content.decode()
    assert "1 more" in html
    list_url = reverse("sales:opportunity_list")
    expected = (
        f"{list_url}?pipeline={pipeline.pk}&amp;owner={org.rep1.pk}"
        f"&amp;stage={s['Qualification'].pk}&amp;status=open"
    )
    assert expected in html


def test_board_and_funnel_without_any_sales_process_show_an_empty_state(client, org):
    Pipeline.objects.update(is_active=False)
    client.force_login(org.rep1)
    for name in ("sales:board", "sales:funnel"):
        response = client.get(reverse(name))
        assert response.status_code == 200
        assert 'id="no-pipeline"' in response.content.decode()
        assert "Set up a sales process first." in response.content.decode()


# The card's markup as the board template wrote it before the `board_card` tag.
CARD_TEMPLATE = """{% for card in cards %}
      <article class="card gx-card{% if card.can_move %} gx-card-movable{% endif %}" data-id="{{ card.pk }}" data-version="{{ card.version }}" data-name="{{ card.name }}">
        <div class="card-body p-2">
          <div class="fw-semibold text-truncate">{% if card.url %}<a href="{{ card.url }}">{{ card.name }}</a>{% else %}{{ card.name }}{% endif %}</div>
          <div class="small text-body-secondary text-truncate">{{ card.account }}</div>
          <div class="d-flex justify-content-between small mt-1">
            <span>{{ card.amount_company|floatformat:"2g" }}</span>
            <span title="{{ close_date_label }}"><i class="bi bi-calendar-event"></i> {{ card.expected_close_date|date:"Y-m-d"|default:"—" }}</span>
          </div>
          <div class="d-flex justify-content-between small mt-1">
            <span class="text-truncate"><i class="bi bi-person"></i> {{ card.owner|default:"—" }}</span>
            <span class="badge {% if card.overdue_in_stage %}text-bg-danger gx-overdue{% else %}text-bg-light{% endif %}" title="{{ days_in_stage_label }}">{{ card.days_in_stage_text }}</span>
          </div>
        </div>
      </article>
      {% endfor %}"""  # noqa: E501


@pytest.mark.parametrize("language", ["en", "zh-hans"])
def test_the_card_tag_writes_what_the_template_wrote(language):
    import datetime
    from decimal import Decimal
    from types import SimpleNamespace

    from django.template import Context, Template
    from django.utils import translation

    cards = [
        SimpleNamespace(
            pk=7,
            version=3,
            name='A & B <"深圳">',
            url="/sales/opportunities/7/",
            account="华为 & Co",
            amount_company=Decimal("1234567.5"),
            expected_close_date=datetime.date(2026, 12, 1),
            owner="张伟",
            overdue_in_stage=True,
            days_in_stage_text="12 天",
            can_move=True,
        ),
        SimpleNamespace(
            pk=8,
            version=1,
            name="无链接",
            url="",
            account="",
            amount_company=Decimal("0"),
            expected_close_date=None,
            owner=None,
            overdue_in_stage=False,
            days_in_stage_text="0",
            can_move=False,
        ),
    ]
    labels = {"close_date_label": "Expected <close>", "days_in_stage_label": "Days"}
    tag = Template(
        "{% load board_tags %}{% for card in cards %}\n"
        "      {% board_card card close_date_label days_in_stage_label %}\n"
        "      {% endfor %}"
    )
    with translation.override(language):
        context = {"cards": cards, **labels}
        expected = Template(CARD_TEMPLATE).render(Context(context))
        assert tag.render(Context(context)) == expected
