-- 002_movies.down.sql: undoes 002_movies.sql.
DROP TABLE movies;
