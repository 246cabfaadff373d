"""Configuration: read once from `JALERTE_*` environment variables, then passed down."""
from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path
from typing import Mapping

PROJECT_DIR = Path(__file__).resolve().parent.parent


@dataclass(frozen=True)
class Config:
    data_dir: Path
    database_url: str
    model_path: Path
    build_dir: Path
    log_level: str
    secret_key: str | None = None
    public_url: str = "https://jalerte.arcep.fr"

    @classmethod
    def from_env(cls, environ: Mapping[str, str]) -> "Config":
        """Builds the configuration from `environ` (normally `os.environ`)."""
        data_dir = Path(environ.get("JALERTE_DATA_DIR") or "./data").expanduser()
        database_url = environ.get("JALERTE_DATABASE_URL") or (
            f"sqlite+aiosqlite:///{(data_dir / 'jalerte.db').resolve()}"
        )
        model_path = Path(
            environ.get("JALERTE_MODEL_PATH") or PROJECT_DIR / "models" / "nlu.tar.gz"
        ).expanduser()
        build_dir = Path(environ.get("JALERTE_BUILD_DIR") or PROJECT_DIR / "build").expanduser()
        log_level = (environ.get("JALERTE_LOG_LEVEL") or "WARNING").upper()
        return cls(
            data_dir=data_dir,
            database_url=database_url,
            model_path=model_path,
            build_dir=build_dir,
            log_level=log_level,
            secret_key=environ.get("JALERTE_SECRET_KEY") or None,
            public_url=environ.get("JALERTE_PUBLIC_URL") or "https://jalerte.arcep.fr",
        )

    @property
    def photo_dir(self) -> Path:
        return self.data_dir / "photos"
