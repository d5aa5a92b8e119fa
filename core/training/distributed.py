"""Training in several processes (torchrun): DistributedDataParallel, gloo on CPUs, NCCL on CUDA.

`torchrun --nproc_per_node=N -m core.train ...` starts N copies of the command line. Every process draws the
same batch order and trains on its own shard of every batch (rank r takes items r, r+N, ...); DDP averages
the gradients, so the N processes make the same update one process would make with the whole batch.
Losses, accuracies and stop requests are reduced across processes, so all of them agree on when to stop;
only rank 0 writes the run folder, the metrics and the checkpoints.

A plain `python -m core.train` gets `Single`: one process, nothing reduced, nothing wrapped.
"""

import os
from datetime import timedelta

import torch
import torch.distributed as dist
from torch import nn


class Single:
    """One process: every operation is the identity."""

    rank, world, is_main = 0, 1, True

    def start(self, device: torch.device) -> torch.device:
        return device

    def wrap(self, model: nn.Module) -> nn.Module:
        return model

    def shard(self, idx: torch.Tensor) -> torch.Tensor:
        return idx

    def sum(self, *values: torch.Tensor) -> tuple:
        return values

    def mean(self, values: torch.Tensor) -> torch.Tensor:
        return values

    def any(self, flag: bool) -> bool:
        return flag

    def broadcast_buffers(self, model: nn.Module) -> None:
        pass

    def close(self, wait: bool = False) -> None:
        pass


class Group(Single):
    """One of `world` processes started by torchrun (RANK, WORLD_SIZE, LOCAL_RANK, MASTER_ADDR/PORT set)."""

    def __init__(self, rank: int, world: int, local_rank: int, local_world: int):
        self.rank, self.world, self.local_rank, self.local_world = rank, world, local_rank, local_world
        self.is_main = rank == 0
        self.device = torch.device("cpu")

    def start(self, device: torch.device) -> torch.device:
        """Join the process group (NCCL for CUDA, else gloo); return this process's device."""
        if device.type == "cuda":
            device = torch.device("cuda", self.local_rank)
            torch.cuda.set_device(device)
        elif not os.environ.get("FMNIST_THREADS"):
            # Share the cores: torchrun sets OMP_NUM_THREADS=1 unless told otherwise.
            cores = len(os.sched_getaffinity(0)) if hasattr(os, "sched_getaffinity") else (os.cpu_count() or 1)
            torch.set_num_threads(int(os.environ.get("OMP_NUM_THREADS") or max(1, cores // self.local_world)))
        if not dist.is_initialized():
            dist.init_process_group("nccl" if device.type == "cuda" else "gloo", timeout=timedelta(minutes=5))
        self.device = device
        return device

    def wrap(self, model: nn.Module) -> nn.Module:
        ids = [self.device.index] if self.device.type == "cuda" else None
        return nn.parallel.DistributedDataParallel(model, device_ids=ids)

    def shard(self, idx: torch.Tensor) -> torch.Tensor:
        return idx[self.rank :: self.world]

    def sum(self, *values) -> tuple:
        """Each value (a number or a one-element tensor) summed over all processes, in one all-reduce;
        returned as the same kind of value."""
        flat = torch.tensor([float(v) for v in values], dtype=torch.float64, device=self.device)
        dist.all_reduce(flat)
        return tuple(
            torch.tensor(f, dtype=v.dtype, device=v.device) if torch.is_tensor(v) else type(v)(f)
            for f, v in zip(flat.tolist(), values)
        )

    def mean(self, values: torch.Tensor) -> torch.Tensor:
        """The mean over processes of a float tensor (per-batch losses)."""
        out = values.detach().to(self.device, torch.float32).clone()
        dist.all_reduce(out)
        return out / self.world

    def any(self, flag: bool) -> bool:
        """True on every process as soon as one of them says so (a stop request, say)."""
        t = torch.tensor([1.0 if flag else 0.0], device=self.device)
        dist.all_reduce(t, op=dist.ReduceOp.MAX)
        return bool(t.item())

    def broadcast_buffers(self, model: nn.Module) -> None:
        """Rank 0's batch-norm statistics everywhere, so every process evaluates the same model."""
        for buffer in model.buffers():
            dist.broadcast(buffer.data, 0)

    def close(self, wait: bool = False) -> None:
        """Leave the group; with `wait`, first wait for every process (rank 0 evaluates the test set last), so
        none tears its connections down while another still uses them."""
        if dist.is_initialized():
            if wait:
                dist.barrier()
            dist.destroy_process_group()


def from_env() -> Single:
    """A `Group` when started by torchrun with more than one process, else `Single`."""
    world = int(os.environ.get("WORLD_SIZE", "1"))
    if world <= 1:
        return Single()
    return Group(
        int(os.environ["RANK"]),
        world,
        int(os.environ.get("LOCAL_RANK", "0")),
        int(os.environ.get("LOCAL_WORLD_SIZE", str(world))),
    )
