"""Bulk import of historical cases (with their parties) from the csv or xlsx an older system exported.

``service.import_file`` is the one entry point (the CLI, the upload page, the API and the benchmarks call
it); ``layout`` documents the columns; ``readers`` streams rows; ``jobs`` runs an upload in the background
with its progress in ``import_jobs``. See docs/IMPORT.md."""
