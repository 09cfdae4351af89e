-- NNN_reviews.down.sql: undoes NNN_reviews.sql.
DROP TABLE reviews;
