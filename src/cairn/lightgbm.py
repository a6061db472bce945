"""``cairn.lightgbm``: save, log and load LightGBM models (MLflow's ``mlflow.lightgbm`` names).

    >>> import cairn.lightgbm
    >>> info = cairn.lightgbm.log_model(model, name="model")      # doctest: +SKIP
    >>> cairn.lightgbm.load_model(info.model_uri)                 # doctest: +SKIP

See :mod:`cairn.models.flavors.lightgbm` for the file format and the load rules. LightGBM itself
is imported only when a function needs it.
"""

from cairn.models.flavors.lightgbm import FLAVOR_NAME, load_model, log_model, save_model

__all__ = ["FLAVOR_NAME", "load_model", "log_model", "save_model"]
