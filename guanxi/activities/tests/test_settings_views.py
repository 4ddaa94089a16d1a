"""The activity settings page (administrators only) and everyone's activity preferences."""

import pytest
from django.urls import reverse

from guanxi.activities.models import ActivityPreference, ActivitySettings
from guanxi.activities.services import reminder_minutes_for
from guanxi.core.models import ChangeRecord

pytestmark = pytest.mark.django_db

SETTINGS = reverse("activities:settings")
PREFERENCES = reverse("activities:preferences")


def _settings_form(**values):
    return {
        "default_reminder_minutes": 30,
        "call_limit_per_week": 2,
        "escalation_delay_hours": 8,
        **values,
    }


# --- company settings -----------------------------------------------------------------------
def test_administrator_changes_the_settings_and_it_is_audited(client, org):
    client.force_login(org.admin)
    page = client.get(SETTINGS)
    assert page.status_code == 200
    assert 'name="escalation_delay_hours" value="24"' in page.content.decode()
    response = client.post(SETTINGS, _settings_form())
    assert response.status_code == 302 and response.url == SETTINGS
    row = ActivitySettings.current()
    assert (row.default_reminder_minutes, row.call_limit_per_week, row.escalation_delay_hours) == (
        30,
        2,
        8,
    )
    assert ChangeRecord.objects.filter(object_id=row.pk, actor=org.admin).exists()
    # The new default reaches users without their own.
    assert reminder_minutes_for(org.rep1) == 30
    assert "The activity settings were saved." in client.get(SETTINGS).content.decode()


@pytest.mark.parametrize(
    "bad",
    [
        {"default_reminder_minutes": -1},
        {"call_limit_per_week": "many"},
        {"escalation_delay_hours": ""},
        {"default_reminder_minutes": 100000},
    ],
)
def test_invalid_settings_are_shown_and_not_saved(client, org, bad):
    client.force_login(org.admin)
    response = client.post(SETTINGS, _settings_form(**bad))
    assert response.status_code == 200
    field = next(iter(bad))
    assert f'name="{field}"' in response.content.decode()
    assert "is-invalid" in response.content.decode()
    row = ActivitySettings.current()
    assert (row.default_reminder_minutes, row.call_limit_per_week) == (15, 0)


@pytest.mark.parametrize("who", ["rep1", "manager", "finance", "read_only"])
def test_only_administrators_open_the_settings(client, org, who):
    client.force_login(getattr(org, who))
    assert client.get(SETTINGS).status_code == 403
    assert client.post(SETTINGS, _settings_form()).status_code == 403
    assert ActivitySettings.current().call_limit_per_week == 0


def test_anonymous_users_are_sent_to_sign_in(client, org):
    for url in (SETTINGS, PREFERENCES):
        response = client.get(url)
        assert response.status_code == 302 and reverse("login") in response.url


def test_settings_are_in_the_administration_menu_only(client, org):
    client.force_login(org.admin)
    assert SETTINGS in client.get(PREFERENCES).content.decode()
    client.force_login(org.rep1)
    assert SETTINGS not in client.get(PREFERENCES).content.decode()


# --- my preferences ---------------------------------------------------------------------------
def test_user_sets_own_reminder_and_colour(client, org):
    client.force_login(org.rep1)
    page = client.get(PREFERENCES).content.decode()
    assert "company default (15 minutes)" in page
    response = client.post(PREFERENCES, {"reminder_minutes": "45", "calendar_color": "#198754"})
    assert response.status_code == 302 and response.url == PREFERENCES
    preference = ActivityPreference.objects.get(user=org.rep1)
    assert (preference.reminder_minutes, preference.calendar_color) == (45, "#198754")
    assert reminder_minutes_for(org.rep1) == 45
    assert reminder_minutes_for(org.rep2) == 15
    # Emptied: back to the company default.
    client.post(PREFERENCES, {"reminder_minutes": "", "calendar_color": ""})
    preference.refresh_from_db()
    assert (preference.reminder_minutes, preference.calendar_color) == (None, "")
    assert reminder_minutes_for(org.rep1) == 15


def test_invalid_preferences_are_refused(client, org):
    client.force_login(org.rep1)
    for bad in ({"reminder_minutes": "-5"}, {"calendar_color": "javascript:alert(1)"}):
        response = client.post(PREFERENCES, {"reminder_minutes": "", "calendar_color": "", **bad})
        assert response.status_code == 200
        assert "is-invalid" in response.content.decode()
    assert not ActivityPreference.objects.filter(user=org.rep1).exists()


def test_preferences_are_linked_from_the_user_menu_for_everyone(client, org):
    client.force_login(org.read_only)
    assert PREFERENCES in client.get(reverse("core:preferences")).content.decode()
