"""The SQL schema, shared by SQLite and PostgreSQL.

Shaped for speed (DESIGN decision 2):

* ``keys`` interns every metric, param and tag key to an integer, so the big tables hold
  integers instead of repeated strings.
* ``metric_blocks`` holds metric history in column blocks: one row per (run, key) and write
  batch, carrying the batch's steps, timestamps and values as packed little-endian arrays
  (int64, int64, float64). A batch of 100,000 points is one row, not 100,000, which is what
  lets the background writer make points durable at memory speed, and lets a chart read a
  series of a million points in milliseconds. Small writes (one point per request) append to
  the series' last block while it holds fewer than ``SMALL_BLOCK`` points, so a series never
  fragments into single-point rows. ``first_index`` is the series ordinal of the block's first
  point; ``min_step``/``max_step`` let a zoomed chart read only the blocks it shows.
* ``metric_summaries`` keeps, per (run, key), the latest point and the min, max and count,
  updated on every write. Run pages, search filters and ordering read this table and never
  scan history. ``tail_index`` is the ``first_index`` of the series' last block.
* In summaries NaN is stored as NULL (SQLite cannot store NaN in a REAL column) and read back
  as NaN; inside blocks NaN is stored as itself.

These table objects describe the *current* schema, the one the newest migration produces.
Migrations (``cairn/store/sql/migrations``) create and change the tables; this module is what
the store's queries are written against.
"""

from __future__ import annotations

from sqlalchemy import (
    BigInteger,
    Column,
    ForeignKey,
    Index,
    Integer,
    LargeBinary,
    MetaData,
    PrimaryKeyConstraint,
    String,
    Table,
    Text,
    UniqueConstraint,
)
from sqlalchemy.dialects import postgresql, sqlite
from sqlalchemy.types import Float

metadata = MetaData()

# SQLite only gives INTEGER PRIMARY KEY its rowid behaviour (autoincrement, fast) for the exact
# type name INTEGER, so big integer ids are spelled INTEGER there and BIGINT elsewhere.
Id = BigInteger().with_variant(Integer(), "sqlite")
# SQLite's REAL and PostgreSQL's double precision are both 8-byte floats.
Double = (
    Float(53)
    .with_variant(sqlite.REAL(), "sqlite")
    .with_variant(postgresql.DOUBLE_PRECISION(), "postgresql")
)

experiments = Table(
    "experiments",
    metadata,
    Column("id", Id, primary_key=True, autoincrement=True),
    Column("name", String(500), nullable=False, unique=True),
    # A URI, or a path relative to the store's artifact root (keeps ./mlruns relocatable).
    Column("artifact_location", String(2048), nullable=False),
    Column("lifecycle_stage", String(16), nullable=False, server_default="active"),
    Column("creation_time", BigInteger, nullable=False),
    Column("last_update_time", BigInteger, nullable=False),
    Column("deleted_time", BigInteger),
)

experiment_tags = Table(
    "experiment_tags",
    metadata,
    Column("experiment_id", Id, ForeignKey("experiments.id", ondelete="CASCADE"), nullable=False),
    Column("key", String(250), nullable=False),
    Column("value", Text, nullable=False),
    PrimaryKeyConstraint("experiment_id", "key"),
)

runs = Table(
    "runs",
    metadata,
    Column("pk", Id, primary_key=True, autoincrement=True),
    Column("run_uuid", String(32), nullable=False, unique=True),
    Column("experiment_id", Id, ForeignKey("experiments.id"), nullable=False),
    Column("name", String(250), nullable=False),
    Column("user_id", String(256), nullable=False),
    Column("status", String(16), nullable=False),
    Column("start_time", BigInteger, nullable=False),
    Column("end_time", BigInteger),
    Column("lifecycle_stage", String(16), nullable=False, server_default="active"),
    Column("deleted_time", BigInteger),
    Index("ix_runs_experiment_start", "experiment_id", "lifecycle_stage", "start_time"),
)

keys = Table(
    "keys",
    metadata,
    Column("id", Id, primary_key=True, autoincrement=True),
    Column("name", String(250), nullable=False, unique=True),
)

params = Table(
    "params",
    metadata,
    Column("run_pk", Id, ForeignKey("runs.pk", ondelete="CASCADE"), nullable=False),
    Column("key_id", Id, ForeignKey("keys.id"), nullable=False),
    Column("value", Text, nullable=False),
    PrimaryKeyConstraint("run_pk", "key_id"),
    Index("ix_params_key_value", "key_id", "value"),
)

tags = Table(
    "tags",
    metadata,
    Column("run_pk", Id, ForeignKey("runs.pk", ondelete="CASCADE"), nullable=False),
    Column("key_id", Id, ForeignKey("keys.id"), nullable=False),
    Column("value", Text, nullable=False),
    PrimaryKeyConstraint("run_pk", "key_id"),
    Index("ix_tags_key_value", "key_id", "value"),
)

#: A series' last block takes appended points while it holds fewer than this many.
SMALL_BLOCK = 1024

metric_blocks = Table(
    "metric_blocks",
    metadata,
    Column("run_pk", Id, nullable=False),
    Column("key_id", Id, nullable=False),
    Column("first_index", BigInteger, nullable=False),
    Column("count", Integer, nullable=False),
    Column("min_step", BigInteger, nullable=False),
    Column("max_step", BigInteger, nullable=False),
    Column("steps", LargeBinary, nullable=False),
    Column("timestamps", LargeBinary, nullable=False),
    Column("values", LargeBinary, nullable=False),
    PrimaryKeyConstraint("run_pk", "key_id", "first_index"),
)

metric_summaries = Table(
    "metric_summaries",
    metadata,
    Column("run_pk", Id, ForeignKey("runs.pk", ondelete="CASCADE"), nullable=False),
    Column("key_id", Id, ForeignKey("keys.id"), nullable=False),
    Column("latest_value", Double),
    Column("latest_step", BigInteger, nullable=False),
    Column("latest_timestamp", BigInteger, nullable=False),
    Column("min_value", Double),  # NULL when every value so far was NaN
    Column("max_value", Double),
    Column("count", BigInteger, nullable=False),
    Column("tail_index", BigInteger, nullable=False),
    PrimaryKeyConstraint("run_pk", "key_id"),
    Index("ix_metric_summaries_key_latest", "key_id", "latest_value"),
)

datasets = Table(
    "datasets",
    metadata,
    Column("id", Id, primary_key=True, autoincrement=True),
    Column("experiment_id", Id, ForeignKey("experiments.id", ondelete="CASCADE"), nullable=False),
    Column("name", String(500), nullable=False),
    Column("digest", String(36), nullable=False),
    Column("source_type", String(36), nullable=False),
    Column("source", Text, nullable=False),
    Column("schema", Text),
    Column("profile", Text),
    UniqueConstraint("experiment_id", "name", "digest", name="uq_datasets_identity"),
)

run_inputs = Table(
    "run_inputs",
    metadata,
    Column("run_pk", Id, ForeignKey("runs.pk", ondelete="CASCADE"), nullable=False),
    Column("dataset_id", Id, ForeignKey("datasets.id", ondelete="CASCADE"), nullable=False),
    # The input's tags (e.g. mlflow.data.context) as a JSON object.
    Column("tags", Text, nullable=False, server_default="{}"),
    Column("context", String(500)),
    PrimaryKeyConstraint("run_pk", "dataset_id"),
)

# -- logged models (MLflow 3.x) ---------------------------------------------------------------
# Small tables next to the run tables: a model has tens of params and tags and a handful of
# evaluation metrics, so keys are stored as text here rather than interned.

logged_models = Table(
    "logged_models",
    metadata,
    Column("model_id", String(36), primary_key=True),  # "m-" and 32 hex digits
    Column("experiment_id", Id, ForeignKey("experiments.id", ondelete="CASCADE"), nullable=False),
    Column("name", String(500), nullable=False),
    Column("model_type", String(500)),
    Column("source_run_id", String(256)),
    Column("status", String(32), nullable=False),
    Column("status_message", Text),
    Column("creator_id", BigInteger),
    # Like experiments' locations: relative to the store's artifact root when under it.
    Column("artifact_location", String(2048), nullable=False),
    Column("creation_timestamp_ms", BigInteger, nullable=False),
    Column("last_updated_timestamp_ms", BigInteger, nullable=False),
    Column("lifecycle_stage", String(16), nullable=False, server_default="active"),
    Column("deleted_time", BigInteger),
    Index(
        "ix_logged_models_experiment_created",
        "experiment_id",
        "lifecycle_stage",
        "creation_timestamp_ms",
    ),
    Index("ix_logged_models_experiment_name", "experiment_id", "name"),
)

logged_model_tags = Table(
    "logged_model_tags",
    metadata,
    Column(
        "model_id",
        String(36),
        ForeignKey("logged_models.model_id", ondelete="CASCADE"),
        nullable=False,
    ),
    Column("key", String(250), nullable=False),
    Column("value", Text, nullable=False),
    PrimaryKeyConstraint("model_id", "key"),
)

logged_model_params = Table(
    "logged_model_params",
    metadata,
    Column(
        "model_id",
        String(36),
        ForeignKey("logged_models.model_id", ondelete="CASCADE"),
        nullable=False,
    ),
    Column("key", String(250), nullable=False),
    Column("value", Text, nullable=False),
    PrimaryKeyConstraint("model_id", "key"),
)

# Every point logged against a model (by a run's log-batch carrying ``model_id``); the same
# point logged twice by one run is kept once. ``run_id`` is not a foreign key: a model's
# evaluation history outlives the purge of the run that logged it.
logged_model_metrics = Table(
    "logged_model_metrics",
    metadata,
    Column(
        "model_id",
        String(36),
        ForeignKey("logged_models.model_id", ondelete="CASCADE"),
        nullable=False,
    ),
    Column("key", String(250), nullable=False),
    Column("value", Double),  # NULL for NaN, as in metric_summaries
    Column("timestamp", BigInteger, nullable=False),
    Column("step", BigInteger, nullable=False),
    Column("run_id", String(32), nullable=False),
    Column("dataset_name", String(500)),
    Column("dataset_digest", String(36)),
    PrimaryKeyConstraint("model_id", "key", "timestamp", "step", "run_id"),
)

# Models a run produced (MLflow's log-outputs), with the step it produced each at.
run_outputs = Table(
    "run_outputs",
    metadata,
    Column("run_pk", Id, ForeignKey("runs.pk", ondelete="CASCADE"), nullable=False),
    Column(
        "model_id",
        String(36),
        ForeignKey("logged_models.model_id", ondelete="CASCADE"),
        nullable=False,
    ),
    Column("step", BigInteger, nullable=False),
    PrimaryKeyConstraint("run_pk", "model_id"),
)

# Models a run used (MLflow's log-inputs ``models``), as datasets are in run_inputs.
run_model_inputs = Table(
    "run_model_inputs",
    metadata,
    Column("run_pk", Id, ForeignKey("runs.pk", ondelete="CASCADE"), nullable=False),
    Column(
        "model_id",
        String(36),
        ForeignKey("logged_models.model_id", ondelete="CASCADE"),
        nullable=False,
    ),
    PrimaryKeyConstraint("run_pk", "model_id"),
)
