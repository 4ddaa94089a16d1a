"""Web forms end to end with the test client: the hosted page (GET/POST, no login, the
visitor's language, every refusal), the token URL of the embedded snippet, and the
administrators' designer, preview and snippet."""

import datetime
import re

import pytest
from django.urls import reverse
from django.utils import timezone

from guanxi.leads.models import Lead, WebForm
from guanxi.leads.services.capture import HONEYPOT_FIELD, TIMESTAMP_FIELD, web_form_token
from guanxi.leads.tests.factories import make_web_form

pytestmark = pytest.mark.django_db


@pytest.fixture
def form(org):
    return make_web_form(
        actor=org.admin,
        owner=org.rep1,
        thank_you_zh="谢谢，我们会尽快联系您。",
        thank_you_en="Thanks!",
    )


def hosted(form):
    return reverse("leads:web_form_hosted", args=[form.key])


def aged_token(form, seconds=30):
    return web_form_token(form, now=timezone.now() - datetime.timedelta(seconds=seconds))


def test_the_hosted_page_needs_no_login_and_speaks_the_visitors_language(client, form):
    html = client.get(hosted(form), HTTP_ACCEPT_LANGUAGE="zh-CN").content.decode()
    assert "联系我们" in html and "姓名" in html and "留言" in html
    assert f'name="{HONEYPOT_FIELD}"' in html and f'name="{TIMESTAMP_FIELD}"' in html
    html = client.get(hosted(form), {"lang": "en"}).content.decode()
    assert "Contact us" in html and ">Name" in html and "csrfmiddlewaretoken" not in html


def test_a_visitor_submits_and_the_lead_is_assigned(client, form, org):
    response = client.post(
        f"{hosted(form)}?lang=zh-hans",
        {
            "name": "韩梅梅",
            "phone": "13900139000",
            "email": "han@example.com",
            "notes": "想了解报价",
            TIMESTAMP_FIELD: aged_token(form),
            HONEYPOT_FIELD: "",
        },
        REMOTE_ADDR="203.0.113.9",
    )
    assert response.status_code == 200
    assert "谢谢，我们会尽快联系您。" in response.content.decode()
    lead = Lead.objects.get()
    assert (lead.name, lead.owner, lead.web_form) == ("韩梅梅", org.rep1, form)
    assert form.submissions.get().ip == "203.0.113.9"


def test_posting_the_token_just_served_is_too_fast(client, form):
    html = client.get(hosted(form), {"lang": "en"}).content.decode()
    token = re.search(rf'name="{TIMESTAMP_FIELD}" value="([^"]+)"', html).group(1)
    response = client.post(f"{hosted(form)}?lang=en", {"name": "Bot", TIMESTAMP_FIELD: token})
    assert response.status_code == 400 and "too fast" in response.content.decode()
    assert not Lead.objects.exists()


def test_field_errors_are_shown_next_to_the_fields_with_the_values_kept(client, form):
    response = client.post(
        f"{hosted(form)}?lang=en",
        {"name": "", "email": "nope", "company": "ACME", TIMESTAMP_FIELD: aged_token(form)},
    )
    html = response.content.decode()
    assert response.status_code == 400
    assert html.count("field-error") == 2 and 'value="ACME"' in html
    assert not Lead.objects.exists()


def test_honeypot_looks_like_success(client, form):
    response = client.post(
        f"{hosted(form)}?lang=en",
        {"name": "Bot", TIMESTAMP_FIELD: aged_token(form), HONEYPOT_FIELD: "http://spam"},
    )
    assert response.status_code == 200 and "Thanks!" in response.content.decode()
    assert not Lead.objects.exists()


def test_too_many_submissions_answer_429(client, form, settings):
    settings.GUANXI_WEB_FORM_RATE_LIMIT = 2
    for number in range(2):
        client.post(hosted(form), {"name": f"访客{number}", TIMESTAMP_FIELD: aged_token(form)})
    response = client.post(
        f"{hosted(form)}?lang=en", {"name": "访客9", TIMESTAMP_FIELD: aged_token(form)}
    )
    assert response.status_code == 429
    assert "Too many submissions" in response.content.decode()
    assert Lead.objects.count() == 2


def test_closed_and_unknown_forms(client, form):
    assert client.get("/leads/f/no-such-key/").status_code == 404
    form.is_active = False
    form.save()
    assert client.get(hosted(form)).status_code == 410
    assert client.get(reverse("leads:web_form_token", args=[form.key])).status_code == 404


def test_the_token_url_gives_any_origin_a_fresh_token(client, form):
    response = client.get(reverse("leads:web_form_token", args=[form.key]))
    assert response["Access-Control-Allow-Origin"] == "*"
    assert response.json()["field"] == TIMESTAMP_FIELD and response.json()["token"]


def test_administrators_design_a_form_and_get_the_snippet(client, org):
    client.force_login(org.admin)
    assert client.get(reverse("leads:web_form_create")).status_code == 200
    response = client.post(
        reverse("leads:web_form_create"),
        {
            "name": "展会报名",
            "title_zh": "展会报名",
            "title_en": "Trade show sign-up",
            "thank_you_en": "See you there",
            "is_active": "on",
            "field_0": "name",
            "label_zh_0": "您的姓名",
            "label_en_0": "Your name",
            "required_0": "on",
            "field_1": "email",
            "required_1": "on",
            "field_2": "",
        },
    )
    assert response.status_code == 302
    created = WebForm.objects.get(name="展会报名")
    assert created.created_by == org.admin
    assert created.fields == [
        {"field": "name", "label_zh": "您的姓名", "label_en": "Your name", "required": True},
        {"field": "email", "label_zh": "邮箱", "label_en": "E-mail", "required": True},
    ]
    html = client.get(reverse("leads:web_form_edit", args=[created.pk]), {"lang": "en"})
    html = html.content.decode()
    assert "Your name" in html and "web-form-snippet" in html
    assert f"/leads/f/{created.key}/?lang=en" in html and "/token/" in html
    assert HONEYPOT_FIELD in html and TIMESTAMP_FIELD in html
    preview = client.get(reverse("leads:web_form_preview", args=[created.pk]), {"lang": "en"})
    assert (
        "Preview" in preview.content.decode() and "Trade show sign-up" in preview.content.decode()
    )
    assert "展会报名" in client.get(reverse("leads:web_form_list")).content.decode()


def test_a_form_without_fields_is_refused_on_the_designer(client, org):
    client.force_login(org.admin)
    response = client.post(reverse("leads:web_form_create"), {"name": "空表单", "field_0": ""})
    assert response.status_code == 400 and not WebForm.objects.exists()


def test_only_administrators_reach_the_designer(client, org, form):
    client.force_login(org.manager)
    assert client.get(reverse("leads:web_form_list")).status_code == 403
    assert client.get(reverse("leads:web_form_edit", args=[form.pk])).status_code == 403
    assert client.post(reverse("leads:web_form_delete", args=[form.pk])).status_code == 403
    client.force_login(org.admin)
    assert client.post(reverse("leads:web_form_delete", args=[form.pk])).status_code == 302
    assert not WebForm.objects.exists()
