-- ecsd schema, version 5: IAM tokens issued to password users.

-- A token is stored by the SHA-256 of its value only; the value itself is
-- known to the client alone.
CREATE TABLE tokens (
    hash          TEXT PRIMARY KEY,
    project_id    TEXT NOT NULL,
    user_name     TEXT NOT NULL,
    domain_scoped INTEGER NOT NULL,
    issued_at     INTEGER NOT NULL,
    expires_at    INTEGER NOT NULL
);
