-- The delivery re-check also looks at the draft itself (sql/delivery_blocked_reason.sql): an
-- approval a moderator revoked while its delivery was being retried must not reach the forum.
-- Its arguments change, so the old function goes first; `migrate` then defines the new one.
DROP FUNCTION IF EXISTS delivery_blocked_reason(text, text);
