-- One row per edit or rollback job. The request is kept as the user sent it, so a queued job re-runs exactly as
-- asked after a restart; parent pins the reference it named to the exact version (name:N) it resolved to.
CREATE TABLE edit_job (
    id              VARCHAR(36)   PRIMARY KEY,
    kind            VARCHAR(16)   NOT NULL,
    state           VARCHAR(16)   NOT NULL,
    model           VARCHAR(64)   NOT NULL,
    alias           VARCHAR(64),
    parent          VARCHAR(140)  NOT NULL,
    request         TEXT          NOT NULL,
    progress        DOUBLE PRECISION NOT NULL DEFAULT 0,
    message         TEXT,
    version_number  INTEGER,
    result          TEXT,
    created_at      TIMESTAMP WITH TIME ZONE NOT NULL,
    updated_at      TIMESTAMP WITH TIME ZONE NOT NULL
);

CREATE INDEX edit_job_state ON edit_job (state);

-- The ledger: every edit ever made, with the request that asked for it and where it was introduced. efficacy is the
-- latest measurement (on measured_model:measured_number), from the edit job or a retention check.
CREATE TABLE edit (
    id                VARCHAR(36)   PRIMARY KEY,
    model             VARCHAR(64)   NOT NULL,
    introduced_in     INTEGER       NOT NULL,
    job_id            VARCHAR(36)   NOT NULL,
    method            VARCHAR(16)   NOT NULL,
    position          INTEGER       NOT NULL,
    request           TEXT          NOT NULL,
    efficacy          DOUBLE PRECISION,
    measured_model    VARCHAR(64),
    measured_number   INTEGER,
    measured_at       TIMESTAMP WITH TIME ZONE,
    created_at        TIMESTAMP WITH TIME ZONE NOT NULL
);

CREATE INDEX edit_model ON edit (model);

-- Where each edit is live. origin 'edit': the version's edit delta carries it (an edit or rollback job made the
-- version); 'retained': a descendant (merge, fine-tune, quantization) on which a retention check found it holding.
CREATE TABLE edit_presence (
    edit_id         VARCHAR(36)   NOT NULL REFERENCES edit (id),
    model           VARCHAR(64)   NOT NULL,
    version_number  INTEGER       NOT NULL,
    origin          VARCHAR(16)   NOT NULL,
    efficacy        DOUBLE PRECISION,
    measured_at     TIMESTAMP WITH TIME ZONE NOT NULL,
    PRIMARY KEY (edit_id, model, version_number)
);

CREATE INDEX edit_presence_version ON edit_presence (model, version_number);

-- Key statistics by what they depend on (the base's weight digests, the corpus, the token count): the file is a blob
-- under its sha256 in the local cache and, once an edit version lists it, in the registry's store.
CREATE TABLE key_statistics (
    digest          VARCHAR(64)   PRIMARY KEY,
    sha256          VARCHAR(64)   NOT NULL,
    size            BIGINT        NOT NULL,
    base            VARCHAR(140)  NOT NULL,
    tokens          BIGINT        NOT NULL,
    corpus_sha256   VARCHAR(64)   NOT NULL,
    created_at      TIMESTAMP WITH TIME ZONE NOT NULL
);

-- Version events already handled, so a redelivered event is not checked twice.
CREATE TABLE handled_event (
    id              VARCHAR(64)   PRIMARY KEY,
    handled_at      TIMESTAMP WITH TIME ZONE NOT NULL
);
