-- SQL functions now live in sql/, one file each, re-applied by `migrate` whenever their
-- combined checksum changes (see sql/functions.list). This table records which set is
-- installed, so that a start-up with nothing to change costs one read.
CREATE TABLE schema_functions (
    singleton boolean PRIMARY KEY DEFAULT true CHECK (singleton),
    checksum text NOT NULL,
    agentgate_version text NOT NULL,
    applied_at timestamptz NOT NULL DEFAULT now()
);

DO $$
BEGIN
    IF EXISTS (SELECT 1 FROM pg_roles WHERE rolname = 'agentgate_app') THEN
        GRANT SELECT ON schema_functions TO agentgate_app;
    END IF;
END $$;
