"""Where the cloud keeps sealed bytes: one small interface, an S3 and a folder implementation, chosen by ``type``."""

from __future__ import annotations

from homewarden.cloud.config import FolderStoreConfig, S3StoreConfig
from homewarden.cloud.object_store.base import (
    BlobMissingError,
    ObjectStore,
    ObjectStoreError,
    StoreUpload,
    UploadedPart,
)
from homewarden.cloud.object_store.folder import FolderObjectStore
from homewarden.cloud.object_store.s3 import S3ObjectStore

__all__ = [
    "BlobMissingError",
    "FolderObjectStore",
    "ObjectStore",
    "ObjectStoreError",
    "S3ObjectStore",
    "StoreUpload",
    "UploadedPart",
    "open_object_store",
]


def open_object_store(config: FolderStoreConfig | S3StoreConfig) -> ObjectStore:
    """Build the store the config names."""
    if isinstance(config, S3StoreConfig):
        return S3ObjectStore.from_config(config)
    return FolderObjectStore(config.path)
