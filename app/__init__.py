"""a6ledger HTTP layer (FastAPI) and command line."""
