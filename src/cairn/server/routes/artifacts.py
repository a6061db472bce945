"""The artifact proxy (``/api/2.0/mlflow-artifacts/...``): filled in by the artifacts work."""
