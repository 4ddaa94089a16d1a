"""The home page: "Today" (今日待办), built from the cards apps register."""

from django.contrib.auth.decorators import login_required
from django.shortcuts import render

from guanxi.core.home import home_cards
from guanxi.core.services.notifications import notifications_for

LATEST_UNREAD = 5


@login_required
def home(request):
    unread = list(notifications_for(request.user).filter(is_read=False)[:LATEST_UNREAD])
    return render(
        request,
        "core/home.html",
        {"cards": home_cards(request), "latest_unread": unread},
    )
