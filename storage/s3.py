"""Blobs in an S3-compatible bucket (对象存储): AWS S3, MinIO, Ceph RGW, SeaweedFS.

The same contract as ``LocalBlobStore``, the same encrypted bytes:

- objects at ``prefix/ab/cd/<id>``; a write never replaces one: a HEAD gives the clear error,
  and the conditional ``If-None-Match: *`` on the PUT (or on completing a multipart upload)
  makes a concurrent writer lose too;
- a blob larger than one part goes up as a multipart upload (parts of ``part_size``; an upload
  that fails is aborted); each part carries Content-MD5 so the server refuses a damaged one;
- ``open()`` returns a seekable read-only file whose reads are ranged GETs (``storage.s3_io``),
  so playback fetches only the chunks it decrypts;
- every request is retried with backoff and jitter on transient errors (``storage.s3_retry``).
"""

from __future__ import annotations

import base64
import hashlib
import threading
from collections import OrderedDict
from collections.abc import Callable, Iterable, Iterator
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any, BinaryIO, cast

from botocore.exceptions import ClientError

from storage.blobs import BlobExists, BlobNotFound, check_blob_id, is_blob_id
from storage.s3_io import RangedReader, iter_parts
from storage.s3_retry import BlobStoreUnavailable, RetryPolicy, code_of, status_of

MIB = 1024 * 1024
KNOWN_BLOBS = 4096  # sizes and headers remembered per store (about 300 kB)


class BlobStoreDenied(BlobStoreUnavailable):
    """The object store refused the credentials or the bucket does not exist."""


@dataclass(frozen=True)
class S3Config:
    """Where and how to reach the bucket (built from ``QA_BLOB_URL`` and ``QA_S3_*``)."""

    bucket: str
    prefix: str
    access_key: str
    secret_key: str = field(repr=False)
    endpoint: str = ""  # empty: the provider's default endpoint for the region
    region: str = "us-east-1"
    part_size: int = 16 * MIB
    max_attempts: int = 5
    timeout_s: float = 30.0
    max_readahead: int = 8 * MIB

    @property
    def url(self) -> str:
        return f"s3://{self.bucket}/{self.prefix}".rstrip("/")


def make_client(config: S3Config) -> Any:
    """A boto3 S3 client: path-style addressing (works with every S3-compatible server),
    SigV4, no botocore retries (``RetryPolicy`` is the one policy), bounded timeouts."""
    import boto3
    from botocore.config import Config

    return boto3.session.Session().client(
        "s3",
        endpoint_url=config.endpoint or None,
        aws_access_key_id=config.access_key,
        aws_secret_access_key=config.secret_key,
        region_name=config.region,
        config=Config(
            signature_version="s3v4",
            s3={"addressing_style": "path"},
            retries={"total_max_attempts": 1},
            connect_timeout=min(config.timeout_s, 10.0),
            read_timeout=config.timeout_s,
            max_pool_connections=32,
            # CRC checksums on every request are an AWS extension older MinIO/Ceph refuse;
            # Content-MD5 (below) is the integrity check every S3 server honours.
            request_checksum_calculation="when_required",
            response_checksum_validation="when_required",
        ),
    )


class S3BlobStore:
    """Immutable blobs in ``bucket`` under ``prefix``; see the module docstring."""

    def __init__(
        self,
        config: S3Config,
        client: Any = None,
        retry: RetryPolicy | None = None,
    ) -> None:
        self.config = config
        self.retry = retry or RetryPolicy(max_attempts=config.max_attempts)
        self._client = client
        self._lock = threading.Lock()
        # blob id -> (size, first bytes): immutable facts, so a playback request needs no HEAD
        # and no header GET the second time (a deleted blob fails at its GET: 404)
        self._known: OrderedDict[str, tuple[int, bytes]] = OrderedDict()

    @property
    def client(self) -> Any:
        """Created on first use (thread-safe; boto3 clients may be shared between threads)."""
        with self._lock:
            if self._client is None:
                self._client = make_client(self.config)
            return self._client

    def describe(self) -> str:
        return self.config.url

    def key(self, blob_id: str) -> str:
        check_blob_id(blob_id)
        name = f"{blob_id[:2]}/{blob_id[2:4]}/{blob_id}"
        return f"{self.config.prefix}/{name}" if self.config.prefix else name

    def _call(self, what: str, request: Callable[[], Any], blob_id: str = "") -> Any:
        try:
            return self.retry.call(what, request)
        except ClientError as exc:
            raise self._answer_error(exc, what, blob_id) from exc

    def _answer_error(self, exc: ClientError, what: str, blob_id: str) -> Exception:
        status, code = status_of(exc), code_of(exc)
        if code == "NoSuchBucket":
            return BlobStoreDenied(
                f"object store: bucket {self.config.bucket!r} does not exist (run `qa init`)"
            )
        if status == 404 or code in {"NoSuchKey", "NotFound"}:
            return BlobNotFound(f"blob {blob_id} is missing from the store")
        if status == 403:
            return BlobStoreDenied(
                f"object store refused {what} ({code or status}): check QA_S3_ACCESS_KEY, "
                "QA_S3_SECRET_KEY and the bucket policy"
            )
        return exc

    # Bucket ---------------------------------------------------------------------------
    def prepare(self) -> None:
        """Create the bucket when it does not exist (``qa init``); fine if it does."""
        bucket = self.config.bucket
        try:
            self.retry.call("HEAD bucket", lambda: self.client.head_bucket(Bucket=bucket))
            return
        except ClientError as exc:
            if status_of(exc) != 404 and code_of(exc) not in {"NoSuchBucket", "NotFound"}:
                raise self._answer_error(exc, "HEAD bucket", "") from exc
        try:
            self._call("create bucket", lambda: self.client.create_bucket(Bucket=bucket))
        except ClientError as exc:
            if code_of(exc) not in {"BucketAlreadyOwnedByYou", "BucketAlreadyExists"}:
                raise

    # Reads ----------------------------------------------------------------------------
    def _head(self, blob_id: str) -> dict[str, Any]:
        key = self.key(blob_id)
        return self._call(
            f"HEAD {key}",
            lambda: self.client.head_object(Bucket=self.config.bucket, Key=key),
            blob_id,
        )

    def exists(self, blob_id: str) -> bool:
        try:
            self._head(blob_id)
        except BlobNotFound:
            return False
        return True

    def size(self, blob_id: str) -> int:
        known = self._recall(blob_id)
        if known[0] >= 0:
            return known[0]
        size = int(self._head(blob_id)["ContentLength"])
        self._remember(blob_id, size, known[1])
        return size

    def _recall(self, blob_id: str) -> tuple[int, bytes]:
        with self._lock:
            known = self._known.get(blob_id)
            if known is None:
                return -1, b""
            self._known.move_to_end(blob_id)
            return known

    def _remember(self, blob_id: str, size: int, prefix: bytes) -> None:
        with self._lock:
            old_size, old_prefix = self._known.get(blob_id, (-1, b""))
            self._known[blob_id] = (size if size >= 0 else old_size, prefix or old_prefix)
            self._known.move_to_end(blob_id)
            while len(self._known) > KNOWN_BLOBS:
                self._known.popitem(last=False)

    def _forget(self, blob_id: str) -> None:
        with self._lock:
            self._known.pop(blob_id, None)

    def modified_at(self, blob_id: str) -> float:
        modified: datetime = self._head(blob_id)["LastModified"]
        return modified.timestamp()

    def etag(self, blob_id: str) -> str:
        """The object's ETag without quotes (``md5`` or ``md5-N`` for a multipart upload)."""
        return str(self._head(blob_id)["ETag"]).strip('"')

    def open(self, blob_id: str) -> BinaryIO:
        """A seekable read-only file over ranged GETs (nothing fetched until the first read)."""
        key = self.key(blob_id)
        size, prefix = self._recall(blob_id)
        reader = RangedReader(
            lambda start, end: self._get_range(blob_id, key, start, end),
            lambda: self.size(blob_id),
            max_readahead=self.config.max_readahead,
            size=size,
            prefix=prefix,
            on_prefix=lambda data, total: self._remember(blob_id, total, data),
        )
        return cast(BinaryIO, reader)  # a raw binary file: read, seek, tell, close

    def _get_range(self, blob_id: str, key: str, start: int, end: int) -> tuple[bytes, int]:
        """Bytes ``[start, end)`` and the object's total size; ``b""`` past the end."""

        def fetch() -> tuple[bytes, int]:
            try:
                answer = self.client.get_object(
                    Bucket=self.config.bucket, Key=key, Range=f"bytes={start}-{end - 1}"
                )
            except ClientError as exc:
                if status_of(exc) == 416:  # the range starts at or after the end
                    return b"", -1
                raise
            with answer["Body"] as body:
                data = body.read()  # inside the retry: a reset half-way is tried again
            total = str(answer.get("ContentRange", "")).rpartition("/")[2]
            return data, int(total) if total.isdigit() else -1

        return self._call(f"GET {key} bytes {start}-{end - 1}", fetch, blob_id)

    # Writes ---------------------------------------------------------------------------
    def write(self, blob_id: str, chunks: Iterable[bytes]) -> int:
        """Store ``chunks`` under ``blob_id`` (one PUT, or multipart above one part)."""
        if self.exists(blob_id):
            raise BlobExists(f"blob {blob_id} already exists (blobs are immutable)")
        parts = iter_parts(chunks, self.config.part_size)
        first = next(parts, b"")
        second = next(parts, None)
        if second is None:
            self._put(blob_id, first)
            return len(first)
        return self._multipart(blob_id, first, second, parts)

    def _put(self, blob_id: str, body: bytes) -> None:
        key, md5 = self.key(blob_id), hashlib.md5(body, usedforsecurity=False)

        def put() -> None:
            self.client.put_object(
                Bucket=self.config.bucket,
                Key=key,
                Body=body,
                ContentMD5=base64.b64encode(md5.digest()).decode(),
                IfNoneMatch="*",
            )

        self._conditional(blob_id, f"PUT {key}", put, md5.hexdigest())

    def _conditional(self, blob_id: str, what: str, request: Callable[[], Any], etag: str) -> None:
        """Run a conditional write. A 412 means the object exists: ours (an earlier try whose
        answer was lost: same ETag) is success, anything else is a refused overwrite."""
        try:
            self.retry.call(what, request)
        except ClientError as exc:
            if status_of(exc) != 412 and code_of(exc) != "NoSuchUpload":
                raise self._answer_error(exc, what, blob_id) from exc
            if not self._landed(blob_id, etag):
                raise BlobExists(f"blob {blob_id} already exists (blobs are immutable)") from None

    def _landed(self, blob_id: str, etag: str) -> bool:
        try:
            return self.etag(blob_id) == etag
        except BlobNotFound:
            return False

    def _multipart(self, blob_id: str, first: bytes, second: bytes, rest: Iterator[bytes]) -> int:
        key, bucket = self.key(blob_id), self.config.bucket
        upload = self._call(
            f"start multipart {key}",
            lambda: self.client.create_multipart_upload(Bucket=bucket, Key=key),
        )["UploadId"]
        try:
            done: list[dict[str, Any]] = []
            size = 0
            for number, body in enumerate([first, second], start=1):
                done.append(self._upload_part(key, upload, number, body))
                size += len(body)
            for number, body in enumerate(rest, start=3):
                done.append(self._upload_part(key, upload, number, body))
                size += len(body)
            self._complete(blob_id, key, upload, done)
        except BaseException:
            self._abort(key, upload)
            raise
        return size

    def _upload_part(self, key: str, upload: str, number: int, body: bytes) -> dict[str, Any]:
        md5 = base64.b64encode(hashlib.md5(body, usedforsecurity=False).digest()).decode()
        answer = self._call(
            f"upload part {number} of {key}",
            lambda: self.client.upload_part(
                Bucket=self.config.bucket,
                Key=key,
                UploadId=upload,
                PartNumber=number,
                Body=body,
                ContentMD5=md5,
            ),
        )
        return {"ETag": answer["ETag"], "PartNumber": number}

    def _complete(self, blob_id: str, key: str, upload: str, parts: list[dict[str, Any]]) -> None:
        joined = b"".join(bytes.fromhex(str(p["ETag"]).strip('"')) for p in parts)
        etag = f"{hashlib.md5(joined, usedforsecurity=False).hexdigest()}-{len(parts)}"

        def complete() -> None:
            self.client.complete_multipart_upload(
                Bucket=self.config.bucket,
                Key=key,
                UploadId=upload,
                MultipartUpload={"Parts": parts},
                IfNoneMatch="*",
            )

        self._conditional(blob_id, f"complete multipart {key}", complete, etag)

    def _abort(self, key: str, upload: str) -> None:
        try:
            self.retry.call(
                f"abort multipart {key}",
                lambda: self.client.abort_multipart_upload(
                    Bucket=self.config.bucket, Key=key, UploadId=upload
                ),
            )
        except (ClientError, BlobStoreUnavailable):
            pass  # left for `qa storage check --repair` (stale uploads)

    # Listing and removal ----------------------------------------------------------------
    def delete(self, blob_id: str) -> None:
        key = self.key(blob_id)
        self._forget(blob_id)
        self._call(
            f"DELETE {key}",
            lambda: self.client.delete_object(Bucket=self.config.bucket, Key=key),
            blob_id,
        )

    def ids(self) -> Iterator[str]:
        """Every blob id under the prefix (paged listing; other objects are ignored)."""
        prefix = f"{self.config.prefix}/" if self.config.prefix else ""
        token: str | None = None
        while True:
            page = self._list_page(prefix, token)
            for item in page.get("Contents", []):
                name = str(item["Key"]).rpartition("/")[2]
                if is_blob_id(name) and item["Key"] == prefix + f"{name[:2]}/{name[2:4]}/{name}":
                    yield name
            token = page.get("NextContinuationToken")
            if not page.get("IsTruncated") or not token:
                return

    def _list_page(self, prefix: str, token: str | None) -> dict[str, Any]:
        args: dict[str, Any] = {"Bucket": self.config.bucket, "Prefix": prefix, "MaxKeys": 1000}
        if token:
            args["ContinuationToken"] = token
        return self._call(f"list {prefix or '/'}", lambda: self.client.list_objects_v2(**args))

    def abandoned_writes(self, older_than: float) -> list[str]:
        """Multipart uploads under the prefix started before ``older_than`` and never completed
        or aborted (a process killed mid-upload), as ``key?uploadId``."""
        prefix = f"{self.config.prefix}/" if self.config.prefix else ""
        answer = self._call(
            "list multipart uploads",
            lambda: self.client.list_multipart_uploads(Bucket=self.config.bucket, Prefix=prefix),
        )
        return sorted(
            f"{u['Key']}?{u['UploadId']}"
            for u in answer.get("Uploads", [])
            if u["Initiated"].timestamp() < older_than
        )

    def discard_write(self, name: str) -> None:
        key, _, upload = name.partition("?")
        if not upload or not key.startswith(self.config.prefix):
            raise ValueError(f"not an unfinished upload of this store: {name!r}")
        self._abort(key, upload)
