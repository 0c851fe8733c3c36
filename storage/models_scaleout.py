"""Tables for nodes that share no disk: migration progress of blobs, the sealed keyring.

- ``blob_copies``: a blob ``qa storage migrate`` copied to another store and verified there
  (size and SHA-256 read back from the target), so a killed run resumes where it stopped.
- ``sealed_keks``: key-encryption keys (KEKs) sealed under the master key, for
  ``QA_KEYRING_URL=db://`` (``storage.keyring_db``): every node reads them from the database
  and opens them with the master key it was given; the database alone opens nothing.
"""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import BigInteger, Boolean, LargeBinary, String, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column

from storage.models import Base, BigId


class BlobCopy(Base):
    """One blob copied to ``target`` (a store URL) and verified there."""

    __tablename__ = "blob_copies"
    __table_args__ = (UniqueConstraint("target", "blob_id"),)
    id: Mapped[int] = mapped_column(BigId, primary_key=True)
    target: Mapped[str] = mapped_column(String(512))
    blob_id: Mapped[str] = mapped_column(String(64))
    size_bytes: Mapped[int] = mapped_column(BigInteger)
    sha256: Mapped[str] = mapped_column(String(64))
    copied_at: Mapped[datetime]


class SealedKek(Base):
    """A KEK encrypted (AES-256-GCM) under the master key ``master_key_id`` names."""

    __tablename__ = "sealed_keks"
    id: Mapped[str] = mapped_column(String(64), primary_key=True)  # the KEK id
    sealed: Mapped[bytes] = mapped_column(LargeBinary)  # nonce ‖ ciphertext ‖ tag
    master_key_id: Mapped[str] = mapped_column(String(32))
    created_at: Mapped[str] = mapped_column(String(40))  # as in the keyring file (ISO)
    active: Mapped[bool] = mapped_column(Boolean, default=False)
