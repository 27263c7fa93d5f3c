"""Reporting: resolution rates, the officials dashboard, scheduled delivery to governance centres."""
