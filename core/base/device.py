"""Choose the compute device and set CPU threads."""

import os

import torch

from core.base.errors import StudioError


def pick_device(name: str = "auto") -> torch.device:
    """'auto' takes CUDA, then Apple MPS, then the CPU; an explicit name must be available."""
    if name == "auto":
        if torch.cuda.is_available():
            return torch.device("cuda")
        if getattr(torch.backends, "mps", None) and torch.backends.mps.is_available():
            return torch.device("mps")
        return torch.device("cpu")
    if name == "cuda" and not torch.cuda.is_available():
        raise StudioError("device 'cuda' requested but no CUDA GPU is available; use --device auto or cpu.")
    if name == "mps" and not (getattr(torch.backends, "mps", None) and torch.backends.mps.is_available()):
        raise StudioError("device 'mps' requested but Apple MPS is not available; use --device auto or cpu.")
    return torch.device(name)


def configure_threads() -> int:
    """Use every core this process may run on (or FMNIST_THREADS) for intra-op work; return the count."""
    try:
        cores = len(os.sched_getaffinity(0))
    except AttributeError:
        cores = os.cpu_count() or 1
    cores = int(os.environ.get("FMNIST_THREADS") or cores)
    if torch.get_num_threads() != cores:
        torch.set_num_threads(cores)
    return cores


def cpu_flags() -> set[str]:
    """The CPU's feature flags as the kernel lists them (empty where /proc/cpuinfo is missing)."""
    try:
        with open("/proc/cpuinfo") as f:
            for line in f:
                if line.startswith(("flags", "Features")):
                    return set(line.split(":", 1)[1].split())
    except OSError:
        pass
    return set()


def cpu_has_bf16() -> bool:
    """Native bfloat16 arithmetic: AMX tiles or AVX-512 BF16 (elsewhere bf16 is emulated and slower)."""
    return bool(cpu_flags() & {"amx_bf16", "avx512_bf16"})


def describe(device: torch.device) -> str:
    if device.type == "cuda":
        return f"cuda ({torch.cuda.get_device_name(device)})"
    if device.type == "cpu":
        return f"cpu ({torch.get_num_threads()} threads)"
    return device.type
