"""The fixed lists an API client needs to name things (categories, sources, legal-aid matters, decline reasons):
published at ``GET /api/v1/reference/<list>`` and accepted by code or by Chinese name wherever a code is taken."""
