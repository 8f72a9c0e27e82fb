"""a6ledger HTTP layer (FastAPI) and command line."""

from importlib.metadata import version

# The one place the version is written is pyproject.toml; the API's OpenAPI `info`, the
# `a6ledger --version` line and the package metadata all read it from the installed package.
__version__ = version("a6ledger")
