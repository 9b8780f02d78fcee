-- The registry schema. It runs unchanged on PostgreSQL and on H2 (the embedded default), so it sticks to
-- standard SQL: no JSON columns (recipe and metrics are JSON text), no upserts, UUID keys made by the service.

CREATE TABLE model (
    id          UUID PRIMARY KEY,
    name        VARCHAR(64) NOT NULL,
    description VARCHAR(4000),
    family      VARCHAR(128),
    archived    BOOLEAN NOT NULL,
    created_at  TIMESTAMP WITH TIME ZONE NOT NULL,
    CONSTRAINT model_name_unique UNIQUE (name)
);

CREATE TABLE model_tag (
    model_id UUID NOT NULL REFERENCES model (id),
    tag      VARCHAR(64) NOT NULL,
    PRIMARY KEY (model_id, tag)
);
CREATE INDEX model_tag_by_tag ON model_tag (tag);

CREATE TABLE model_version (
    id          UUID PRIMARY KEY,
    model_id    UUID NOT NULL REFERENCES model (id),
    seq         INTEGER NOT NULL,
    state       VARCHAR(16) NOT NULL,
    operation   VARCHAR(16) NOT NULL,
    recipe      VARCHAR NOT NULL,
    metrics     VARCHAR NOT NULL,
    reason      VARCHAR(4000),
    created_at  TIMESTAMP WITH TIME ZONE NOT NULL,
    CONSTRAINT version_seq_unique UNIQUE (model_id, seq)
);

CREATE TABLE version_parent (
    version_id  UUID NOT NULL REFERENCES model_version (id),
    parent_id   UUID NOT NULL REFERENCES model_version (id),
    parent_role VARCHAR(16) NOT NULL,
    position    INTEGER NOT NULL,
    PRIMARY KEY (version_id, position)
);
CREATE INDEX version_parent_by_parent ON version_parent (parent_id);

CREATE TABLE manifest_entry (
    version_id UUID NOT NULL REFERENCES model_version (id),
    path       VARCHAR(1024) NOT NULL,
    sha256     VARCHAR(64) NOT NULL,
    size_bytes BIGINT NOT NULL,
    media_type VARCHAR(255) NOT NULL,
    present    BOOLEAN NOT NULL,
    PRIMARY KEY (version_id, path)
);

CREATE TABLE model_alias (
    id         UUID PRIMARY KEY,
    model_id   UUID NOT NULL REFERENCES model (id),
    name       VARCHAR(64) NOT NULL,
    version_id UUID NOT NULL REFERENCES model_version (id),
    updated_at TIMESTAMP WITH TIME ZONE NOT NULL,
    CONSTRAINT alias_name_unique UNIQUE (model_id, name)
);

-- Every move of an alias, newest last. A rollback undoes the newest move that is not undone yet and is itself
-- recorded, so repeated rollbacks walk back through the targets instead of flipping between two.
CREATE TABLE alias_move (
    id                  UUID PRIMARY KEY,
    alias_id            UUID NOT NULL REFERENCES model_alias (id),
    position            INTEGER NOT NULL,
    action              VARCHAR(16) NOT NULL,
    version_id          UUID NOT NULL REFERENCES model_version (id),
    previous_version_id UUID REFERENCES model_version (id),
    undone              BOOLEAN NOT NULL,
    moved_at            TIMESTAMP WITH TIME ZONE NOT NULL,
    moved_by            VARCHAR(255) NOT NULL,
    CONSTRAINT alias_move_position_unique UNIQUE (alias_id, position)
);

-- Events waiting for the relay. Written in the same transaction as the change they describe; the identity gives
-- the publish order, and writes to one model are serialized by a lock on its row, so one model's events are
-- numbered in commit order.
CREATE TABLE outbox_event (
    seq         BIGINT GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    event_id    UUID NOT NULL,
    topic       VARCHAR(255) NOT NULL,
    event_key   VARCHAR(255) NOT NULL,
    event_type  VARCHAR(255) NOT NULL,
    payload     VARCHAR NOT NULL,
    created_at  TIMESTAMP WITH TIME ZONE NOT NULL,
    sent_at     TIMESTAMP WITH TIME ZONE
);
CREATE INDEX outbox_event_unsent ON outbox_event (sent_at, seq);
