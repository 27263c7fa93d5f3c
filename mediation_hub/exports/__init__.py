"""Exports of lists that may be large (the case list): built in the request when small, otherwise by a
background job with progress and a download for the one user who asked; the file appears only complete."""
