"""What opportunities register with core, customers, activities and leads: activities
regarding a deal, global search, the account 360° section and figures, the pool's
"open deal" check, the lead-conversion factory, and the pages and API."""

from __future__ import annotations

from typing import Any

from django.utils.translation import gettext_lazy as _

from guanxi.activities.regarding import register_regarding
from guanxi.core.scope import can
from guanxi.core.search.registry import register_search
from guanxi.customers.account_hooks import register_account_figure
from guanxi.customers.sections import AccountSection, register_account_section
from guanxi.leads.selectors.pools import register_open_opportunity_check
from guanxi.leads.services.conversion import register_conversion_opportunity_factory
from guanxi.sales.models import Opportunity, OpportunityContact
from guanxi.sales.selectors import opportunities as selectors


# --- activities ------------------------------------------------------------------------------
def _account_of(opportunity: Opportunity) -> int | None:
    return opportunity.account_id


def _primary_contact_of(opportunity: Opportunity) -> int | None:
    return (
        OpportunityContact.objects.filter(opportunity_id=opportunity.pk)
        .order_by("-is_primary", "id")
        .values_list("contact_id", flat=True)
        .first()
    )


register_regarding(Opportunity, account_id=_account_of, contact_id=_primary_contact_of)


# --- search ----------------------------------------------------------------------------------
def _account_name(opportunity: Opportunity) -> str:
    return opportunity.account.name if opportunity.account_id else ""


def _subtitle(opportunity: Opportunity) -> str:
    return " · ".join(part for part in (_account_name(opportunity), str(opportunity.stage)) if part)


register_search(
    Opportunity,
    title="name",
    fields=[_account_name, "next_step"],
    subtitle=_subtitle,
    select_related=("account", "stage"),
)


# --- the account page ------------------------------------------------------------------------
def _account_section(*, account, user) -> dict[str, Any]:
    found = selectors.account_opportunities(account=account, user=user)
    return {
        "open_opportunities": found["open"],
        "closed_opportunities": found["closed"],
        "opportunity_account": account,
        "can_add_opportunity": can(user, Opportunity, "add"),
    }


register_account_section(
    AccountSection(
        key="opportunities",
        title=_("Opportunities"),
        template="sales/opportunities/_account_section.html",
        context=_account_section,
        order=30,
        lazy=True,
    )
)
register_account_figure("lifetime_revenue", _("Lifetime revenue"), selectors.lifetime_revenue, 10)
register_account_figure("last_purchase", _("Last purchase"), selectors.last_purchase, 20)
register_open_opportunity_check(selectors.open_opportunity_accounts)


# --- lead conversion -------------------------------------------------------------------------
def _opportunity_from_lead(*, lead, account, contact, data: dict, actor) -> int:
    """The opportunity of a lead conversion: for the new (or matched) account, owned by
    whoever owns the account, with the lead and its source, the contact as primary."""
    from guanxi.sales.services.opportunities import (
        opportunity_contact_set,
        opportunity_create,
    )

    values = {
        "name": data.get("name") or lead.company or lead.name,
        "account": account,
        "lead": lead,
        "source": lead.source,
        "campaign_id": lead.campaign_id,
        "owner": account.owner or actor,
        **{key: value for key, value in data.items() if key != "name"},
    }
    values["department_id"] = values["owner"].department_id
    opportunity = opportunity_create(actor=actor, data=values)
    if contact is not None:
        from guanxi.customers.models import AccountContact

        if AccountContact.objects.filter(account=account, contact=contact).exists():
            opportunity_contact_set(
                opportunity=opportunity, actor=actor, contact=contact, is_primary=True
            )
    return opportunity.pk


register_conversion_opportunity_factory(_opportunity_from_lead)


# The pages and the API register themselves when imported.
from guanxi.sales.api import opportunities as _api  # noqa: E402, F401
from guanxi.sales.views import opportunities as _views  # noqa: E402, F401


# --- merging accounts --------------------------------------------------------------------------
def _move_opportunities_to_survivor(*, survivor, merged, actor) -> None:
    """A merge keeps every deal: opportunities (and contact roles on them) follow the
    surviving account or contact."""
    from guanxi.customers.models import Account
    from guanxi.sales.models import Opportunity, OpportunityContact

    merged_ids = [record.pk for record in merged]
    if isinstance(survivor, Account):
        Opportunity.all_objects.filter(account_id__in=merged_ids).update(account_id=survivor.pk)
        return
    # A contact: drop roles the survivor already has on the same deal, move the rest.
    taken = OpportunityContact.objects.filter(contact_id=survivor.pk).values_list(
        "opportunity_id", flat=True
    )
    OpportunityContact.objects.filter(
        contact_id__in=merged_ids, opportunity_id__in=list(taken)
    ).delete()
    OpportunityContact.objects.filter(contact_id__in=merged_ids).update(contact_id=survivor.pk)


def _register_merge_hooks() -> None:
    from guanxi.customers.merge import register_merge_hook
    from guanxi.customers.models import Account, Contact

    register_merge_hook(Account, _move_opportunities_to_survivor)
    register_merge_hook(Contact, _move_opportunities_to_survivor)


_register_merge_hooks()
