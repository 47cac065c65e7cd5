"""Running untrusted generated code: one interface, local and Docker backends."""
from ._base import Limits, RunResult, Sandbox, Worker, WorkerCrashed, WorkerTimeout
from .docker import DockerSandbox
from .factory import make_sandbox
from .local import LocalSandbox

__all__ = ["Limits", "RunResult", "Sandbox", "Worker", "WorkerCrashed", "WorkerTimeout", "LocalSandbox",
           "DockerSandbox", "make_sandbox"]
