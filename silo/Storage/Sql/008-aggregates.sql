-- Aggregate states in a header and parts (docs/ingest-cost.md, "Aggregate state writes"). The header
-- (pings, data version, which batches of each partition the aggregate holds) is rewritten by every
-- state write; series and metric layouts are in parts: a base with all of them, then deltas holding
-- only what changed since the write before. A write updates the header and adds a delta (or replaces
-- every part with a new base) in one transaction, with the header's version as the optimistic-
-- concurrency ETag. States written before these tables existed stay in orleansstorage until their next
-- write moves them here.
CREATE TABLE IF NOT EXISTS aggregate_states (
    id      bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    grain   text   NOT NULL UNIQUE,
    version bigint NOT NULL,
    header  bytea  NOT NULL
);

-- seq is the header version that wrote the part: parts apply in seq order, later series winning.
CREATE TABLE IF NOT EXISTS aggregate_parts (
    aggregate_id bigint  NOT NULL REFERENCES aggregate_states (id) ON DELETE CASCADE,
    seq          bigint  NOT NULL,
    is_base      boolean NOT NULL,
    data         bytea   NOT NULL,
    PRIMARY KEY (aggregate_id, seq)
);
