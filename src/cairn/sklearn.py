"""``cairn.sklearn``: save, log and load scikit-learn models (MLflow's ``mlflow.sklearn`` names).

    >>> import cairn.sklearn
    >>> info = cairn.sklearn.log_model(model, name="model")      # doctest: +SKIP
    >>> cairn.sklearn.load_model(info.model_uri)                 # doctest: +SKIP

See :mod:`cairn.models.flavors.sklearn` for the file format and the load rules. scikit-learn itself
is imported only when a function needs it.
"""

from cairn.models.flavors.sklearn import FLAVOR_NAME, load_model, log_model, save_model

__all__ = ["FLAVOR_NAME", "load_model", "log_model", "save_model"]
