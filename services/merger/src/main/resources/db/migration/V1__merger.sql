-- One row per merge job. The recipe is kept as the user sent it (text and format), so a queued job can be re-run
-- after a restart exactly as asked; inputs pins each reference of the recipe to the version it resolved to.
CREATE TABLE merge_job (
    id              VARCHAR(36)   PRIMARY KEY,
    state           VARCHAR(16)   NOT NULL,
    model           VARCHAR(64)   NOT NULL,
    alias           VARCHAR(64),
    recipe_text     TEXT          NOT NULL,
    recipe_format   VARCHAR(8)    NOT NULL,
    inputs          TEXT          NOT NULL,
    progress        DOUBLE PRECISION NOT NULL DEFAULT 0,
    message         TEXT,
    version_number  INTEGER,
    created_at      TIMESTAMP WITH TIME ZONE NOT NULL,
    updated_at      TIMESTAMP WITH TIME ZONE NOT NULL
);

CREATE INDEX merge_job_state ON merge_job (state);
