-- Where a conductor's RPC listener answers (JSON-RPC over HTTP), so API
-- processes elsewhere can reach it; NULL for a conductor without one.
ALTER TABLE conductors ADD COLUMN rpc_url TEXT;
