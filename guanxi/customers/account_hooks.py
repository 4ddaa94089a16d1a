"""What higher apps plug into the account pages, besides the 360° sections (`sections.py`).

- Value figures in the account page header: ``register_account_figure(key, label, fn)``
  where ``fn(account)`` answers the value (None shows "—"). Customers registers lifetime
  revenue, last purchase, CLV and RFM segment as empty figures; sales replaces them by
  registering the same keys.
- Actions on selected accounts (list bulk bar and the account page's "More" menu):
  ``register_account_bulk_action(AccountBulkAction(...))``; the handler is called with the
  request and the accounts the user may act on (``editable_by`` unless ``editable_only`` is
  off, in which case ``visible_to``) and answers the response. The activities app registers
  "batch create a follow-up task" this way.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from django.utils.translation import gettext_lazy as _

from guanxi.core.views.registry import format_value


# --- value figures ---------------------------------------------------------------------------
@dataclass(frozen=True)
class AccountFigure:
    key: str
    label: Any
    value: Callable[[Any], Any]  # (account) -> value, None when unknown
    order: int = 100


_figures: dict[str, AccountFigure] = {}


def register_account_figure(
    key: str, label: Any, fn: Callable[[Any], Any], order: int = 100
) -> None:
    """Add (or replace, by key) a value figure of the account page header."""
    _figures[key] = AccountFigure(key=key, label=label, value=fn, order=order)


def account_figures(account) -> list[dict]:
    """[{key, label, value}] in order; values as display text ("—" when unknown)."""
    result = []
    for figure in sorted(_figures.values(), key=lambda f: (f.order, f.key)):
        result.append(
            {"key": figure.key, "label": figure.label, "value": format_value(figure.value(account))}
        )
    return result


def _unknown(account) -> None:
    return None


register_account_figure("lifetime_revenue", _("Lifetime revenue"), _unknown, order=10)
register_account_figure("last_purchase", _("Last purchase"), _unknown, order=20)
register_account_figure("clv", _("Customer lifetime value"), _unknown, order=30)
register_account_figure("rfm", _("RFM segment"), _unknown, order=40)


# --- actions on selected accounts -----------------------------------------------------------
@dataclass(frozen=True)
class AccountBulkAction:
    key: str
    label: Any
    # (*, request, accounts: list[Account]) -> HttpResponse
    handler: Callable[..., Any]
    # The role action needed on customers.account ("change", "export", "assign", ...).
    permission: str = "change"
    # Act on the records the user may edit (True) or merely see (False).
    editable_only: bool = True
    icon: str = "bi-lightning"
    order: int = 100
    # Built-in actions have their own controls on the pages (parameters); registered ones
    # are plain buttons whose handler may answer a page of its own.
    builtin: bool = False


_bulk_actions: dict[str, AccountBulkAction] = {}


def register_account_bulk_action(action: AccountBulkAction) -> None:
    _bulk_actions[action.key] = action


def account_bulk_action(key: str) -> AccountBulkAction | None:
    return _bulk_actions.get(key)


def account_bulk_actions(user=None) -> list[AccountBulkAction]:
    """The actions in order; with a user, only those their role allows."""
    from guanxi.core.scope import can
    from guanxi.customers.models import Account

    actions = sorted(_bulk_actions.values(), key=lambda a: (a.order, a.key))
    if user is None:
        return actions
    return [action for action in actions if can(user, Account, action.permission)]
