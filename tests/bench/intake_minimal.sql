-- The ceiling tests/bench/intake.sh compares agentgate's intake with: a minimal durable intake,
-- one draft row (the post, body included) and one audit row per transaction, into tables with
-- nothing but their keys (the draft's id and (forum, webhook-id); the audit event's id). Created
-- in its own database of the benchmark's PostgreSQL; intake_minimal.pgbench writes to it.
CREATE TABLE minimal_drafts (
    id uuid PRIMARY KEY,
    forum text NOT NULL,
    webhook_id text NOT NULL,
    agent_id text NOT NULL,
    agent_name text NOT NULL,
    invoker_id text NOT NULL,
    invoker_name text NOT NULL,
    topic_id text,
    reply_to_post_id text,
    body text NOT NULL,
    forum_ref text,
    context jsonb,
    flags jsonb NOT NULL,
    intake_response text NOT NULL,
    created_at timestamptz NOT NULL DEFAULT now(),
    expires_at timestamptz NOT NULL,
    UNIQUE (forum, webhook_id)
);
CREATE TABLE minimal_audit (
    id bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    occurred_at timestamptz NOT NULL DEFAULT now(),
    actor text NOT NULL,
    action text NOT NULL,
    forum text,
    draft_id uuid,
    details jsonb NOT NULL
);
