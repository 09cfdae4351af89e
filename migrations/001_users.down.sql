-- 001_users.down.sql: undoes 001_users.sql.
DROP TABLE users;
DROP TYPE role;
