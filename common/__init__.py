"""Code shared by every service (eveai_app, eveai_api, eveai_workers).

Lives in the base image at /app/common and is importable as `common` (PYTHONPATH=/app).
A placeholder in this repository: the platform's real shared code goes here.
"""
