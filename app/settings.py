"""Service configuration from ``A6LEDGER_*`` environment variables (or a ``.env`` file).

The service's files (the SQLite database, the signer key, the checkpoint state) live in one data
directory, ``A6LEDGER_DATA_DIR``: a relative path in another setting resolves from it, never
from the working directory, so every command run from any folder opens the same files. Its
default is ``var/`` of the source checkout (an editable install, ``make install``), otherwise
``var/`` of the working directory; the container image sets ``/var/lib/a6ledger``.

In production, :func:`production_refusals` names what the service must not start with.
"""

from __future__ import annotations

import sys
from enum import StrEnum
from functools import lru_cache
from ipaddress import IPv4Network, IPv6Network, ip_network
from pathlib import Path
from typing import Annotated

from pydantic import BaseModel, ConfigDict, Field, ValidationError, field_validator, model_validator
from pydantic_settings import BaseSettings, NoDecode, SettingsConfigDict
from sqlalchemy.engine import make_url

from ledger.accounting.adjustments import (
    AdjustmentPolicy,
    AveragingBasis,
    FirstTransferYear,
    NonGhgSign,
)
from ledger.adapters.sql.db import PoolLimits, normalize_database_url
from ledger.errors import LedgerError
from ledger.imports import BATCH_SIZE
from ledger.log.witness import parse_witness_keys
from ledger.log.witnessing import parse_log_keys
from ledger.registry.dating import END_OF_PERIOD_BTR_AFTER

DEVELOPMENT_LOG_ORIGIN = "a6ledger.localhost/dev"
"""The log origin of a development service: never the name of a production log."""
DATABASE_FILE = "a6ledger.db"
"""The SQLite database in the data directory when no ``A6LEDGER_DATABASE_URL`` is given."""


def _default_data_dir() -> Path:
    """``var/`` of the source checkout (where ``make run`` keeps its files), otherwise of the
    working directory."""
    source_tree = Path(__file__).resolve().parents[1]
    root = source_tree if (source_tree / "pyproject.toml").exists() else Path.cwd()
    return root / "var"


class Environment(StrEnum):
    development = "development"
    test = "test"
    production = "production"


class LogAccess(StrEnum):
    """Who may read a part of the log: anyone, or a bearer token of a reading role."""

    public = "public"
    token = "token"


class PartnerWitnessSetting(BaseModel):
    """A partner's witness that ``a6ledger witness push`` asks to cosign this log's checkpoints:
    its submission prefix (``<url>/add-checkpoint``) and its cosigner key (type 0x04). The
    service asks it what it cosigned before signing (``ledger.log.witnessed_trees``); with
    ``required`` the log signs nothing while this witness does not answer."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    url: str = Field(pattern=r"^https?://\S+$")
    vkey: str
    required: bool = False


class CounterpartSetting(BaseModel):
    """Another Party's a6ledger instance that reconciliation reads: the Party, the instance's
    root URL, its log's verifier key, and a bearer token for its entries (if they need one)."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    party: str = Field(pattern=r"^[A-Z]{3}$")
    url: str = Field(pattern=r"^https?://\S+$")
    vkey: str
    token: str | None = None


class Settings(BaseSettings):
    model_config = SettingsConfigDict(
        env_prefix="A6LEDGER_", env_file=".env", env_ignore_empty=True, extra="ignore"
    )

    environment: Environment = Environment.development
    #: The folder of the service's files; relative paths below resolve from it (module doc).
    data_dir: Path = Field(default_factory=_default_data_dir)
    #: Default: the SQLite file ``a6ledger.db`` in the data directory. A relative SQLite path
    #: resolves from the data directory (production refuses one: name the file in full).
    database_url: str = ""
    #: Origin line of every checkpoint, and the signer key name (C2SP tlog-checkpoint).
    log_origin: str = DEVELOPMENT_LOG_ORIGIN
    signer_key_path: Path = Path("log-signer.key")
    #: The largest tree the log has signed, kept outside the database (see ledger.log.checkpoints).
    checkpoint_state_path: Path = Path("last-signed-checkpoint")
    #: In development the service creates a missing signer key and applies migrations at start;
    #: elsewhere it refuses to start on a database that is not at the latest migration.
    auto_setup: bool | None = None
    max_page_size: int = Field(default=1000, ge=1, le=100_000)
    default_page_size: int = Field(default=100, ge=1, le=100_000)
    max_body_bytes: int = Field(default=1_048_576, ge=1024)
    #: C2SP cosigner verifier keys (signature type 0x04) of partner registries' witnesses, as a
    #: JSON list: only their cosignatures of our checkpoints are accepted (ledger/log/witness.py).
    witness_keys: list[str] = Field(default_factory=list)
    #: Partner witnesses that ``a6ledger witness push`` sends this log's checkpoints to, as a
    #: JSON list of ``{"url": ..., "vkey": ...}``; their keys count as witness keys too.
    witness_partners: list[PartnerWitnessSetting] = Field(default_factory=list)
    #: Before it signs, the service asks each partner witness what it cosigned of this log, and
    #: again once the answers are ``witness_check_interval`` seconds old; each request may take
    #: ``witness_check_timeout`` seconds (docs/architecture.md, "Signed checkpoints across
    #: replicas").
    witness_check_interval: float = Field(default=60.0, gt=0, le=86_400)
    witness_check_timeout: float = Field(default=3.0, gt=0, le=60)
    #: Verifier keys (Ed25519, type 0x01; the key name is the origin) of the partner logs this
    #: instance witnesses at ``POST /v1/witness/add-checkpoint``, as a JSON list.
    witnessed_logs: list[str] = Field(default_factory=list)
    #: This instance's witness (cosigner) key, and its name (default: ``<log_origin>/witness``).
    witness_signer_key_path: Path = Path("./var/witness-signer.key")
    witness_name: str | None = None
    #: Counterpart Parties' instances that ``POST /v1/reconciliations`` may read, as a JSON list
    #: of ``{"party", "url", "vkey", "token"}`` (the service fetches no URL a caller names).
    counterparts: list[CounterpartSetting] = Field(default_factory=list)
    #: Who may read the log's proofs and hash tiles (``/v1/log/proofs/...``, ``/tile/<L>/...``),
    #: and who its entries (``/v1/log/entries``, ``/tile/entries/...``). The signed checkpoint
    #: and the log's key are always public. README, "For auditors".
    log_read_access: LogAccess = LogAccess.public
    log_entries_access: LogAccess = LogAccess.token
    #: Who may scrape ``/metrics`` (Prometheus text format): anyone, or (the default) a bearer
    #: token of a reading role, e.g. ``a6ledger tokens create --role auditor --name prometheus``.
    metrics_access: LogAccess = LogAccess.token
    #: The database connection pool: connections kept open, more opened under load, and the
    #: seconds a unit of work waits for one (never reached while ``db_max_requests`` is at most
    #: ``db_pool_size + db_max_overflow``: each request holds at most one connection at a time).
    db_pool_size: int = Field(default=10, ge=1, le=1000)
    db_max_overflow: int = Field(default=5, ge=0, le=1000)
    db_pool_timeout: float = Field(default=10.0, gt=0, le=600)
    #: Requests that use the database at once (default: ``db_pool_size``); the others queue
    #: for at most ``db_queue_timeout`` seconds, then get a 503 problem with Retry-After.
    db_max_requests: int | None = Field(default=None, ge=1)
    db_queue_timeout: float = Field(default=3.0, gt=0, le=600)
    #: Failed authentication attempts (bad or revoked bearer tokens) allowed per client
    #: address, refilled over ``auth_failure_window`` seconds; then 429 with Retry-After.
    auth_failure_limit: int = Field(default=20, ge=1)
    auth_failure_window: float = Field(default=60.0, gt=0)
    #: Reverse proxies (addresses or CIDR networks, comma-separated) whose ``X-Forwarded-For``
    #: names the client: the failed-authentication limit then counts the client's address, not
    #: the proxy's. Empty (the default): the connection's peer is the client, and the header is
    #: ignored, so no caller can pick the address its failures are counted against.
    trusted_proxies: Annotated[list[str], NoDecode] = Field(default_factory=list)
    #: Years from the last year of an NDC period to the BTR that reports it: OIMP first
    #: transfers close on 31 December of the year before (ledger.registry.dating).
    end_of_period_btr_after: int = Field(default=END_OF_PERIOD_BTR_AFTER, ge=1, le=10)
    #: Rows of a historical import per batch: each batch is one transaction (ledger.imports).
    import_batch_size: int = Field(default=BATCH_SIZE, ge=1, le=100_000)
    #: The accounting choices decision 2/CMA.3 leaves open (ledger.accounting.adjustments
    #: .AdjustmentPolicy), this deployment's defaults. A Party's own recorded choice of the
    #: first two (POST /v1/parties/{code}/adjustment-policy) wins over them in its reports.
    averaging_basis: AveragingBasis = AveragingBasis.NET
    elapsed_years_inclusive: bool = True
    oimp_first_transfers_in_net: bool = True
    #: For a non-GHG NDC: do first transfers lower the indicator and uses raise it (the
    #: default, article6.md's reading of 2/CMA.3 annex para 9), or the reverse (the GHG sign)?
    non_ghg_sign: NonGhgSign = NonGhgSign.FIRST_TRANSFERS_SUBTRACT
    #: The year 23(c) books a first transfer to: its vintage (default, like the CA of para
    #: 8(a)) or the year of the first transfer (the sources disagree; docs/reporting-cycle.md).
    first_transfer_year: FirstTransferYear = FirstTransferYear.VINTAGE
    #: Slow and numerous clients (app/server.py, app/middleware.py): seconds to send a complete
    #: header block (from the connection's start or the previous response), seconds to send a
    #: whole request body, seconds an idle keep-alive connection stays open, the largest header
    #: block, the most open connections (beyond: a 503 problem), and the most request bodies
    #: read at once (beyond: a short wait, then a 503 problem).
    header_timeout: float = Field(default=10.0, gt=0, le=600)
    body_timeout: float = Field(default=30.0, gt=0, le=3600)
    keep_alive_timeout: int = Field(default=5, ge=1, le=600)
    max_header_bytes: int = Field(default=16_384, ge=1024, le=1_048_576)
    max_connections: int = Field(default=256, ge=1)
    max_bodies_in_flight: int = Field(default=16, ge=1)

    @field_validator("database_url")
    @classmethod
    def _normalize_url(cls, value: str) -> str:
        return normalize_database_url(value)

    @field_validator("log_origin")
    @classmethod
    def _origin_is_a_note_name(cls, value: str) -> str:
        if not value or any(c.isspace() for c in value) or "+" in value:
            raise ValueError("log_origin must be non-empty, without spaces or '+'")
        return value

    @field_validator("trusted_proxies", mode="before")
    @classmethod
    def _split_proxy_list(cls, value: object) -> object:
        if isinstance(value, str):
            return [part for part in value.replace(",", " ").split() if part]
        return value

    @field_validator("trusted_proxies")
    @classmethod
    def _proxies_are_networks(cls, value: list[str]) -> list[str]:
        for item in value:
            try:
                ip_network(item, strict=False)
            except ValueError as exc:
                raise ValueError(f"trusted_proxies: {item!r} is not an address or network") from exc
        return value

    @field_validator("witness_keys")
    @classmethod
    def _witness_keys_are_cosigner_keys(cls, value: list[str]) -> list[str]:
        try:
            parse_witness_keys(value)
        except LedgerError as exc:
            raise ValueError(exc.message) from exc
        return value

    @field_validator("witnessed_logs")
    @classmethod
    def _witnessed_logs_are_log_keys(cls, value: list[str]) -> list[str]:
        try:
            parse_log_keys(value)
        except LedgerError as exc:
            raise ValueError(exc.message) from exc
        return value

    @model_validator(mode="after")
    def _paths_from_the_data_directory(self) -> Settings:
        self.data_dir = self.data_dir.expanduser()
        if self.environment is not Environment.production:
            self.data_dir = self.data_dir.absolute()
        if not self.database_url:
            self.database_url = f"sqlite:///{self.data_dir / DATABASE_FILE}"
        elif self.environment is not Environment.production:
            self.database_url = resolve_sqlite_path(self.database_url, self.data_dir)
        self.signer_key_path = self.data_dir / self.signer_key_path.expanduser()
        self.checkpoint_state_path = self.data_dir / self.checkpoint_state_path.expanduser()
        return self

    @model_validator(mode="after")
    def _defaults_by_environment(self) -> Settings:
        if self.auto_setup is None:
            self.auto_setup = self.environment is Environment.development
        if self.default_page_size > self.max_page_size:
            raise ValueError("default_page_size must not exceed max_page_size")
        if self.db_max_requests is None:
            self.db_max_requests = self.db_pool_size
        try:
            parse_witness_keys(self.cosigner_keys)
        except LedgerError as exc:
            raise ValueError(f"witness_partners: {exc.message}") from exc
        try:
            parse_log_keys([c.vkey for c in self.counterparts])
        except LedgerError as exc:
            raise ValueError(f"counterparts: {exc.message}") from exc
        if self.witness_name is None:
            self.witness_name = f"{self.log_origin}/witness"
        if self.db_max_requests > self.pool_limits.capacity:
            raise ValueError(
                "db_max_requests must not exceed db_pool_size + db_max_overflow: a request "
                "beyond the pool would wait for a connection instead of a 503"
            )
        return self

    @property
    def cosigner_keys(self) -> list[str]:
        """The witness keys whose cosignatures of this log are accepted: ``witness_keys`` and
        the partner witnesses' keys."""
        keys = list(self.witness_keys)
        keys += [p.vkey for p in self.witness_partners if p.vkey not in keys]
        return keys

    @property
    def witness_key_name(self) -> str:
        return self.witness_name or f"{self.log_origin}/witness"

    @property
    def pool_limits(self) -> PoolLimits:
        return PoolLimits(self.db_pool_size, self.db_max_overflow, self.db_pool_timeout)

    @property
    def trusted_proxy_networks(self) -> tuple[IPv4Network | IPv6Network, ...]:
        return tuple(ip_network(item, strict=False) for item in self.trusted_proxies)

    @property
    def database_slots(self) -> int:
        """Requests that may use the database at once."""
        return self.db_max_requests or self.db_pool_size

    @property
    def sets_itself_up(self) -> bool:
        return bool(self.auto_setup)

    @property
    def adjustment_policy(self) -> AdjustmentPolicy:
        """The deployment's accounting policy: the default of every Party's reports."""
        return AdjustmentPolicy(
            averaging_basis=self.averaging_basis,
            elapsed_years_inclusive=self.elapsed_years_inclusive,
            oimp_first_transfers_in_net=self.oimp_first_transfers_in_net,
            non_ghg_sign=self.non_ghg_sign,
            first_transfer_year=self.first_transfer_year,
        )


def _relative_sqlite_path(database_url: str) -> str | None:
    url = make_url(database_url)
    path = url.database
    if url.get_backend_name() != "sqlite" or path in (None, "", ":memory:"):
        return None
    return None if Path(str(path)).is_absolute() else str(path)


def resolve_sqlite_path(database_url: str, data_dir: Path) -> str:
    """``database_url`` with a relative SQLite file path resolved from ``data_dir``."""
    relative = _relative_sqlite_path(database_url)
    if relative is None:
        return database_url
    url = make_url(database_url).set(database=str(data_dir / relative))
    return url.render_as_string(hide_password=False)


def production_refusals(settings: Settings) -> list[str]:
    """What a production service must not start with, one line each (empty: nothing).

    The signer key and the database are checked where they are opened (``a6ledger serve``)."""
    if settings.environment is not Environment.production:
        return []
    refusals = []
    if settings.log_origin == DEVELOPMENT_LOG_ORIGIN:
        refusals.append(
            f"the log origin is the development one ({DEVELOPMENT_LOG_ORIGIN}): set "
            "A6LEDGER_LOG_ORIGIN to this registry's log name, e.g. registry.example.org/itmo-log"
        )
    if not settings.data_dir.is_absolute():
        refusals.append(
            f"the data directory {settings.data_dir} is a relative path: set A6LEDGER_DATA_DIR "
            "to an absolute one"
        )
    relative = _relative_sqlite_path(settings.database_url)
    if relative is not None:
        refusals.append(
            f"the SQLite database path {relative} is relative: name the file in full in "
            "A6LEDGER_DATABASE_URL (sqlite:////absolute/path.db), or use PostgreSQL"
        )
    return refusals


def describe_settings_error(error: ValidationError) -> str:
    """One line for settings that do not validate: the variables and what is wrong."""
    parts = []
    for problem in error.errors():
        name = "_".join(str(part) for part in problem["loc"]).upper()
        parts.append(f"A6LEDGER_{name}: {problem['msg']}" if name else problem["msg"])
    return "invalid configuration: " + "; ".join(parts)


def database_in_use(database_url: str) -> str:
    """``database_url`` without its password, for logs and messages."""
    return make_url(database_url).render_as_string(hide_password=True)


def command_database_url() -> str:
    """The configured database URL, after one line on stderr naming it: every administration
    command says which database it opened (run from any folder, an operator sees which one)."""
    url = get_settings().database_url
    sys.stderr.write(f"a6ledger: database {database_in_use(url)}\n")
    return url


@lru_cache
def get_settings() -> Settings:
    return Settings()
