"""WSGI entry point: ``gunicorn -w 4 wsgi:app``."""

from mediation_hub import create_app

app = create_app()
