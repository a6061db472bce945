"""``cairn.pytorch``: save, log and load PyTorch models (MLflow's ``mlflow.pytorch`` names).

    >>> import cairn.pytorch
    >>> info = cairn.pytorch.log_model(model, name="model")      # doctest: +SKIP
    >>> cairn.pytorch.load_model(info.model_uri)                 # doctest: +SKIP

See :mod:`cairn.models.flavors.pytorch` for the file format and the load rules. PyTorch itself
is imported only when a function needs it.
"""

from cairn.models.flavors.pytorch import FLAVOR_NAME, load_model, log_model, save_model

__all__ = ["FLAVOR_NAME", "load_model", "log_model", "save_model"]
