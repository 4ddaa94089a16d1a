def navigation(request):
    """The navigation and the unread notification count, for the base layout."""
    from guanxi.core.navigation import navigation_for

    return navigation_for(request)
