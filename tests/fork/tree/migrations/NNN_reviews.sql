-- NNN_reviews.sql: reviews of movies, each written by a user (README "Extending").
CREATE TABLE reviews (
    id          serial PRIMARY KEY,
    created     timestamptz NOT NULL DEFAULT now(),
    movie_id    integer NOT NULL REFERENCES movies (id) ON DELETE CASCADE,
    author      uuid NOT NULL REFERENCES users (id) ON DELETE CASCADE,
    text        text NOT NULL
);

-- A movie's reviews in id order; the daily count reads created.
CREATE INDEX reviews_movie_id_idx ON reviews (movie_id, id);
CREATE INDEX reviews_created_idx ON reviews (created);
