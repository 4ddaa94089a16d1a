"""The web-form submission rules: validation, honeypot, signed timestamp, rate limit,
de-duplication, and the design rules."""

import datetime

import pytest
from django.core import signing
from django.core.exceptions import ValidationError
from django.utils import timezone

from guanxi.core.exceptions import ActionNotAllowed
from guanxi.core.models import PicklistOption, TimelineEntry
from guanxi.leads.models import Lead, WebFormSubmission
from guanxi.leads.services import capture
from guanxi.leads.services.capture import (
    HONEYPOT_FIELD,
    TIMESTAMP_FIELD,
    RateLimited,
    SubmissionRefused,
    web_form_submit,
    web_form_token,
)
from guanxi.leads.tests.factories import make_lead, make_web_form

pytestmark = pytest.mark.django_db

NOW = timezone.now()


def served(form, seconds_ago=30):
    return web_form_token(form, now=NOW - datetime.timedelta(seconds=seconds_ago))


def post(form, ip="203.0.113.5", now=NOW, token=None, **fields):
    data = {"name": "张伟", "email": "zhang.wei@example.com", **fields}
    data[TIMESTAMP_FIELD] = served(form) if token is None else token
    return web_form_submit(form=form, data=data, ip=ip, now=now)


@pytest.fixture
def form(org):
    source = PicklistOption.objects.get(picklist__code="lead_source", value="web_form")
    return make_web_form(actor=org.admin, source=source)


def test_a_valid_submission_creates_an_unowned_lead_from_the_form(form, org):
    result = post(form, phone="138 0013 8000", company="明达贸易", notes="请联系我")
    lead = Lead.objects.get(pk=result.lead.pk)
    assert result.created and not result.updated
    assert (lead.name, lead.company, lead.phone_digits) == ("张伟", "明达贸易", "13800138000")
    assert lead.owner is None and lead.web_form == form and lead.source == form.source
    assert lead.created_by == org.admin
    assert TimelineEntry.objects.filter(object_id=lead.pk, kind="web_form").exists()
    submission = WebFormSubmission.objects.get()
    assert submission.accepted and submission.lead == lead and submission.ip == "203.0.113.5"


def test_the_forms_owner_gets_the_lead(org):
    form = make_web_form(actor=org.admin, owner=org.rep1)
    lead = post(form).lead
    assert lead.owner == org.rep1 and lead.department == org.rep1.department
    assert lead.assigned_at is not None


def test_field_errors_say_which_field(form):
    form.fields = [*form.fields, {"field": "title", "required": True}]
    form.save()
    with pytest.raises(ValidationError) as error:
        post(form, name="", email="not-an-e-mail", phone="12", title="")
    assert set(error.value.message_dict) == {"name", "email", "phone", "title"}
    assert not Lead.objects.exists()
    assert not WebFormSubmission.objects.exists()


def test_fields_not_on_the_form_are_ignored(form):
    lead = post(form, wechat="bot-wechat", status="converted").lead
    assert lead.wechat == "" and lead.status == "new"


def test_a_filled_honeypot_is_accepted_silently_and_discarded(form):
    result = post(form, **{HONEYPOT_FIELD: "http://spam.example"})
    assert result.discarded and result.lead is None
    assert not Lead.objects.exists()
    submission = WebFormSubmission.objects.get()
    assert not submission.accepted and submission.reason == capture.HONEYPOT


@pytest.mark.parametrize(
    ("token", "reason"),
    [
        ("", capture.NO_TIMESTAMP),
        ("tampered:123:abc", capture.BAD_TIMESTAMP),
    ],
)
def test_missing_or_tampered_timestamps_are_refused(form, token, reason):
    with pytest.raises(SubmissionRefused) as refused:
        post(form, token=token)
    assert refused.value.reason == reason
    assert not Lead.objects.exists()
    assert WebFormSubmission.objects.get().reason == reason


def test_a_timestamp_signed_for_another_form_is_refused(form, org):
    other = make_web_form(actor=org.admin, name="Other")
    with pytest.raises(SubmissionRefused) as refused:
        post(form, token=served(other))
    assert refused.value.reason == capture.BAD_TIMESTAMP


def test_a_forged_timestamp_without_the_signature_is_refused(form):
    forged = signing.Signer(salt="another-salt").sign(f"{form.key}:{int(NOW.timestamp()) - 60}")
    with pytest.raises(SubmissionRefused) as refused:
        post(form, token=forged)
    assert refused.value.reason == capture.BAD_TIMESTAMP


def test_a_timestamp_older_than_a_day_is_refused(form):
    with pytest.raises(SubmissionRefused) as refused:
        post(form, token=served(form, seconds_ago=86400 + 60))
    assert refused.value.reason == capture.EXPIRED


def test_a_form_sent_within_two_seconds_is_a_bot(form):
    with pytest.raises(SubmissionRefused) as refused:
        post(form, token=served(form, seconds_ago=1))
    assert refused.value.reason == capture.TOO_FAST
    # Three seconds is a quick person: accepted.
    assert post(form, token=served(form, seconds_ago=3)).created


def test_the_rate_limit_counts_per_ip_and_form_in_the_window(form, org, settings):
    settings.GUANXI_WEB_FORM_RATE_LIMIT = 3
    settings.GUANXI_WEB_FORM_RATE_WINDOW = 600
    for number in range(3):
        post(form, email=f"visitor{number}@example.com")
    with pytest.raises(RateLimited) as limited:
        post(form, email="visitor9@example.com")
    assert "Too many submissions" in limited.value.message
    assert Lead.objects.count() == 3
    # Another address, or another form, is not limited.
    assert post(form, ip="198.51.100.7", email="other@example.com").created
    assert post(make_web_form(actor=org.admin, name="B"), email="b@example.com").created
    # Eleven minutes later the window has moved on.
    later = NOW + datetime.timedelta(minutes=11)
    token = web_form_token(form, now=later - datetime.timedelta(seconds=30))
    assert post(form, now=later, token=token, email="later@example.com").created


def test_refused_submissions_count_towards_the_rate_limit(form, settings):
    settings.GUANXI_WEB_FORM_RATE_LIMIT = 2
    for _attempt in range(2):
        with pytest.raises(SubmissionRefused):
            post(form, token="")
    with pytest.raises(RateLimited):
        post(form)


def test_an_open_lead_with_the_same_e_mail_is_filled_in_not_duplicated(form, org):
    existing = make_lead(
        owner=org.rep1, label="张伟", actor=org.rep1, email="Zhang.Wei@example.com"
    )
    result = post(form, email="zhang.wei@EXAMPLE.com", company="明达贸易", phone="13800138000")
    assert result.updated and result.lead.pk == existing.pk
    existing.refresh_from_db()
    assert existing.company == "明达贸易" and existing.phone_digits == "13800138000"
    assert existing.owner == org.rep1  # the owner keeps the lead
    assert Lead.objects.count() == 1
    entry = TimelineEntry.objects.get(object_id=existing.pk, kind="web_form")
    assert "again" in entry.text and entry.data["filled"] == ["company", "phone"]


def test_the_same_phone_matches_and_filled_fields_are_kept(form, org):
    existing = make_lead(
        owner=org.rep1, label="王芳", actor=org.rep1, phone="13800138000", company="旧公司"
    )
    result = post(form, email="", phone="+86 138-0013-8000", company="新公司")
    assert result.updated and result.lead.pk == existing.pk
    existing.refresh_from_db()
    assert existing.company == "旧公司" and existing.name == "王芳"


def test_converted_leads_are_not_updated(form, org):
    existing = make_lead(
        owner=org.rep1, label="张伟", actor=org.rep1, email="zhang.wei@example.com"
    )
    Lead.objects.filter(pk=existing.pk).update(status="converted", converted_at=NOW)
    result = post(form)
    assert result.created and result.lead.pk != existing.pk


def test_submission_hooks_hear_about_created_and_updated_leads(form, monkeypatch):
    heard = []
    monkeypatch.setattr(capture, "_submission_hooks", [])
    capture.register_submission_hook(lambda *, lead, form: heard.append((lead.pk, form.pk)))
    first = post(form).lead
    post(form, ip="198.51.100.9")
    assert heard == [(first.pk, form.pk), (first.pk, form.pk)]


def test_a_closed_form_refuses(form):
    form.is_active = False
    form.save()
    with pytest.raises(SubmissionRefused) as refused:
        post(form)
    assert refused.value.reason == capture.FORM_CLOSED


def test_only_administrators_design_forms(org):
    with pytest.raises(ActionNotAllowed):
        make_web_form(actor=org.manager)


@pytest.mark.parametrize(
    "fields",
    [
        [],
        [{"field": "status"}],
        [{"field": "name"}, {"field": "name"}],
        [{"field": "company"}, {"field": "notes"}],
    ],
)
def test_form_fields_must_be_sensible(org, fields):
    with pytest.raises(ValidationError):
        make_web_form(actor=org.admin, fields=fields)


def test_a_form_sends_to_a_person_or_a_pool_not_both(org):
    from guanxi.leads.models import Pool

    pool = Pool.objects.create(name="华东公海", kind="leads")
    with pytest.raises(ValidationError):
        make_web_form(actor=org.admin, owner=org.rep1, pool=pool)
