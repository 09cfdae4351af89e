-- 001_users.sql: accounts. Ids are random uuids (gen_random_uuid is built into PostgreSQL 13+, so
-- no extension and no superuser are needed); emails are unique regardless of case.
CREATE TYPE role AS ENUM ('disabled', 'readonly', 'editor', 'admin', 'superuser');

CREATE TABLE users (
    id          uuid PRIMARY KEY DEFAULT gen_random_uuid(),
    created     timestamptz NOT NULL DEFAULT now(),
    modified    timestamptz NOT NULL DEFAULT now(),
    email       text NOT NULL,
    password    text NOT NULL,
    first_name  text,
    last_name   text,
    role        role NOT NULL DEFAULT 'readonly',
    tags        text[] NOT NULL DEFAULT '{}'
);

-- Serves both the uniqueness rule and the login lookup WHERE lower(email) = lower($1).
CREATE UNIQUE INDEX users_email_lower_key ON users (lower(email));
