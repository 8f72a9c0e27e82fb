"""Accounting and reporting: corresponding adjustments, the BTR structured summary, the agreed
electronic format (AEF) tables, reports computed from the ledger, and consistency checks.

- :mod:`~ledger.accounting.adjustments`: corresponding adjustments and emissions balances
  (decision 2/CMA.3, annex, ch. III), pure functions over ledger facts;
- :mod:`~ledger.accounting.btr`: the Article 6 rows of the BTR structured summary and the
  para 23(j) breakdowns;
- :mod:`~ledger.accounting.aef`: the AEF tables (4/CMA.6 annex II), their validation and their
  JSON and CSV renderings;
- :mod:`~ledger.accounting.reporting`: the use cases that read the log into the above and record
  the accounting's own inputs (emissions, NDC targets, AEF submissions);
- :mod:`~ledger.accounting.consistency`: the secretariat's consistency checks of AEF reports.

The package imports no file-format or storage library: AEF files are written and read by
``ledger.adapters.aef_files`` and ``ledger.adapters.aef_xlsx``.
"""
