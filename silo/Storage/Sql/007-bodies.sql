-- Bodies outside PostgreSQL (docs/body-store.md). A group commit writes the bodies of its new rows
-- as one object in the body store (a directory or an S3 bucket) and keeps here, per row, only where
-- its body lies in that object; the object is named in landing_objects, written in the same
-- transaction as the rows. Rows stored before this migration keep their body in the row.
ALTER TABLE landing ALTER COLUMN body DROP NOT NULL;
ALTER TABLE landing ADD COLUMN IF NOT EXISTS body_offset bigint;
ALTER TABLE landing ADD COLUMN IF NOT EXISTS body_length integer;

-- One row per object: the batch that wrote it, where it is, and the range of submission dates of its
-- rows (retention deletes an object once every row in it is past the retention and checkpointed).
CREATE TABLE IF NOT EXISTS landing_objects (
    batch_id   bigint      NOT NULL PRIMARY KEY,
    object_key text        NOT NULL,
    row_count  integer     NOT NULL,
    bytes      bigint      NOT NULL,
    min_date   date        NOT NULL,
    max_date   date        NOT NULL,
    created_at timestamptz NOT NULL DEFAULT now()
);
CREATE INDEX IF NOT EXISTS landing_objects_max_date ON landing_objects (max_date, batch_id);

-- The database's own name space in the body store: two databases sharing one directory or bucket never
-- see (or collect) each other's objects. Chosen once, at the first migration.
CREATE TABLE IF NOT EXISTS landing_store (
    singleton boolean NOT NULL PRIMARY KEY DEFAULT true CHECK (singleton),
    namespace text    NOT NULL,
    -- Orphan collection has examined every object key up to this one (docs/body-store.md).
    collected_through text
);
INSERT INTO landing_store (namespace)
SELECT substr(md5(random()::text || clock_timestamp()::text), 1, 16)
ON CONFLICT (singleton) DO NOTHING;
