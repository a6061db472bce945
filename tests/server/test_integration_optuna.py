"""A real integration built on MLflow logging into ``cairn server``: Optuna's
``MLflowCallback`` (from ``optuna-integration``) tracking a small study.

The callback knows nothing about cairn: it sets the tracking URI, calls
``mlflow.set_experiment(study_name)``, and for every finished trial opens a run (resuming the
one ``track_in_mlflow`` opened inside the objective), logs the objective as a metric, the
trial's params with ``log_params`` and its state and distributions with ``set_tags``.
"""

from __future__ import annotations

import math

import pytest
from mlflow import MlflowClient

from tests.server.conftest import unique

pytestmark = [
    pytest.mark.slow,
    # track_in_mlflow is marked experimental.
    pytest.mark.filterwarnings("ignore::optuna.exceptions.ExperimentalWarning"),
]

N_TRIALS = 5
PRUNED_TRIAL = 3


# Deprecated in optuna-integration 4.9 (to be removed in 6.0), still the integration users have.
@pytest.mark.filterwarnings("ignore:MLflowCallback has been deprecated:FutureWarning")
def test_optuna_mlflow_callback_logs_every_trial(tracking_uri: str) -> None:
    import optuna
    from optuna_integration.mlflow import MLflowCallback

    optuna.logging.set_verbosity(optuna.logging.WARNING)
    study_name = unique("optuna-study")
    callback = MLflowCallback(tracking_uri=tracking_uri, metric_name="loss")

    @callback.track_in_mlflow()
    def objective(trial: optuna.Trial) -> float:
        import mlflow

        x = trial.suggest_float("x", -10.0, 10.0)
        layers = trial.suggest_int("layers", 1, 4)
        optimizer = trial.suggest_categorical("optimizer", ["adam", "sgd"])
        for epoch in range(3):
            mlflow.log_metric("epoch_loss", (x - 2) ** 2 / (epoch + 1), step=epoch)
        if trial.number == PRUNED_TRIAL:
            raise optuna.TrialPruned()
        return (x - 2) ** 2 + layers + (0.5 if optimizer == "sgd" else 0.0)

    study = optuna.create_study(
        study_name=study_name,
        direction="minimize",
        sampler=optuna.samplers.TPESampler(seed=0),
    )
    study.optimize(objective, n_trials=N_TRIALS, callbacks=[callback])

    client = MlflowClient(tracking_uri=tracking_uri)
    experiment = client.get_experiment_by_name(study_name)
    assert experiment is not None
    runs = client.search_runs([experiment.experiment_id], order_by=["tags.number ASC"])
    assert len(runs) == N_TRIALS, "one run per trial (the callback resumes the objective's run)"

    by_number = {int(run.data.tags["number"]): run for run in runs}
    assert sorted(by_number) == list(range(N_TRIALS))
    for trial in study.trials:
        run = by_number[trial.number]
        assert run.info.run_name == str(trial.number)
        assert run.info.status == "FINISHED"
        assert run.data.params == {k: str(v) for k, v in trial.params.items()}
        assert run.data.tags["direction"] == "MINIMIZE"
        assert run.data.tags["state"] == trial.state.name
        assert "x_distribution" in run.data.tags
        history = client.get_metric_history(run.info.run_id, "epoch_loss")
        assert [m.step for m in history] == [0, 1, 2]
        if trial.number == PRUNED_TRIAL:
            assert trial.state == optuna.trial.TrialState.PRUNED
            assert "loss" not in run.data.metrics
        else:
            assert math.isclose(run.data.metrics["loss"], trial.value)

    best = client.search_runs(
        [experiment.experiment_id], "metrics.loss >= 0", order_by=["metrics.loss ASC"]
    )[0]
    assert int(best.data.tags["number"]) == study.best_trial.number
    assert math.isclose(best.data.metrics["loss"], study.best_value)
