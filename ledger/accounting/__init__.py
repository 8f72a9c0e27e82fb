"""Accounting and reporting: corresponding adjustments, the BTR structured summary, the agreed
electronic format (AEF) tables, reports computed from the ledger, and consistency checks."""
