"""Model classes importable by module name, as the PyTorch and pyfunc flavors need."""

from __future__ import annotations

from typing import Any

import torch

import cairn.pyfunc


class TinyNet(torch.nn.Module):
    """A two-layer regressor over ``features`` inputs."""

    def __init__(self, features: int = 4, hidden: int = 8) -> None:
        super().__init__()
        self.layers = torch.nn.Sequential(
            torch.nn.Linear(features, hidden), torch.nn.ReLU(), torch.nn.Linear(hidden, 1)
        )

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return self.layers(x)


class Scaled(cairn.pyfunc.PythonModel):
    """Multiplies its input by ``factor`` and adds the number read from an artifact."""

    def __init__(self, factor: float) -> None:
        self.factor = factor
        self.offset = 0.0

    def load_context(self, context: cairn.pyfunc.PythonModelContext) -> None:
        with open(context.artifacts["offset"]) as stream:
            self.offset = float(stream.read())

    def predict(self, context: Any, model_input: Any, params: dict[str, Any] | None = None) -> Any:
        scale = (params or {}).get("scale", 1.0)
        return model_input * self.factor * scale + self.offset


class Picky(cairn.pyfunc.PythonModel):
    """Refuses negative numbers, as a model may fail on input it was not built for."""

    def predict(self, context: Any, model_input: Any, params: dict[str, Any] | None = None) -> Any:
        if (model_input < 0).any():
            raise ValueError("negative input")
        return model_input


class ReturnsWhatItIsTold(cairn.pyfunc.PythonModel):
    """Returns a set (which JSON cannot hold) or a list, as the input's ``kind`` says."""

    def predict(self, context: Any, model_input: Any, params: dict[str, Any] | None = None) -> Any:
        return {1, 2} if list(model_input["kind"]) == ["set"] else [1, 2]
