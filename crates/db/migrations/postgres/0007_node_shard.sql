-- Node shard (API 1.82): a label that splits nodes between groups of consumers.
ALTER TABLE nodes ADD COLUMN shard TEXT;
CREATE INDEX ix_nodes__shard ON nodes (shard);
