CREATE TYPE note_priority AS ENUM ('LOW', 'HIGH');
CREATE TABLE notes (
    id       bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    title    text NOT NULL CONSTRAINT notes_title_key UNIQUE,
    body     text NOT NULL DEFAULT '',
    priority note_priority NOT NULL DEFAULT 'LOW',
    tags     text[] NOT NULL DEFAULT '{}'
);
