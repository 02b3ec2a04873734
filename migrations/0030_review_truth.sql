-- What the approver sees is the truth, and a captured forum request acts once (CONTRACT §4.1,
-- §4.2, §7):
--  - drafts keep the reply's topic title and link when the forum sent them (post.topic_title,
--    post.topic_url), so "where" reads as a title and a link;
--  - forum_decision_requests remembers each §4.2 decision's webhook-id with the answer given, so
--    the same id again gets the first answer and nothing is done twice. Rows are kept 15
--    minutes: a webhook-timestamp is accepted 5 minutes either side of now, so a request can be
--    replayed for at most 10 minutes after it was first seen, and 15 > 10;
--  - draft_form_echoes keeps, for a short while, what a person typed into a draft form that was
--    refused (a stale revision, an empty body), so that the answer can be a redirect to the
--    draft page (a reload never resubmits) without losing the text.
ALTER TABLE drafts ADD COLUMN topic_title text, ADD COLUMN topic_url text;

CREATE TABLE forum_decision_requests (
    forum text NOT NULL,
    webhook_id text NOT NULL,
    draft_id uuid NOT NULL,
    status integer NOT NULL,          -- 0 while the decision that claimed the id runs
    response text,                    -- the 200 body, as sent
    error_code text,                  -- or the error answered: code, field, message
    error_field text,
    error_message text,
    received_at timestamptz NOT NULL DEFAULT now(),
    PRIMARY KEY (forum, webhook_id)
);
CREATE INDEX forum_decision_requests_received ON forum_decision_requests (received_at);

CREATE TABLE draft_form_echoes (
    id uuid PRIMARY KEY DEFAULT gen_random_uuid(),
    draft_id uuid NOT NULL REFERENCES drafts (id),
    forum text NOT NULL,
    user_id text NOT NULL,
    fields jsonb NOT NULL,
    created_at timestamptz NOT NULL DEFAULT now()
);
CREATE INDEX draft_form_echoes_created ON draft_form_echoes (created_at);

-- New arguments: the topic's title and link (intake_hold), the moderator's name (delivery_retry).
DROP FUNCTION intake_hold(text, text, uuid, text, text, text, text, text, text, text, text, text,
    text, jsonb, jsonb, text, integer, interval, interval);
DROP FUNCTION delivery_retry(uuid, text);

DO $$
BEGIN
    IF EXISTS (SELECT 1 FROM pg_roles WHERE rolname = 'agentgate_app') THEN
        GRANT SELECT, INSERT, UPDATE, DELETE ON forum_decision_requests, draft_form_echoes
            TO agentgate_app;
    END IF;
END $$;
