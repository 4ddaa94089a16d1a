"""The search page, and the dropdown under the search box (htmx)."""

from django.contrib.auth.decorators import login_required
from django.shortcuts import render

from guanxi.core.search.selectors import search

DROPDOWN_LIMIT = 8
PAGE_LIMIT = 50


@login_required
def search_view(request):
    q = request.GET.get("q", "").strip()
    if getattr(request, "htmx", False):
        hits = search(user=request.user, q=q, limit=DROPDOWN_LIMIT) if q else []
        return render(request, "core/search/_dropdown.html", {"q": q, "hits": hits})
    hits = search(user=request.user, q=q, limit=PAGE_LIMIT) if q else []
    groups: dict[str, list] = {}
    for hit in hits:
        groups.setdefault(hit.verbose_name, []).append(hit)
    return render(
        request,
        "core/search/results.html",
        {"q": q, "hits": hits, "groups": list(groups.items())},
    )
