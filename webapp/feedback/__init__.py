"""The drawings people labelled: the SQLite store, its connection pool, and each model's scores on them."""
