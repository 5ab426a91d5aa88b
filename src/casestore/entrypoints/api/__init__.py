"""The HTTP edge: thin FastAPI routes over the application layer."""
