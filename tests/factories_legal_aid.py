"""Factories for the legal_aid domain (fixtures returning builder callables)."""
