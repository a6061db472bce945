"""One module per framework; each has ``save_model``, ``log_model``, ``load_model`` and the
``load_pyfunc`` hook that :func:`cairn.pyfunc.load_model` calls.

Frameworks are imported when a function needs them, never when the module is imported, so
``import cairn.sklearn`` works (and is cheap) without scikit-learn installed.

=============  =============================  ==============================================
flavor         files                          loads without ``allow_pickle``
=============  =============================  ==============================================
sklearn        ``model.skops``                yes (skops; untrusted types need trust)
xgboost        ``model.ubj`` (native)         yes
lightgbm       ``model.lgb`` (native) or      yes
               ``model.skops`` (sklearn API)
pytorch        ``data/state_dict.pt`` +       yes (``weights_only`` load, class imported
               importable class, or ``pt2``   by name); ``pt2`` archives need allow_pickle
pyfunc         class reference + JSON/skops   yes; code shipped in the model needs a
               state (+ cloudpickle for       verified origin or ``allow_code``
               MLflow)
=============  =============================  ==============================================
"""

from __future__ import annotations

__all__ = ["FLAVORS"]

#: Flavor name in ``MLmodel`` -> the cairn module implementing it.
FLAVORS = {
    "sklearn": "cairn.models.flavors.sklearn",
    "xgboost": "cairn.models.flavors.xgboost",
    "lightgbm": "cairn.models.flavors.lightgbm",
    "pytorch": "cairn.models.flavors.pytorch",
    "python_function": "cairn.models.flavors.pyfunc",
}
