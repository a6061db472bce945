"""Logged models (MLflow 3.x): filled in by the logged-models work."""
