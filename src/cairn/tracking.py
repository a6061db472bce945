"""``cairn.tracking.MlflowClient``, where MLflow code imports its client from.

>>> from cairn.tracking import MlflowClient
"""

from cairn.client import Client, MlflowClient

__all__ = ["Client", "MlflowClient"]
