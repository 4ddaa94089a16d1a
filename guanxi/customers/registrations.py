"""What customers registers with core: search, generic views."""
