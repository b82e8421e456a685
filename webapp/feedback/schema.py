"""The store's schema, one numbered step per version, for SQLite and PostgreSQL alike.

The steps are written in SQLite's dialect (the first four shipped before PostgreSQL was supported);
`for_postgresql` turns each statement into PostgreSQL's by the few words the two spell differently, so
both databases get the same tables, columns, keys and checks from one list. A SQLite file counts the
steps it has had in `PRAGMA user_version`; a PostgreSQL database in the `schema_migrations` table, one
row per step with when and by which process it was applied (webapp/feedback/sqlite_database.py and
postgres_database.py). Add a step at the end to change the schema; never edit a step that has shipped.
"""

from __future__ import annotations

MIGRATIONS: tuple[tuple[str, ...], ...] = (
    # 1: the drawings and what the model said about them
    ("""CREATE TABLE drawings (
            id INTEGER PRIMARY KEY AUTOINCREMENT,
            created TEXT NOT NULL,
            image BLOB NOT NULL,
            input BLOB NOT NULL CHECK (length(input) = 784),
            label INTEGER NOT NULL CHECK (label BETWEEN 0 AND 9),
            model TEXT,
            prediction INTEGER CHECK (prediction BETWEEN 0 AND 9),
            probabilities TEXT)""",),
    # 2: which file of the model answered and in which mode; an index for the label filter
    ("ALTER TABLE drawings ADD COLUMN model_version TEXT",
     "ALTER TABLE drawings ADD COLUMN mode TEXT NOT NULL DEFAULT 'digit'",
     "CREATE INDEX drawings_by_label ON drawings (label, id)"),
    # 3: each model version's answer to each drawing, and how often each label got each answer
    ("""CREATE TABLE answers (
            model TEXT NOT NULL,
            version TEXT NOT NULL,
            drawing_id INTEGER NOT NULL,
            digit INTEGER NOT NULL CHECK (digit BETWEEN 0 AND 9),
            PRIMARY KEY (model, version, drawing_id)) WITHOUT ROWID""",
     "CREATE INDEX answers_by_drawing ON answers (drawing_id)",
     """CREATE TABLE confusion (
            model TEXT NOT NULL,
            version TEXT NOT NULL,
            label INTEGER NOT NULL,
            digit INTEGER NOT NULL,
            count INTEGER NOT NULL CHECK (count >= 0),
            PRIMARY KEY (model, version, label, digit)) WITHOUT ROWID"""),
    # 4: what the teacher decided for everyone (e.g. whether drawings are collected at all)
    ("""CREATE TABLE classroom (
            name TEXT PRIMARY KEY,
            value TEXT NOT NULL) WITHOUT ROWID""",),
    # 5: every published version of every model with its files, and which one each model serves
    #    (webapp/feedback/model_versions.py)
    ("""CREATE TABLE model_versions (
            id INTEGER PRIMARY KEY AUTOINCREMENT,
            model TEXT NOT NULL,
            number INTEGER NOT NULL,
            created TEXT NOT NULL,
            parent_id INTEGER REFERENCES model_versions (id),
            sha256 TEXT NOT NULL,
            trained_on TEXT NOT NULL,
            report TEXT NOT NULL,
            UNIQUE (model, sha256),
            UNIQUE (model, number))""",
     """CREATE TABLE model_files (
            version_id INTEGER NOT NULL REFERENCES model_versions (id),
            suffix TEXT NOT NULL,
            sha256 TEXT NOT NULL,
            content BLOB NOT NULL,
            PRIMARY KEY (version_id, suffix)) WITHOUT ROWID""",
     """CREATE TABLE current_versions (
            model TEXT PRIMARY KEY,
            version_id INTEGER NOT NULL REFERENCES model_versions (id),
            changed TEXT NOT NULL) WITHOUT ROWID""",
     # fine-tuning runs started from the teacher's page, their progress and result (training/finetune.py)
     """CREATE TABLE finetune_jobs (
            id INTEGER PRIMARY KEY AUTOINCREMENT,
            model TEXT NOT NULL,
            state TEXT NOT NULL CHECK (state IN ('running', 'published', 'refused', 'failed')),
            started TEXT NOT NULL,
            updated REAL NOT NULL,
            host TEXT,
            pid INTEGER,
            progress TEXT NOT NULL DEFAULT '',
            result TEXT)"""),
    # 6: how many drawings there are and what they take (each kept image plus 1 KiB for its input, row and
    #    answers), kept up to date by every write: PostgreSQL's files never shrink after a delete, so its quota
    #    counts these; and no write counts every row
    ("""CREATE TABLE drawings_usage (
            name TEXT PRIMARY KEY,
            value BIGINT NOT NULL) WITHOUT ROWID""",
     "INSERT INTO drawings_usage (name, value) SELECT 'rows', count(*) FROM drawings",
     "INSERT INTO drawings_usage (name, value) SELECT 'bytes', coalesce(sum(length(image) + 1024), 0) FROM drawings"),
    # 7: who drew each drawing, as a keyed hash of the student's address (never the address itself), so that
    #    fine-tuning holds out every student's drawings, not one student's (webapp/feedback/held_out.py)
    ("ALTER TABLE drawings ADD COLUMN writer TEXT",),
)
SCHEMA_VERSION = len(MIGRATIONS)

# SQLite's words -> PostgreSQL's. Ids never come back after a delete in either (AUTOINCREMENT, identity
# sequences); REAL is 4 bytes in PostgreSQL, too coarse for the Unix times kept in it.
POSTGRESQL_WORDS = (
    ("INTEGER PRIMARY KEY AUTOINCREMENT", "BIGINT GENERATED BY DEFAULT AS IDENTITY PRIMARY KEY"),
    (" BLOB ", " BYTEA "),
    (" REAL ", " DOUBLE PRECISION "),
    (") WITHOUT ROWID", ")"),
)


def for_postgresql(statement: str) -> str:
    for sqlite_words, postgresql_words in POSTGRESQL_WORDS:
        statement = statement.replace(sqlite_words, postgresql_words)
    return statement
