"""Factories for the cases domain (fixtures returning builder callables)."""
