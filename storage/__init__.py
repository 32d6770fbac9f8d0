"""Storage: the database schema, migrations, sessions and queries. Nothing else touches SQL."""
