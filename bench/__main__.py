"""Run the benchmarks and write ``docs/benchmarks.md``: ``python -m bench`` (``make bench``).

Every measure is a ratio against a baseline measured in the same run, on the same machine and
database, so a loaded machine moves both sides. Each module of ``MODULES`` is one section of the
document; see ``bench.runner`` for the interface a module implements.

Options: ``--only NAME`` (repeatable) runs some modules; ``--set module.param=value`` changes a
module's parameter (each module documents its own, e.g. ``--set actions.history=1000,100000``);
``--smoke`` runs every module at tiny sizes (the test suite does this); ``--output PATH``
(default ``docs/benchmarks.md``; ``-`` prints it); ``--postgresql URL`` is the maintenance
database of a PostgreSQL server on which each module creates and drops its own databases
(default ``$A6LEDGER_BENCH_POSTGRES_URL``, else the test server; sections say when it is not
reachable).
"""

from bench.runner import main

if __name__ == "__main__":
    main()
