"""Configuration, read once: the only place that looks at the environment.

Everything the service needs comes in through `Settings`; the composition root turns it
into an explicit environment for the eventsourcing application, so no other module reads
`os.environ`. Settings are values: they read what they are pointed at and create nothing.
Demo mode points them at throwaway secrets under `var/demo`, which the composition root
makes on first use; outside demo mode a missing secret is an error, never a silent default.
"""

from __future__ import annotations

import base64
import binascii
from importlib import resources
from pathlib import Path
from typing import Literal
from urllib.parse import parse_qs, unquote, urlparse

from pydantic import Field, SecretStr, model_validator
from pydantic_settings import BaseSettings, SettingsConfigDict

from sharing.errors import SharingError
from sharing.keys import MasterKey

RECORDERS = "casestore.adapters.persistence"  # where the recorder topics point


class SettingsError(ValueError):
    """The configuration cannot work; the message names the setting."""


class Settings(BaseSettings):
    model_config = SettingsConfigDict(env_prefix="CASESTORE_", extra="ignore")

    demo: bool = False
    var_dir: Path = Path("var")
    database_url: str | None = Field(
        default=None,
        description="postgresql://user:pw@host:port/db[?schema=name], or sqlite:///path; "
        "default: an SQLite file in var_dir",
    )
    database_url_file: Path | None = Field(
        default=None,
        description="a file holding the database URL (it carries the password): read "
        "when CASESTORE_DATABASE_URL is not set",
    )
    region: str = "amsterdam-amstelland"
    policy_file: Path | None = None
    custodian: str = "zvh-amsterdam-amstelland"
    pseudonym_secret: SecretStr | None = Field(
        default=None, description="base64, at least 32 bytes; the region's BSN hashing key"
    )
    pseudonym_secret_file: Path | None = None
    master_key: SecretStr | None = Field(
        default=None, description="base64 32-byte service master key (wraps case keys)"
    )
    master_key_file: Path | None = None
    case_key_epochs_dir: Path | None = Field(
        default=None,
        description="one key file per case-key epoch (`casestore keys epoch-rotate`); "
        "demo: var/demo/epochs; unset: case keys are wrapped under the master key",
    )
    backup_retention_days: int = Field(
        default=35,
        ge=1,
        description="how long backups are kept: a retired case-key epoch is destroyed "
        "only after this (`casestore keys epoch-destroy`)",
    )
    keys_dir: Path | None = Field(
        default=None, description="public/ and private/ key files; demo: var/demo/keys"
    )
    hosted: list[str] = Field(
        default_factory=list,
        description="organisations whose private keys the service holds (default: custodian)",
    )
    require_signatures: bool = Field(
        default=True,
        description="refuse events from non-hosted partners that carry no Ed25519 signature",
    )
    migrate: bool | None = Field(
        default=None,
        description="apply pending schema migrations as the process starts (default: only "
        "in demo mode; otherwise run `casestore db migrate` before starting processes)",
    )
    snapshot_interval: int = Field(default=100, ge=2)
    host: str = "127.0.0.1"
    port: int = Field(default=8000, ge=1, le=65535)
    log_format: Literal["console", "json"] = "console"
    access_log: bool = Field(
        default=True,
        description="uvicorn's line per request; off saves about a tenth of the API's CPU "
        "per request (where a proxy in front logs requests anyway)",
    )
    webhook_private_destinations: bool | None = Field(
        default=None,
        description="let webhooks go to loopback, private and other non-public addresses "
        "(default: only in demo mode; see casestore.services.webhooks.destinations)",
    )
    metrics_port: int | None = Field(
        default=None,
        ge=1,
        le=65535,
        description="the probe port: /metrics, /healthz and /readyz on a server of their own "
        "(API and worker alike); off when unset",
    )
    database_wait: int = Field(
        default=1,
        ge=1,
        le=60,
        description="seconds a request waits for a PostgreSQL connection before it is "
        "answered 503 (the server is down, or every connection is busy)",
    )
    housekeeping_interval: float = Field(
        default=60.0,
        gt=0,
        description="seconds between passes of the worker's scheduled housekeeping (acting "
        "on policy rules whose validity began or ended)",
    )
    max_request_bytes: int = Field(default=512 * 1024, ge=1024)
    rate_limit: float = Field(default=50.0, gt=0, description="requests per second per client")
    rate_burst: int = Field(default=200, ge=1)

    @model_validator(mode="after")
    def _secrets_only_generated_in_demo(self) -> Settings:
        if self.demo:
            return self
        required = {
            "CASESTORE_PSEUDONYM_SECRET": (self.pseudonym_secret, self.pseudonym_secret_file),
            "CASESTORE_MASTER_KEY": (self.master_key, self.master_key_file),
        }
        for name, (value, path) in required.items():
            if value is None and path is None:
                raise SettingsError(
                    f"{name} or {name}_FILE is required outside demo mode "
                    "(CASESTORE_DEMO=1 generates throwaway secrets under var/demo)"
                )
        if self.keys_dir is None:
            raise SettingsError("CASESTORE_KEYS_DIR is required outside demo mode")
        return self

    # ---- derived values -----------------------------------------------------------

    @property
    def demo_dir(self) -> Path:
        return self.var_dir / "demo"

    def pseudonym_key(self) -> bytes:
        if self.pseudonym_secret is not None:
            return _decode_secret("CASESTORE_PSEUDONYM_SECRET", self.pseudonym_secret)
        raw = self._read("CASESTORE_PSEUDONYM_SECRET_FILE", self.pseudonym_secret_file)
        return _decode_secret("CASESTORE_PSEUDONYM_SECRET_FILE", SecretStr(raw))

    def master(self) -> MasterKey:
        try:
            if self.master_key is not None:
                return MasterKey.from_base64(self.master_key.get_secret_value())
            return MasterKey.from_base64(
                self._read("CASESTORE_MASTER_KEY_FILE", self.master_key_file)
            )
        except SharingError as exc:
            raise SettingsError(f"CASESTORE_MASTER_KEY: {exc}") from None

    @property
    def demo_secret_files(self) -> dict[str, Path]:
        """Where demo mode keeps its throwaway secrets (the setting each one stands in for)."""
        return {
            "pseudonym_secret_file": self.demo_dir / "pseudonym.key",
            "master_key_file": self.demo_dir / "master.key",
        }

    @staticmethod
    def _read(name: str, path: Path | None) -> str:
        if path is None:
            raise SettingsError(f"{name.removesuffix('_FILE')} or {name} is required")
        try:
            return path.read_text().strip()
        except OSError as exc:
            raise SettingsError(f"{name}: cannot read {path} ({exc.strerror})") from None

    @property
    def epochs_directory(self) -> Path | None:
        if self.case_key_epochs_dir is not None:
            return self.case_key_epochs_dir
        return self.demo_dir / "epochs" if self.demo else None

    @property
    def key_directory(self) -> Path:
        return self.keys_dir if self.keys_dir is not None else self.demo_dir / "keys"

    @property
    def policy_path(self) -> Path:
        """The configured policy, else the region's policy shipped inside the package
        (casestore/regions/, a copy of the repository's policies/ checked by a test)."""
        if self.policy_file is not None:
            return self.policy_file
        shipped = resources.files("casestore.regions") / f"{self.region}.yaml"
        if not shipped.is_file():
            raise SettingsError(
                f"CASESTORE_POLICY_FILE is required: no policy ships for region {self.region!r}"
            )
        return Path(str(shipped))

    @property
    def private_webhook_destinations(self) -> bool:
        if self.webhook_private_destinations is not None:
            return self.webhook_private_destinations
        return self.demo

    @property
    def migrates_on_start(self) -> bool:
        return self.migrate if self.migrate is not None else self.demo

    @property
    def hosted_organisations(self) -> list[str]:
        return self.hosted or [self.custodian]

    def eventsourcing_env(self) -> dict[str, str]:
        """The explicit environment handed to the eventsourcing application.

        The aggregate cache fast-forwards from the store on every read, so a case written
        by another process is never served stale; it only spares re-reading what is known.
        The library creates no tables: they are all made by the schema migrations
        (casestore.adapters.persistence.migrations).
        """
        return {
            "AGGREGATE_CACHE_MAXSIZE": "1000",
            "AGGREGATE_CACHE_FASTFORWARD": "y",
            "CREATE_TABLE": "n",
            **self._storage_env(),
        }

    @property
    def sqlite_path(self) -> Path | None:
        """The SQLite file, when the store is one (None for PostgreSQL)."""
        parsed = urlparse(self._database_url)
        if parsed.scheme != "sqlite":
            return None
        path = unquote(parsed.path.removeprefix("/")) if parsed.path else ""
        if not path:
            raise SettingsError("CASESTORE_DATABASE_URL: sqlite:///<path> needs a path")
        return Path(path)

    @property
    def _database_url(self) -> str:
        if self.database_url is not None:
            return self.database_url
        if self.database_url_file is not None:
            return self._read("CASESTORE_DATABASE_URL_FILE", self.database_url_file)
        return f"sqlite:///{self.var_dir / 'casestore.sqlite3'}"

    def _storage_env(self) -> dict[str, str]:
        parsed = urlparse(self._database_url)
        path = self.sqlite_path
        if path is not None:
            return {
                "PERSISTENCE_MODULE": "eventsourcing.sqlite",
                "SQLITE_DBNAME": str(path),
                "SQLITE_LOCK_TIMEOUT": "10",
                "APPLICATION_RECORDER_TOPIC": f"{RECORDERS}.sqlite:CaseSQLiteRecorder",
            }
        if parsed.scheme in {"postgresql", "postgres"}:
            schema = parse_qs(parsed.query).get("schema", ["public"])[0]
            return {
                "PERSISTENCE_MODULE": "eventsourcing.postgres",
                "POSTGRES_DBNAME": unquote(parsed.path.removeprefix("/")) or "postgres",
                "POSTGRES_HOST": parsed.hostname or "127.0.0.1",
                "POSTGRES_PORT": str(parsed.port or 5432),
                "POSTGRES_USER": unquote(parsed.username or "postgres"),
                "POSTGRES_PASSWORD": unquote(parsed.password or ""),
                "POSTGRES_SCHEMA": schema,
                "POSTGRES_POOL_SIZE": "10",
                "POSTGRES_MAX_OVERFLOW": "10",
                # The library's name for how long the pool is waited on for a connection.
                "POSTGRES_CONNECT_TIMEOUT": str(self.database_wait),
                "POSTGRES_LOCK_TIMEOUT": "5",
                "APPLICATION_RECORDER_TOPIC": f"{RECORDERS}.postgres:CasePostgresRecorder",
            }
        raise SettingsError(
            f"CASESTORE_DATABASE_URL: unsupported scheme {parsed.scheme!r} "
            "(use postgresql://… or sqlite:///…)"
        )


def _decode_secret(name: str, value: SecretStr) -> bytes:
    try:
        raw = base64.b64decode(value.get_secret_value(), validate=True)
    except (binascii.Error, ValueError):
        raise SettingsError(f"{name}: not valid base64") from None
    if len(raw) < 32:
        raise SettingsError(f"{name}: must decode to at least 32 bytes")
    return raw
