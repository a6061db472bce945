"""JSON schemas of the protocol's responses, for the OpenAPI document.

Responses are built by :mod:`.encode`; tests check that what it builds matches these schemas,
and schemathesis checks every live response against them.
"""

from __future__ import annotations

from typing import Any

Schema = dict[str, Any]

EMPTY: Schema = {"type": "object"}
STRING: Schema = {"type": "string"}
INT64: Schema = {"type": "integer", "format": "int64"}
BOOL: Schema = {"type": "boolean"}
#: A double, or one of the strings MLflow writes for the values JSON cannot hold.
DOUBLE: Schema = {
    "oneOf": [{"type": "number"}, {"type": "string", "enum": ["NaN", "Infinity", "-Infinity"]}]
}


def obj(required: tuple[str, ...] = (), **properties: Schema) -> Schema:
    schema: Schema = {"type": "object", "properties": properties}
    if required:
        schema["required"] = list(required)
    return schema


def ref(name: str) -> Schema:
    return {"$ref": f"#/components/schemas/{name}"}


def array(items: Schema) -> Schema:
    return {"type": "array", "items": items}


COMPONENTS: dict[str, Schema] = {
    "KeyValue": obj(("key", "value"), key=STRING, value=STRING),
    "Error": obj(("error_code", "message"), error_code=STRING, message=STRING),
    "Experiment": obj(
        ("experiment_id", "name", "artifact_location", "lifecycle_stage"),
        experiment_id=STRING,
        name=STRING,
        artifact_location=STRING,
        lifecycle_stage=STRING,
        creation_time=INT64,
        last_update_time=INT64,
        tags=array(ref("KeyValue")),
    ),
    "Metric": obj(
        ("key", "value", "timestamp", "step"),
        key=STRING,
        value=DOUBLE,
        timestamp=INT64,
        step=INT64,
        run_id=STRING,
    ),
    "RunInfo": obj(
        ("run_id", "experiment_id", "status", "start_time", "lifecycle_stage"),
        run_id=STRING,
        run_uuid=STRING,
        run_name=STRING,
        experiment_id=STRING,
        user_id=STRING,
        status={"type": "string", "enum": ["RUNNING", "SCHEDULED", "FINISHED", "FAILED", "KILLED"]},
        start_time=INT64,
        end_time=INT64,
        artifact_uri=STRING,
        lifecycle_stage=STRING,
    ),
    "Dataset": obj(
        ("name", "digest", "source_type", "source"),
        name=STRING,
        digest=STRING,
        source_type=STRING,
        source=STRING,
        schema=STRING,
        profile=STRING,
    ),
    "DatasetInput": obj(("dataset",), tags=array(ref("KeyValue")), dataset=ref("Dataset")),
    "Run": obj(
        ("info", "data"),
        info=ref("RunInfo"),
        data=obj(
            metrics=array(ref("Metric")),
            params=array(ref("KeyValue")),
            tags=array(ref("KeyValue")),
        ),
        inputs=obj(
            dataset_inputs=array(ref("DatasetInput")),
            model_inputs=array(obj(("model_id",), model_id=STRING)),
        ),
        outputs=obj(model_outputs=array(obj(("model_id",), model_id=STRING, step=INT64))),
    ),
    "FileInfo": obj(("path", "is_dir"), path=STRING, is_dir=BOOL, file_size=INT64),
    "ModelMetric": obj(
        ("key", "value", "timestamp", "step"),
        key=STRING,
        value=DOUBLE,
        timestamp=INT64,
        step=INT64,
        run_id=STRING,
        dataset_name=STRING,
        dataset_digest=STRING,
        model_id=STRING,
    ),
    "LoggedModel": obj(
        ("info", "data"),
        info=obj(
            (
                "model_id",
                "experiment_id",
                "name",
                "creation_timestamp_ms",
                "last_updated_timestamp_ms",
                "artifact_uri",
                "status",
            ),
            model_id=STRING,
            experiment_id=STRING,
            name=STRING,
            creation_timestamp_ms=INT64,
            last_updated_timestamp_ms=INT64,
            artifact_uri=STRING,
            status={
                "type": "string",
                "enum": [
                    "LOGGED_MODEL_STATUS_UNSPECIFIED",
                    "LOGGED_MODEL_PENDING",
                    "LOGGED_MODEL_READY",
                    "LOGGED_MODEL_UPLOAD_FAILED",
                ],
            },
            creator_id=INT64,
            model_type=STRING,
            source_run_id=STRING,
            status_message=STRING,
            tags=array(ref("KeyValue")),
            registrations=array(obj(("name", "version"), name=STRING, version=STRING)),
        ),
        data=obj(params=array(ref("KeyValue")), metrics=array(ref("ModelMetric"))),
    ),
}
