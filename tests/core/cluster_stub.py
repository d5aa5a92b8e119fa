"""A pretend cluster for the tests of trainings that wait for room or that no node can hold, without Ray.

ClusterStub answers the server as core.serving.ray_runner.RayExecutor does (`start`, `pending`, `alive`), from
nodes the test sets (`nodes`: total resources, `free`: unused ones); a job is admitted like a Ray actor and, once
a node has room, trained in a thread of the test process (InProcessExecutor).
"""

from core.base.errors import StudioError
from core.serving import cluster_fit, job_events
from core.serving.shared_jobs import InProcessExecutor

NO_GPU_NODE = {"CPU": 2.0, "memory": 8e9}


class ClusterStub(InProcessExecutor):
    def __init__(self, data_loader, nodes=(NO_GPU_NODE,), free=(NO_GPU_NODE,)):
        super().__init__(data_loader)
        self.nodes, self.free = list(nodes), list(free)
        self.waiting: dict[str, dict] = {}  # job id -> its spec, while no node has room
        self.asked: list[dict] = []  # every request `start` was given, in order

    @staticmethod
    def request(spec: dict) -> dict:
        """What a job asks for: 1 GPU when its name says "gpu", else 1 CPU."""
        return {"CPU": 1.0, "GPU": 1.0} if "gpu" in (spec.get("name") or "") else {"CPU": 1.0}

    def start(self, spec: dict) -> str | None:
        request = self.request(spec)
        self.asked.append(request)
        why = cluster_fit.unfit(request, self.nodes)
        if why:
            raise StudioError(why)
        if not cluster_fit.fits_now(request, self.free):
            self.waiting[spec["job_id"]] = spec
            return job_events.WAITING
        super().start(spec)
        return None

    def pending(self, job_id: str, runs_root=None, cancel: bool = False):
        spec = self.waiting.get(job_id)
        if spec is None:
            return None
        why = cluster_fit.unfit(self.request(spec), self.nodes)
        if why or cancel:
            del self.waiting[job_id]
            return ("unfit", why) if why else ("cancelled", "")
        if cluster_fit.fits_now(self.request(spec), self.free):  # a node has room now: it starts
            del self.waiting[job_id]
            super().start(spec)
            return None
        return ("waiting", job_events.WAITING)

    def alive(self, job_id: str, started: float, runs_root=None) -> bool | None:
        return True if job_id in self.waiting else super().alive(job_id, started, runs_root)
