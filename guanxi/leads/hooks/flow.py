"""What the lead flow (assignment, scoring, hand-over, conversion) plugs in at app ready:

- a new lead is scored on its profile, then (when it has no owner) assigned by the rules;
- an edited lead has its profile score recomputed;
- a web-form submission counts as the engagement event "form submitted";
- the daily job `leads_score_decay` lets engagement points decay with their half-life;
- the lead page gets the score history, and convert / accept / reject buttons;
- the account page says which lead it was converted from;
- the API gets `leads/{id}/convert|accept|reject/` and `leads/events/`.
"""

from __future__ import annotations

from huey.contrib.djhuey import db_periodic_task

from guanxi.leads.services import assignment, scoring
from guanxi.leads.tasks import local_crontab


def _on_lead_created(*, lead, actor, origin: str) -> None:
    scoring.lead_score_profile(lead, actor=actor)
    if lead.owner_id is None and not (lead.web_form_id and lead.web_form.pool_id):
        # A form that targets a pool puts its leads there itself.
        assignment.lead_assign_by_rules(lead=lead, actor=actor)


def _on_lead_updated(*, lead, actor) -> None:
    scoring.lead_score_profile(lead, actor=actor)


def _on_form_submitted(*, lead, form) -> None:
    scoring.lead_engagement_record(lead=lead, event="form_submitted", note=form.name)


@db_periodic_task(local_crontab(hour="2", minute="30"))
def leads_score_decay() -> int:
    """Daily at 02:30 site time: engagement points lose value with their rule's half-life."""
    return scoring.leads_score_decay()


def _register() -> None:
    from guanxi.leads.services import leads as lead_services

    lead_services.register_lead_created_hook(_on_lead_created)
    register_updated = getattr(lead_services, "register_lead_updated_hook", None)
    if register_updated is not None:
        register_updated(_on_lead_updated)
    try:
        from guanxi.leads.services.capture import register_submission_hook
    except ImportError:  # the capture area is not there yet
        pass
    else:
        register_submission_hook(_on_form_submitted)

    from guanxi.leads.views import flow as flow_views

    flow_views.register_page_parts()
    from guanxi.leads.api import flow as flow_api

    flow_api.register_api()


_register()
