"""Where export files live: S3 (server-side encrypted) in AWS, a local folder for `make run`."""

from __future__ import annotations

import contextlib
import hashlib
import os
import shutil
import tempfile
from pathlib import Path
from typing import IO, Any, Protocol

from ..domain.errors import NotFound


class FileStore(Protocol):
    def put(self, key: str, source: IO[bytes], content_type: str) -> None: ...
    def get(self, key: str) -> bytes: ...
    def url(self, key: str, seconds: int) -> str | None: ...


class S3Files:
    def __init__(self, client: Any, bucket: str):
        self.client = client
        self.bucket = bucket

    def put(self, key: str, source: IO[bytes], content_type: str) -> None:
        source.seek(0)
        self.client.upload_fileobj(
            source, self.bucket, key, ExtraArgs={"ContentType": content_type, "ServerSideEncryption": "AES256"}
        )

    def get(self, key: str) -> bytes:
        try:
            return self.client.get_object(Bucket=self.bucket, Key=key)["Body"].read()
        except self.client.exceptions.NoSuchKey:
            raise NotFound(f"no export {key}") from None

    def url(self, key: str, seconds: int) -> str | None:
        """A short-lived presigned download link."""
        return self.client.generate_presigned_url(
            "get_object", Params={"Bucket": self.bucket, "Key": key}, ExpiresIn=seconds
        )


class FolderFiles:
    def __init__(self, root: str | Path):
        self.root = Path(root)

    def _path(self, key: str) -> Path:
        path = (self.root / key).resolve()
        if self.root.resolve() not in path.parents:
            raise NotFound(f"no export {key}")
        return path

    def put(self, key: str, source: IO[bytes], content_type: str) -> None:
        """Write beside the target under a name no other writer can hold, then rename over it: two
        settlement runs finishing the same batch at once each replace the file whole (their bytes
        are the same), and a reader never sees half a file."""
        path = self._path(key)
        path.parent.mkdir(parents=True, exist_ok=True)
        source.seek(0)
        fd, tmp = tempfile.mkstemp(dir=path.parent, prefix=f".{path.name}.", suffix=".tmp")
        try:
            with os.fdopen(fd, "wb") as f:
                shutil.copyfileobj(source, f)
            os.replace(tmp, path)
        except BaseException:
            with contextlib.suppress(FileNotFoundError):
                os.unlink(tmp)
            raise

    def get(self, key: str) -> bytes:
        path = self._path(key)
        if not path.exists():
            raise NotFound(f"no export {key}")
        return path.read_bytes()

    def url(self, key: str, seconds: int) -> str | None:
        return None  # served through the API's download route instead


def sha256(data: bytes) -> str:
    return hashlib.sha256(data).hexdigest()
