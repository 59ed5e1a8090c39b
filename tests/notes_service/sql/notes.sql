-- The notes service's statements.

-- name: create_note
INSERT INTO notes (title, body, priority, tags)
VALUES ($1, $2, $3, COALESCE($4::text[], '{}'))
RETURNING id, title, body, priority, tags;

-- name: get_note
SELECT id, title, body, priority, tags FROM notes WHERE id = $1;

-- name: list_notes
SELECT id, title, body, priority, tags FROM notes
WHERE $1::note_priority IS NULL OR priority = $1
ORDER BY id
OFFSET $2 LIMIT $3;

-- name: count_notes
SELECT count(*) FROM notes;

-- name: delete_notes
DELETE FROM notes WHERE priority = $1;
