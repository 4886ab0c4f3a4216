-- All-chats search: one search document per conversation, its messages' words as a
-- tsvector under a GIN index, and the visitor's sentiment. An indexer fills it a few
-- seconds behind the conversation, off the path that stores messages. An open
-- conversation's document is rewritten at most once per reindex interval: each rewrite
-- re-inserts all of its words into the index.

CREATE TABLE conversation_search (
    tenant_id       uuid NOT NULL,
    conversation_id uuid NOT NULL,
    document        tsvector NOT NULL DEFAULT ''::tsvector,
    indexed_seq     bigint NOT NULL DEFAULT 0,
    indexed_at      timestamptz NOT NULL DEFAULT '-infinity',
    message_count   integer NOT NULL DEFAULT 0,
    sentiment_sum   double precision NOT NULL DEFAULT 0,
    sentiment_count integer NOT NULL DEFAULT 0,
    PRIMARY KEY (tenant_id, conversation_id),
    FOREIGN KEY (tenant_id, conversation_id) REFERENCES conversations ON DELETE CASCADE
);
CREATE INDEX conversation_search_document ON conversation_search USING gin (document);
CREATE INDEX conversations_by_created ON conversations (tenant_id, created_at DESC, conversation_id DESC);

ALTER TABLE conversation_search ENABLE ROW LEVEL SECURITY;
CREATE POLICY tenant_isolation ON conversation_search USING (tenant_id = sb_current_tenant()) WITH CHECK (tenant_id = sb_current_tenant());
