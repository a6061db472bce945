"""``cairn.pyfunc``: one ``predict`` for every model, and custom Python models.

    >>> import cairn.pyfunc
    >>> model = cairn.pyfunc.load_model("models:/m-0123...")        # doctest: +SKIP
    >>> model.predict(frame)                                        # doctest: +SKIP

    >>> class AddN(cairn.pyfunc.PythonModel):
    ...     def __init__(self, n):
    ...         self.n = n
    ...     def predict(self, context, model_input, params=None):
    ...         return model_input + self.n

See :mod:`cairn.models.pyfunc` (loading, signature enforcement) and
:mod:`cairn.models.flavors.pyfunc` (how custom models are stored without pickle).
"""

from cairn.models.flavors.pyfunc import load_model, log_model, save_model
from cairn.models.pyfunc import FLAVOR_NAME, PyFuncModel, PythonModel, PythonModelContext

__all__ = [
    "FLAVOR_NAME",
    "PyFuncModel",
    "PythonModel",
    "PythonModelContext",
    "load_model",
    "log_model",
    "save_model",
]
