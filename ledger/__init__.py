"""a6ledger domain core: plain typed Python, no web framework, no ORM outside ``adapters``."""
