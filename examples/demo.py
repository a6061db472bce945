"""Log an example experiment into ./mlruns: a scikit-learn classifier on the iris data.

Three learning rates, each trained for 30 epochs with SGD; every epoch logs the training loss
and the validation accuracy, and each run saves a confusion matrix and a classification report.

    python examples/demo.py
"""

from __future__ import annotations

import warnings

import matplotlib

matplotlib.use("Agg")  # no display needed

import matplotlib.pyplot as plt
import numpy as np
from sklearn.datasets import load_iris
from sklearn.exceptions import ConvergenceWarning
from sklearn.linear_model import SGDClassifier
from sklearn.metrics import ConfusionMatrixDisplay, classification_report, log_loss
from sklearn.model_selection import train_test_split
from sklearn.preprocessing import StandardScaler

import cairn

EPOCHS = 30


def train(learning_rate: float, x_train, y_train, x_val, y_val, classes) -> float:  # type: ignore[no-untyped-def]
    model = SGDClassifier(
        loss="log_loss", learning_rate="constant", eta0=learning_rate, random_state=7
    )
    with cairn.start_run(run_name=f"sgd-eta-{learning_rate}"):
        cairn.log_params(
            {"model": "SGDClassifier", "eta0": learning_rate, "epochs": EPOCHS, "loss": "log_loss"}
        )
        for epoch in range(EPOCHS):
            model.partial_fit(x_train, y_train, classes=classes)
            cairn.log_metrics(
                {
                    "train_loss": log_loss(y_train, model.predict_proba(x_train), labels=classes),
                    "val_accuracy": model.score(x_val, y_val),
                },
                step=epoch,
            )
        accuracy = model.score(x_val, y_val)
        cairn.log_metric("final_val_accuracy", accuracy)

        figure, axes = plt.subplots(figsize=(4, 4))
        ConfusionMatrixDisplay.from_estimator(model, x_val, y_val, ax=axes, colorbar=False)
        cairn.log_figure(figure, "confusion_matrix.png")
        plt.close(figure)
        cairn.log_text(classification_report(y_val, model.predict(x_val)), "report.txt")
    return accuracy


def main() -> None:
    x, y = load_iris(return_X_y=True)
    x_train, x_val, y_train, y_val = train_test_split(
        x, y, test_size=0.3, random_state=0, stratify=y
    )
    scaler = StandardScaler().fit(x_train)
    x_train, x_val = scaler.transform(x_train), scaler.transform(x_val)
    classes = np.unique(y)

    experiment = cairn.set_experiment("iris-demo")
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", ConvergenceWarning)
        for learning_rate in (0.001, 0.01, 0.1):
            accuracy = train(learning_rate, x_train, y_train, x_val, y_val, classes)
            print(f"eta0={learning_rate:<6} validation accuracy {accuracy:.3f}")

    best = cairn.search_runs(order_by=["metrics.final_val_accuracy DESC"], max_results=1)
    print(
        f"\nLogged 3 runs into experiment 'iris-demo' (id {experiment.experiment_id}) "
        f"in {cairn.get_tracking_uri()}"
    )
    print(
        f"Best run: {best['tags.mlflow.runName'][0]} "
        f"(accuracy {best['metrics.final_val_accuracy'][0]:.3f})"
    )
    print("\nLook at it in the browser: make demo now starts `cairn ui` at http://127.0.0.1:5000")
    print("(or run .venv/bin/cairn ui yourself), or on the command line:")
    print(
        "  .venv/bin/cairn runs list --experiment iris-demo --order-by 'metrics.val_accuracy DESC'"
    )
    print("  .venv/bin/cairn runs describe <run id>")


if __name__ == "__main__":
    main()
