"""Configuration shared by every service, read from the environment at import time.

Lives in the base image at /app/config and is importable as `config` (PYTHONPATH=/app).
Secrets never go into the image: they arrive as environment variables (Kubernetes Secrets,
compose env files) and are read here.
"""

import os

REDIS_URL = os.environ.get("REDIS_URL", "redis://127.0.0.1:6379/0")
