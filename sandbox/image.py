"""What a sandbox container runs: the host's own Python (Linux) or an image built from ``sandbox/Dockerfile``.

Host mode (the default on Linux): a tiny base image, imported locally from a tar made on the spot (no
registry, no build), plus the host's ``/usr`` and Python prefix bind-mounted read-only at the same paths.
The container runs exactly the host's interpreter and library builds, so a score in the container is
the score on the host, and nothing has to be downloaded.

Image mode (other systems, or ``T2ML_SANDBOX_IMAGE=TAG``): an image made by ``t2ml sandbox build`` from
``sandbox/Dockerfile`` (base image as a build argument, the ML libraries pinned to the host's versions,
an optional extra CA bundle for pip behind a proxy).
"""
from __future__ import annotations

import hashlib
import io
import os
import shutil
import sys
import tarfile
import tempfile
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Callable

from t2ml.errors import SandboxError
from t2ml.versions import installed

if TYPE_CHECKING:
    from docker import DockerClient

BASE_TAG = "t2ml-sandbox-base:local"
BUILD_TAG = "t2ml-sandbox:local"
IMAGE_ENV = "T2ML_SANDBOX_IMAGE"
LAYOUT_LABEL = "t2ml.base.layout"
DOCKERFILE = Path(__file__).with_name("Dockerfile")
# what the sandboxed code imports (templates, runtime, their dependencies); pinned in built images
PINNED = ("numpy", "scipy", "pandas", "scikit-learn", "catboost", "joblib", "threadpoolctl", "pyarrow")
_TOP_DIRS = ("bin", "sbin", "lib", "lib32", "lib64", "libx32")
_PASSWD = "root:x:0:0:root:/root:/usr/sbin/nologin\nnobody:x:65534:65534:nobody:/nonexistent:/usr/sbin/nologin\n"
_GROUP = "root:x:0:\nnogroup:x:65534:\n"


@dataclass(frozen=True)
class Runtime:
    """The image a container starts from, its interpreter and the host paths it sees (read-only)."""

    image: str
    python: str
    path: str
    mounts: dict[str, dict[str, str]] = field(default_factory=dict)

    @property
    def host_python(self) -> bool:
        return bool(self.mounts)


def _covered(path: str, roots: list[str]) -> bool:
    return any(path == r or path.startswith(r.rstrip("/") + "/") for r in roots)


def host_mounts() -> dict[str, dict[str, str]]:
    """/usr, the top-level library dirs that are real dirs here, and the Python prefixes (read-only)."""
    roots = ["/usr"] + [f"/{d}" for d in _TOP_DIRS if os.path.isdir(f"/{d}") and not os.path.islink(f"/{d}")]
    exe_prefix = str(Path(os.path.realpath(sys.executable)).parent.parent)
    for prefix in (sys.base_prefix, sys.prefix, exe_prefix):
        prefix = os.path.realpath(prefix)
        if not _covered(prefix, roots):
            roots.append(prefix)
    return {r: {"bind": r, "mode": "ro"} for r in roots}


def _layout() -> list[tuple[str, str | None]]:
    """Top-level entries of the base image: the host's symlinks (merged /usr) and empty mount points."""
    out: list[tuple[str, str | None]] = [("etc", None), ("tmp", None), ("work", None), ("usr", None)]
    for d in _TOP_DIRS:
        if os.path.islink(f"/{d}"):
            out.append((d, os.readlink(f"/{d}")))
        elif os.path.isdir(f"/{d}"):
            out.append((d, None))
    return out


def _base_tar(layout: list[tuple[str, str | None]]) -> bytes:
    buf = io.BytesIO()
    with tarfile.open(fileobj=buf, mode="w") as tar:
        for name, target in layout:
            info = tarfile.TarInfo(name)
            if target is None:
                info.type, info.mode = tarfile.DIRTYPE, 0o1777 if name in ("tmp", "work") else 0o755
            else:
                info.type, info.linkname, info.mode = tarfile.SYMTYPE, target, 0o777
            tar.addfile(info)
        for name, text in (("etc/passwd", _PASSWD), ("etc/group", _GROUP)):
            data = text.encode()
            info = tarfile.TarInfo(name)
            info.size, info.mode = len(data), 0o644
            tar.addfile(info, io.BytesIO(data))
    return buf.getvalue()


def ensure_base_image(client: DockerClient) -> str:
    """The local base image for host mode, imported from a tar made here when missing or outdated."""
    from docker.errors import ImageNotFound

    layout = _layout()
    digest = hashlib.sha256(repr(layout).encode()).hexdigest()[:16]
    try:
        if client.images.get(BASE_TAG).labels.get(LAYOUT_LABEL) == digest:
            return BASE_TAG
    except ImageNotFound:
        pass
    repo, tag = BASE_TAG.split(":")
    client.api.import_image_from_data(_base_tar(layout), repository=repo, tag=tag,
                                      changes=[f"LABEL {LAYOUT_LABEL}={digest}", "LABEL t2ml.image=1"])
    return BASE_TAG


def _require_image(client: DockerClient, image: str) -> None:
    from docker.errors import ImageNotFound

    try:
        client.images.get(image)
    except ImageNotFound:
        raise SandboxError(f"the sandbox image {image!r} is not present in the Docker daemon",
                           hint=f"build it with `t2ml sandbox build --tag {image}`, or unset "
                                f"{IMAGE_ENV} (on Linux t2ml then runs the host's Python in a container)") from None


def resolve_runtime(client: DockerClient, image: str | None = None) -> Runtime:
    """Image mode when an image is named (argument or T2ML_SANDBOX_IMAGE), else host mode on Linux."""
    image = image or os.environ.get(IMAGE_ENV) or None
    if image is None and sys.platform.startswith("linux"):
        bin_dir = os.path.dirname(sys.executable)
        return Runtime(ensure_base_image(client), sys.executable, f"{bin_dir}:/usr/local/bin:/usr/bin:/bin",
                       host_mounts())
    image = image or BUILD_TAG
    _require_image(client, image)
    return Runtime(image, "python", "/opt/t2ml/bin:/usr/local/bin:/usr/bin:/bin")


def pins() -> list[str]:
    """``name==version`` for the libraries sandboxed code imports, as installed on this host."""
    return [f"{dist}=={installed(dist)}" for dist in PINNED if installed(dist)]


def build_context(dest: Path, ca_bundle: Path | None = None) -> Path:
    """Write the Dockerfile, the pinned requirements and the (possibly empty) CA bundle into ``dest``."""
    shutil.copyfile(DOCKERFILE, dest / "Dockerfile")
    (dest / "requirements.txt").write_text("\n".join(pins()) + "\n", encoding="utf-8")
    if ca_bundle is not None and not ca_bundle.is_file():
        raise SandboxError(f"--ca-bundle {ca_bundle} is not a readable file",
                           hint="give a PEM file, e.g. /etc/ssl/certs/ca-certificates.crt")
    (dest / "ca-bundle.pem").write_bytes(ca_bundle.read_bytes() if ca_bundle else b"")
    return dest


def build_image(client: DockerClient, base_image: str, tag: str = BUILD_TAG, ca_bundle: Path | None = None,
                on_line: Callable[[str], None] = lambda line: None) -> str:
    """``docker build`` of sandbox/Dockerfile on ``base_image`` (never pulled if present locally)."""
    from docker.errors import APIError, BuildError

    python = f"{sys.version_info[0]}.{sys.version_info[1]}"
    with tempfile.TemporaryDirectory(prefix="t2ml-build-") as tmp:
        ctx = build_context(Path(tmp), ca_bundle)
        try:
            stream = client.api.build(path=str(ctx), tag=tag, rm=True, forcerm=True, decode=True,
                                      network_mode="host", pull=False,
                                      buildargs={"BASE_IMAGE": base_image, "PYTHON_VERSION": python})
            for chunk in stream:
                if "error" in chunk:
                    raise BuildError(chunk["error"], [])
                text = chunk.get("stream", "").rstrip()
                if text:
                    on_line(text)
        except (APIError, BuildError) as exc:
            raise SandboxError(f"building the sandbox image on {base_image!r} failed: {exc}",
                               hint="without a registry, import a base image first (README: 'Docker sandbox'); "
                                    "behind a TLS proxy pass --ca-bundle /etc/ssl/certs/ca-certificates.crt") from None
    return tag
