"""The registry: Article 6.2 records (model), the rules that guard them, the use cases that turn
requests into ledger entries (services), and the holdings projection derived from the entries."""
