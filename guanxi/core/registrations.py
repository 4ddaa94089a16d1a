"""What core itself registers with the registries it owns (search, views)."""
