"""Filled by its module owner."""
