"""The example ``make demo`` runs logs what the README promises."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import cairn

DEMO = Path(__file__).parent.parent / "examples" / "demo.py"


def test_the_demo_logs_three_runs_with_metrics_over_steps_and_artifacts(tmp_path: Path) -> None:
    env = {k: v for k, v in os.environ.items() if not k.endswith("TRACKING_URI")}
    result = subprocess.run(
        [sys.executable, str(DEMO)], cwd=tmp_path, env=env, capture_output=True, text=True
    )
    assert result.returncode == 0, result.stderr
    assert "Best run" in result.stdout
    client = cairn.Client(str(tmp_path / "mlruns"))
    experiment = client.get_experiment_by_name("iris-demo")
    assert experiment is not None
    runs = client.search_runs([experiment.experiment_id])
    assert len(runs) == 3
    for run in runs:
        assert run.info.status == "FINISHED"
        assert run.data.params["model"] == "SGDClassifier"
        assert len(client.get_metric_history(run.info.run_id, "val_accuracy")) == 30
        names = {f.path for f in client.list_artifacts(run.info.run_id)}
        assert names == {"confusion_matrix.png", "report.txt"}
