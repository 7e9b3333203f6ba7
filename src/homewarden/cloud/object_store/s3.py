"""Objects in an S3-compatible store through boto3 (AWS S3, MinIO, Ceph, rclone serve s3)."""

from __future__ import annotations

from collections.abc import Callable, Iterator
from typing import TYPE_CHECKING, TypeVar

import boto3
from botocore.config import Config
from botocore.exceptions import BotoCoreError, ClientError

from homewarden.cloud.config import S3StoreConfig
from homewarden.cloud.object_store.base import (
    READ_CHUNK_BYTES,
    BlobMissingError,
    ObjectStore,
    ObjectStoreError,
    StoreUpload,
    UploadedPart,
    check_key,
)

if TYPE_CHECKING:
    from mypy_boto3_s3 import S3Client

T = TypeVar("T")
MISSING_CODES = frozenset({"NoSuchKey", "NoSuchUpload", "404", "NotFound"})


class S3ObjectStore(ObjectStore):
    """One bucket; every call is one S3 request (boto3 retries the transient ones itself)."""

    def __init__(self, client: S3Client, bucket: str, *, create_bucket: bool = False) -> None:
        """Use ``bucket`` through ``client``."""
        self._client = client
        self._bucket = bucket
        self._create_bucket = create_bucket

    @classmethod
    def from_config(cls, config: S3StoreConfig) -> S3ObjectStore:
        """Build the client the config describes."""
        client = boto3.client(
            "s3",
            endpoint_url=config.endpoint_url,
            region_name=config.region,
            aws_access_key_id=config.access_key,
            aws_secret_access_key=config.secret_key,
            # Path style works with every S3-compatible server; virtual hosts need DNS for each bucket.
            config=Config(
                s3={"addressing_style": "path"},
                retries={"max_attempts": 5, "mode": "standard"},
                connect_timeout=10,
                read_timeout=60,
                # S3-compatible servers differ on the newer default checksums; send them only where S3 requires.
                request_checksum_calculation="when_required",
                response_checksum_validation="when_required",
            ),
        )
        return cls(client, config.bucket, create_bucket=config.create_bucket)

    def check(self) -> None:
        """Make sure the bucket answers; create it first when the config says so."""
        try:
            if self._create_bucket:
                existing = {bucket.get("Name") for bucket in self._client.list_buckets().get("Buckets", [])}
                if self._bucket not in existing:
                    self._client.create_bucket(Bucket=self._bucket)
            self._client.head_bucket(Bucket=self._bucket)
        except (BotoCoreError, ClientError) as error:
            raise ObjectStoreError(
                f"the object store's bucket {self._bucket!r} does not answer: {_describe(error)}"
            ) from error

    def put(self, key: str, data: bytes) -> None:
        """Write ``data`` under ``key`` in one request."""
        self._call("write", key, lambda: self._client.put_object(Bucket=self._bucket, Key=check_key(key), Body=data))

    def read(self, key: str) -> Iterator[bytes]:
        """Open ``key`` now (so a missing one fails before any byte) and stream its body."""
        answer = self._call("read", key, lambda: self._client.get_object(Bucket=self._bucket, Key=check_key(key)))
        body = answer["Body"]

        def chunks() -> Iterator[bytes]:
            try:
                yield from body.iter_chunks(READ_CHUNK_BYTES)
            finally:
                body.close()

        return chunks()

    def delete(self, key: str) -> None:
        """Delete ``key`` (S3 answers success for a key already gone)."""
        self._call("delete", key, lambda: self._client.delete_object(Bucket=self._bucket, Key=check_key(key)))

    def keys(self, prefix: str) -> Iterator[str]:
        """List the keys under ``prefix``, a page at a time."""
        pages = self._client.get_paginator("list_objects_v2").paginate(Bucket=self._bucket, Prefix=prefix)
        try:
            for page in pages:
                for item in page.get("Contents", []):
                    if "Key" in item:
                        yield item["Key"]
        except (BotoCoreError, ClientError) as error:
            raise ObjectStoreError(f"cannot list {prefix!r} in the object store: {_describe(error)}") from error

    def start_upload(self, key: str) -> str:
        """Begin an S3 multipart upload."""
        answer = self._call(
            "start an upload of",
            key,
            lambda: self._client.create_multipart_upload(Bucket=self._bucket, Key=check_key(key)),
        )
        return answer["UploadId"]

    def put_part(self, key: str, upload_id: str, number: int, data: bytes) -> None:
        """Upload one part."""
        self._call(
            "write a part of",
            key,
            lambda: self._client.upload_part(
                Bucket=self._bucket, Key=check_key(key), UploadId=upload_id, PartNumber=number, Body=data
            ),
        )

    def parts(self, key: str, upload_id: str) -> list[UploadedPart]:
        """Ask S3 which parts arrived (it is the one that knows after a crash anywhere)."""
        found: list[UploadedPart] = []
        marker = 0
        while True:
            answer = self._call(
                "list the parts of",
                key,
                lambda marker=marker: self._client.list_parts(  # type: ignore[misc]
                    Bucket=self._bucket, Key=check_key(key), UploadId=upload_id, PartNumberMarker=marker
                ),
            )
            for part in answer.get("Parts", []):
                found.append(UploadedPart(number=part["PartNumber"], size=part["Size"], etag=part["ETag"]))
            if not answer.get("IsTruncated"):
                return sorted(found, key=lambda part: part.number)
            marker = int(answer.get("NextPartNumberMarker", 0))

    def finish_upload(self, key: str, upload_id: str, parts: list[UploadedPart]) -> None:
        """Ask S3 to join the parts."""
        self._call(
            "finish the upload of",
            key,
            lambda: self._client.complete_multipart_upload(
                Bucket=self._bucket,
                Key=check_key(key),
                UploadId=upload_id,
                MultipartUpload={"Parts": [{"PartNumber": part.number, "ETag": part.etag} for part in parts]},
            ),
        )

    def abort_upload(self, key: str, upload_id: str) -> None:
        """Abort the upload; one S3 no longer knows is already gone."""
        try:
            self._call(
                "abort the upload of",
                key,
                lambda: self._client.abort_multipart_upload(
                    Bucket=self._bucket, Key=check_key(key), UploadId=upload_id
                ),
            )
        except BlobMissingError:
            return

    def uploads(self) -> Iterator[StoreUpload]:
        """List the bucket's multipart uploads in progress (ListMultipartUploads), a page at a time."""
        pages = self._client.get_paginator("list_multipart_uploads").paginate(Bucket=self._bucket)
        try:
            for page in pages:
                for item in page.get("Uploads", []):
                    if "Key" in item and "UploadId" in item and "Initiated" in item:
                        yield StoreUpload(key=item["Key"], upload_id=item["UploadId"], started_at=item["Initiated"])
        except ClientError as error:
            # rclone (gofakes3) answers NoSuchUpload for a bucket where no multipart upload was ever started.
            if error.response.get("Error", {}).get("Code") == "NoSuchUpload":
                return
            raise ObjectStoreError(
                f"cannot list the uploads in progress in the object store: {_describe(error)}"
            ) from error
        except BotoCoreError as error:
            raise ObjectStoreError(
                f"cannot list the uploads in progress in the object store: {_describe(error)}"
            ) from error

    def _call(self, action: str, key: str, request: Callable[[], T]) -> T:
        """Run one S3 request; a missing key or upload is ``BlobMissingError``, anything else ``ObjectStoreError``."""
        try:
            return request()
        except ClientError as error:
            code = str(error.response.get("Error", {}).get("Code", ""))
            if code in MISSING_CODES:
                raise BlobMissingError(f"no object {key!r} in the object store") from error
            raise ObjectStoreError(f"cannot {action} {key!r} in the object store: {_describe(error)}") from error
        except BotoCoreError as error:
            raise ObjectStoreError(f"cannot {action} {key!r} in the object store: {_describe(error)}") from error


def _describe(error: Exception) -> str:
    """Say what went wrong on one line."""
    if isinstance(error, ClientError):
        details = error.response.get("Error", {})
        return f"{details.get('Code', 'error')}: {details.get('Message', '')}".strip(": ")
    return " ".join(str(error).split())
