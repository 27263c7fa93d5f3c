"""Factories for the transfers domain (fixtures returning builder callables)."""
