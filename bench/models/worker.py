"""Worker of the model benchmark, run under either tool's interpreter (stdlib + the tool).

    python bench/models/worker.py saveload --tool cairn --estimator est.pkl --workdir DIR
    python bench/models/worker.py serving-model --out DIR
    python bench/models/worker.py estimator --out est.pkl --megabytes 100

``saveload`` times ``<tool>.sklearn.save_model`` and ``<tool>.sklearn.load_model`` of the
pickled estimator (the same bytes for both tools; unpickling it is not timed) and prints one
JSON line. ``serving-model`` trains the small model both servers serve and saves it with the
tool (cairn by default; MLflow serves cairn's model directory unchanged).
"""

from __future__ import annotations

import argparse
import json
import os
import pickle
import sys
import time
import warnings
from pathlib import Path

os.environ.setdefault("MLFLOW_DISABLE_TELEMETRY", "true")
warnings.filterwarnings("ignore")

FEATURES = [f"f{i}" for i in range(8)]


def _tool(name: str):  # type: ignore[no-untyped-def]
    if name == "cairn":
        import cairn.models.pyfunc  # the load path, imported up front as MLflow's is
        import cairn.sklearn

        return cairn.sklearn
    import mlflow.sklearn

    return mlflow.sklearn


def saveload(tool: str, estimator: Path, workdir: Path) -> dict[str, float]:
    flavor = _tool(tool)
    with estimator.open("rb") as stream:
        model = pickle.load(stream)  # the benchmark's own file
    trusted = ["sklearn.tree._tree.Tree"]
    target = workdir / f"{tool}-model"
    start = time.perf_counter()
    if tool == "cairn":
        flavor.save_model(model, target)
    else:
        flavor.save_model(model, target, skops_trusted_types=trusted)
    saved = time.perf_counter() - start
    size = sum(p.stat().st_size for p in target.rglob("*") if p.is_file())
    start = time.perf_counter()
    if tool == "cairn":
        loaded = flavor.load_model(target, trusted_types=trusted)
    else:
        loaded = flavor.load_model(str(target))
    load = time.perf_counter() - start
    assert type(loaded) is type(model)
    return {"save_s": saved, "load_s": load, "model_bytes": size}


def serving_model(out: Path) -> None:
    import numpy as np
    import pandas as pd
    from sklearn.linear_model import LogisticRegression
    from sklearn.pipeline import make_pipeline
    from sklearn.preprocessing import StandardScaler

    import cairn.sklearn

    rng = np.random.default_rng(0)
    X = pd.DataFrame(rng.normal(size=(5000, len(FEATURES))), columns=FEATURES)
    y = (X["f0"] + X["f1"] * X["f2"] > 0).astype(int)
    model = make_pipeline(StandardScaler(), LogisticRegression()).fit(X, y)
    cairn.sklearn.save_model(model, out, input_example=X.head(3))


def make_estimator(out: Path, megabytes: float) -> None:
    """A random forest whose pickle is about ``megabytes`` MB (trees scale linearly)."""
    import numpy as np
    from sklearn.ensemble import ExtraTreesClassifier

    rng = np.random.default_rng(0)
    X = rng.normal(size=(20000, 20))
    y = (X[:, :3].sum(axis=1) + rng.normal(size=20000) > 0).astype(int)
    probe = ExtraTreesClassifier(n_estimators=4, random_state=0).fit(X, y)
    per_tree = len(pickle.dumps(probe)) / 4
    trees = max(1, round(megabytes * 1e6 / per_tree))
    model = ExtraTreesClassifier(n_estimators=trees, random_state=0, n_jobs=2).fit(X, y)
    with out.open("wb") as stream:
        pickle.dump(model, stream)


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("action", choices=["saveload", "serving-model", "estimator"])
    parser.add_argument("--megabytes", type=float, default=100.0)
    parser.add_argument("--tool", choices=["cairn", "mlflow"], default="cairn")
    parser.add_argument("--estimator", type=Path)
    parser.add_argument("--workdir", type=Path)
    parser.add_argument("--out", type=Path)
    args = parser.parse_args()
    if args.action == "saveload":
        print(json.dumps(saveload(args.tool, args.estimator, args.workdir)))
    elif args.action == "estimator":
        make_estimator(args.out, args.megabytes)
    else:
        serving_model(args.out)
    sys.stdout.flush()


if __name__ == "__main__":
    main()
