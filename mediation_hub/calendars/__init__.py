"""The working-day calendar as administrators keep it: official and provisional years, loading the State
Council's notice (page, API, CLI, the ``chinesecalendar`` package), and recounting the open deadlines a change
touches. The arithmetic itself lives in ``core.calendar``."""
