"""Make a current history look like one written by schema v1 (for the migration and read-only tests)."""

from __future__ import annotations

import peewee as pw

from tekton_results_tui.store import models as m
from tekton_results_tui.store.db import is_sqlite


V3_INDEXES = ("result_pipeline_revision", "record_create_time_id", "record_parent_create_time_id",
              "record_pipeline_create_time_id", "result_display_name_trgm", "result_pipeline_trgm",
              "result_parent_summary_status_sort_time", "result_pipeline_summary_status_sort_time")


def downgrade_to_v2(db: pw.Database) -> None:
    """v2 had no run_stat table, no result.revision/repository, no newest-first Record indexes, no name trigram index."""
    if is_sqlite(db):
        for trig in ("ai", "ad", "au"):
            db.execute_sql(f'DROP TRIGGER IF EXISTS "result_name_fts_{trig}"')
        db.execute_sql('DROP TABLE IF EXISTS "result_name_fts"')
    db.execute_sql('DROP TABLE IF EXISTS "run_stat"')
    for name in V3_INDEXES:
        db.execute_sql(f'DROP INDEX IF EXISTS "{name}"')
    for col in ("revision", "repository"):
        db.execute_sql(f'ALTER TABLE "result" DROP COLUMN "{col}"')
    m.MetaKV.update(value="2").where(m.MetaKV.key == "schema_version").execute()


def downgrade_to_v1(db: pw.Database) -> None:
    """v1 had FK indexes on record.result_id and label.result_id and a rowid `label` table."""
    downgrade_to_v2(db)
    if is_sqlite(db):
        db.execute_sql('CREATE TABLE "label_old" ("result_id" INTEGER NOT NULL REFERENCES "result" ("id") '
                       'ON DELETE CASCADE, "key" VARCHAR(317) NOT NULL, "value" VARCHAR(255) NOT NULL, '
                       'PRIMARY KEY ("result_id", "key", "value"))')
        db.execute_sql('INSERT INTO "label_old" SELECT * FROM "label"')
        db.execute_sql('DROP TABLE "label"')
        db.execute_sql('ALTER TABLE "label_old" RENAME TO "label"')
    db.execute_sql('CREATE INDEX "record_result_id" ON "record" ("result_id")')
    db.execute_sql('CREATE INDEX "label_result_id" ON "label" ("result_id")')
    m.MetaKV.update(value="1").where(m.MetaKV.key == "schema_version").execute()
