-- AlphaEdit's null-space projectors of one base's key statistics, keyed by a digest of the statistics' sha256, the
-- energy share and the layers; the file is content-addressed (sha256) like the statistics and listed by the edit
-- versions that used it.
CREATE TABLE null_space (
    digest              VARCHAR(64)   PRIMARY KEY,
    sha256              VARCHAR(64)   NOT NULL,
    size                BIGINT        NOT NULL,
    statistics_sha256   VARCHAR(64)   NOT NULL,
    energy              DOUBLE PRECISION NOT NULL,
    layers              VARCHAR(400)  NOT NULL,
    created_at          TIMESTAMP WITH TIME ZONE NOT NULL
);
