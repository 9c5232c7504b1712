"""Peewee models of the history: Result, Record, Label, StepLog, Meta, Lease.

Timestamps are integer epoch seconds (Kubernetes timestamps have second precision and
integers compare and index the same on SQLite and PostgreSQL). Objects are stored as
JSON text serialized once by the writer (JSONB on PostgreSQL); list and filter queries
never touch it — they use the index columns pulled out at write time.
"""

from __future__ import annotations

import json
from typing import Any

import peewee as pw

# Bound at open time (store.db.open_database); models never know which engine they use.
database_proxy = pw.DatabaseProxy()


class JsonTextField(pw.Field):
    """JSON kept as text: TEXT on SQLite, JSONB on PostgreSQL; the caller serializes once."""

    field_type = "JSONTEXT"

    def db_value(self, value: Any) -> Any:
        if value is None or isinstance(value, str):
            return value
        return json.dumps(value, separators=(",", ":"), sort_keys=False)

    def python_value(self, value: Any) -> Any:
        # psycopg2 decodes jsonb already; SQLite gives text. Callers get text either way.
        if value is None or isinstance(value, str):
            return value
        return json.dumps(value, separators=(",", ":"))


class BaseModel(pw.Model):
    class Meta:
        database = database_proxy
        legacy_table_names = False


class MetaKV(BaseModel):
    """Schema version, change sequence and small named values (watch state)."""

    key = pw.CharField(primary_key=True, max_length=200)
    value = pw.TextField()

    class Meta:
        table_name = "meta"


class Result(BaseModel):
    """A group of Records about one top-level run (Tekton Results' Result)."""

    id = pw.BigAutoField()
    cluster = pw.CharField(max_length=253, default="")
    parent = pw.CharField(max_length=253)  # namespace
    name = pw.CharField(max_length=600)  # <ns>/results/<result-id>
    uid = pw.CharField(max_length=64)
    annotations = JsonTextField(default="{}")
    warnings = JsonTextField(default="[]")  # malformed user annotations etc.
    # summary, written only by the top-level run (no ownerReferences)
    summary_record = pw.CharField(max_length=700, null=True)
    summary_type = pw.CharField(max_length=100, null=True)
    summary_status = pw.CharField(max_length=16, default="UNKNOWN")
    summary_reason = pw.CharField(max_length=200, null=True)
    summary_start = pw.BigIntegerField(null=True)
    summary_end = pw.BigIntegerField(null=True)
    summary_duration = pw.BigIntegerField(null=True)
    summary_annotations = JsonTextField(default="{}")
    summary_rv = pw.BigIntegerField(default=0)
    display_name = pw.CharField(max_length=253, null=True)  # top-level run name
    pipeline = pw.CharField(max_length=253, null=True)
    # the source the top-level run built (schema v3; grouping.source_of): statistics and flaky detection
    revision = pw.CharField(max_length=253, null=True)
    repository = pw.CharField(max_length=253, null=True)
    in_cluster = pw.BooleanField(default=True)  # the top-level run is still in the cluster
    gone_at = pw.BigIntegerField(null=True)
    sort_time = pw.BigIntegerField()  # creation of the top-level run, else first seen: "newest"
    create_time = pw.BigIntegerField()
    update_time = pw.BigIntegerField()
    seq = pw.BigIntegerField(index=True)

    class Meta:
        table_name = "result"
        indexes = (
            (("cluster", "name"), True),
            (("sort_time", "id"), False),
            (("summary_status", "sort_time"), False),
            (("pipeline", "sort_time"), False),
            (("parent", "sort_time"), False),
            (("summary_end",), False),
            (("summary_duration",), False),
            (("display_name",), False),
            (("pipeline", "revision"), False),  # flaky: other runs of a pipeline on one revision
            # a namespace's or pipeline's runs of some status, newest first and counted from the index alone
            (("parent", "summary_status", "sort_time"), False),
            (("pipeline", "summary_status", "sort_time"), False),
        )


class Record(BaseModel):
    """One stored object: a PipelineRun, TaskRun, Log or EventList."""

    id = pw.BigAutoField()
    # no index of its own: (result, start) below serves lookups and cascades by result
    result = pw.ForeignKeyField(Result, backref="records", on_delete="CASCADE", index=False)
    cluster = pw.CharField(max_length=253, default="")
    parent = pw.CharField(max_length=253)  # namespace
    name = pw.CharField(max_length=700)  # <result name>/records/<record-id>
    uid = pw.CharField(max_length=64)  # record id (the object's uid for runs)
    type = pw.CharField(max_length=100)
    data = JsonTextField()
    rv = pw.BigIntegerField(default=0)  # resourceVersion of the stored object
    # index columns
    kind = pw.CharField(max_length=32)  # a run kind of kinds.RUN_KINDS (PipelineRun, TaskRun, CustomRun), Log or EventList
    run_name = pw.CharField(max_length=253)
    run_uid = pw.CharField(max_length=64)  # for Log/EventList: the run they belong to
    status = pw.CharField(max_length=16, default="UNKNOWN")
    reason = pw.CharField(max_length=200, null=True)
    start = pw.BigIntegerField(null=True)
    end = pw.BigIntegerField(null=True)
    duration = pw.BigIntegerField(null=True)
    pipeline = pw.CharField(max_length=253, null=True)
    pipeline_task = pw.CharField(max_length=253, null=True)
    task = pw.CharField(max_length=253, null=True)
    top_level = pw.BooleanField(default=False)  # no ownerReferences: it owns the summary
    in_cluster = pw.BooleanField(default=True)
    deleted_at = pw.BigIntegerField(null=True)
    final = pw.BooleanField(default=False)  # the stored copy is a terminal state
    create_time = pw.BigIntegerField()
    update_time = pw.BigIntegerField()
    seq = pw.BigIntegerField(index=True)
    # when an import stored this run; cleared once a watcher writes it (schema v5): a run never seen in
    # a cluster says "imported", not "in cluster" (a dump is a snapshot, nobody follows it)
    imported_at = pw.BigIntegerField(null=True)

    class Meta:
        table_name = "record"
        # Few random-keyed indexes: each one dirties a random page per insert, and at 120k records
        # that write-back dominated import time. uid is unique per cluster (the record id IS the uid,
        # and a run's Log/EventList ids derive from its uid), so (uid, cluster) serves lookups by uid,
        # by name (its last segment) and by run uid (derived ids); it is also the upsert's conflict key.
        indexes = (
            (("uid", "cluster"), True),
            (("result", "start"), False),
            (("run_name",), False),
            (("status", "start"), False),
            (("task",), False),
            (("reason",), False),
            (("cluster", "in_cluster", "kind"), False),
            # newest first, overall and within a namespace or pipeline (schema v3): creation times
            # arrive in order, so these append instead of dirtying random pages
            (("create_time", "id"), False),
            (("parent", "create_time", "id"), False),
            (("pipeline", "create_time", "id"), False),
        )


class RunStat(BaseModel):
    """A run's statistics columns, one narrow row per run Record (schema v3), kept by the writer.

    On SQLite a Record's index columns sit after its ~4 KB object in the row, so reading any of
    them walks the object's overflow pages: grouping a month of TaskRuns read ~1 GB. This table
    holds only what statistics, flaky detection and ETAs read, so those reads touch ~100 bytes a run.
    """

    id = pw.ForeignKeyField(Record, primary_key=True, on_delete="CASCADE", column_name="id")  # the Record's id
    result = pw.ForeignKeyField(Result, on_delete="CASCADE", index=False)
    kind = pw.CharField(max_length=32)
    cluster = pw.CharField(max_length=253, default="")
    parent = pw.CharField(max_length=253)  # namespace
    run_name = pw.CharField(max_length=253)
    status = pw.CharField(max_length=16)
    reason = pw.CharField(max_length=200, null=True)
    created = pw.BigIntegerField()
    start = pw.BigIntegerField(null=True)
    end = pw.BigIntegerField(null=True)
    duration = pw.BigIntegerField(null=True)
    pipeline = pw.CharField(max_length=253, null=True)
    pipeline_task = pw.CharField(max_length=253, null=True)
    task = pw.CharField(max_length=253, null=True)
    top_level = pw.BooleanField(default=False)
    retries = pw.IntegerField(default=0)

    class Meta:
        table_name = "run_stat"
        indexes = (
            (("kind", "created"), False),  # a window of TaskRuns
            (("result", "kind"), False),  # a Result's TaskRuns (a pipeline's task extremes, ETAs)
            (("retries",), False),  # retried runs are few: flaky's retry evidence is an index probe
        )


class Label(BaseModel):
    """The labels of a Result's runs (their union), one row per distinct key=value, so `label:k=v` uses an index.

    Per Result, not per Record: Tekton copies a PipelineRun's labels onto its TaskRuns, so per-record
    rows were ~50 per Result and cost more to write than the objects themselves (measured: 9 of 24 s
    importing 120k records); the union is ~17 rows. `label:` therefore matches a Result (and its
    Records) when any of its runs carries the label. Labels a run later drops stay in the union.

    On SQLite the table is WITHOUT ROWID (schema v2): the primary key is the table, so a label row
    costs two b-tree inserts instead of four (rowid table, key index, FK index, lookup index).
    """

    result = pw.ForeignKeyField(Result, on_delete="CASCADE", index=False)  # the primary key leads with it
    key = pw.CharField(max_length=317)
    value = pw.CharField(max_length=255)

    class Meta:
        table_name = "label"
        primary_key = pw.CompositeKey("result", "key", "value")
        indexes = ((("key", "value", "result"), False),)  # covering for label:k=v


class StepLog(BaseModel):
    """The log of one step container of a TaskRun, zlib-compressed, linked to its Log record."""

    id = pw.BigAutoField()
    record = pw.ForeignKeyField(Record, on_delete="CASCADE")  # the Log record
    step = pw.CharField(max_length=253)
    container = pw.CharField(max_length=253)
    position = pw.IntegerField(default=0)  # step order
    data = pw.BlobField()
    size = pw.BigIntegerField()  # uncompressed bytes stored
    truncated = pw.BooleanField(default=False)
    state = pw.CharField(max_length=32, default="stored")  # stored | pod-gone | not-started | error

    class Meta:
        table_name = "step_log"
        indexes = ((("record", "step"), True),)


class LogDoc(BaseModel):
    """How one step log is indexed for search (schema v4; store/log_index.py).

    The index rows of a step log (SQLite: FTS5 table `log_fts`; PostgreSQL: `log_block`) are blocks of
    `per_block` lines whose keys are `key + 0xFFFF - block`: keys order newest runs first and, within a
    step log, its blocks in line order, so a search pages by key alone. `crc` of the stored text says
    whether a rewritten log needs indexing again.
    """

    step_log = pw.ForeignKeyField(StepLog, primary_key=True, on_delete="CASCADE", column_name="step_log_id")
    key = pw.BigIntegerField(unique=True)
    crc = pw.BigIntegerField()
    lines = pw.IntegerField()
    per_block = pw.IntegerField()

    class Meta:
        table_name = "log_doc"


class Lease(BaseModel):
    """Who writes this database: lets a TUI see that a live headless watcher owns it."""

    name = pw.CharField(primary_key=True, max_length=200)
    holder = pw.CharField(max_length=300)
    acquired = pw.DoubleField()  # float8: REAL (float4) on PostgreSQL loses whole minutes of epoch time
    renewed = pw.DoubleField()
    expires = pw.DoubleField()
    info = pw.TextField(default="{}")

    class Meta:
        table_name = "lease"


ALL_MODELS: list[type[BaseModel]] = [MetaKV, Result, Record, RunStat, Label, StepLog, Lease]
