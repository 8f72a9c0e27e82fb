"""Storage adapters: the only part of ``ledger`` that imports SQLAlchemy."""
