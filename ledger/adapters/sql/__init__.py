"""SQLAlchemy adapters: engines, tables, the SQL log, projection and unit of work, migrations."""
