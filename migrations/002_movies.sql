-- 002_movies.sql: movies, each optionally linked to the user who created it.
CREATE TABLE movies (
    id          serial PRIMARY KEY,
    created     timestamptz NOT NULL DEFAULT now(),
    modified    timestamptz NOT NULL DEFAULT now(),
    creator     uuid REFERENCES users (id) ON DELETE SET NULL,
    title       text NOT NULL,
    director    text
);

-- The creator filter (WHERE creator = $1 ORDER BY id) and the ON DELETE SET NULL lookup when a
-- user is deleted. Substring search (ILIKE '%x%') scans; a pg_trgm index would need an extension.
CREATE INDEX movies_creator_id_idx ON movies (creator, id);
