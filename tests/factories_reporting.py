"""Factories for the reporting domain (fixtures returning builder callables)."""
