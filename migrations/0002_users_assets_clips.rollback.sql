DROP TABLE clips;
DROP TABLE assets;
DROP TABLE users;
