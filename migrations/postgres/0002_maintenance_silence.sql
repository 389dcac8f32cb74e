-- The Alertmanager silence created with a maintenance window, expired when the
-- window ends. NULL when no Alertmanager is configured or creating it failed.
ALTER TABLE maintenance_windows ADD COLUMN silence_id TEXT COLLATE "C";
