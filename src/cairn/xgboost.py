"""``cairn.xgboost``: save, log and load XGBoost models (MLflow's ``mlflow.xgboost`` names).

    >>> import cairn.xgboost
    >>> info = cairn.xgboost.log_model(model, name="model")      # doctest: +SKIP
    >>> cairn.xgboost.load_model(info.model_uri)                 # doctest: +SKIP

See :mod:`cairn.models.flavors.xgboost` for the file format and the load rules. XGBoost itself
is imported only when a function needs it.
"""

from cairn.models.flavors.xgboost import FLAVOR_NAME, load_model, log_model, save_model

__all__ = ["FLAVOR_NAME", "load_model", "log_model", "save_model"]
