"""MLflow's exception names, for code that catches them after ``import cairn as mlflow``.

>>> issubclass(MlflowException, CairnError)
True
"""

from cairn.errors import CairnError

#: ``mlflow.exceptions.MlflowException`` is cairn's root error.
MlflowException = CairnError
RestException = CairnError

__all__ = ["CairnError", "MlflowException", "RestException"]
