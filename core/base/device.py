"""Choose the compute device, set CPU threads and describe the CPU (torch is imported only where it is used,
so a light process can describe the CPU without it)."""

from __future__ import annotations

import os
import platform
from typing import TYPE_CHECKING

from core.base.errors import StudioError

if TYPE_CHECKING:
    import torch


def pick_device(name: str = "auto") -> torch.device:
    """'auto' takes CUDA, then Apple MPS, then the CPU; an explicit name must be available."""
    import torch

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
    import torch

    try:
        cores = len(os.sched_getaffinity(0))
    except AttributeError:
        cores = os.cpu_count() or 1
    cores = int(os.environ.get("FMNIST_THREADS") or cores)
    if torch.get_num_threads() != cores:
        torch.set_num_threads(cores)
    return cores


CPUINFO = "/proc/cpuinfo"
# the kernel's flags for the vector and matrix extensions that decide CPU speed, and their names in reports
VECTOR_FEATURES = {
    "avx2": "AVX2",
    "avx512f": "AVX-512",
    "avx512_bf16": "AVX-512 BF16",
    "avx512_vnni": "AVX-512 VNNI",
    "amx_tile": "AMX",
    "amx_bf16": "AMX-BF16",
}
MAIN_FEATURES = ("avx2", "avx512f", "amx_tile")  # reported as missing too


def _cpuinfo(*keys: str) -> str | None:
    """The value of the first /proc/cpuinfo line starting with one of `keys` (None where there is none)."""
    try:
        with open(CPUINFO) as f:
            for line in f:
                if line.startswith(keys):
                    return line.split(":", 1)[1].strip()
    except OSError:
        pass
    return None


def cpu_flags() -> set[str]:
    """The CPU's feature flags as the kernel lists them (empty where /proc/cpuinfo is missing)."""
    return set((_cpuinfo("flags", "Features") or "").split())


def cpu_model() -> str:
    """The CPU's model name (the platform's processor or machine name where /proc/cpuinfo has none)."""
    return _cpuinfo("model name") or platform.processor() or platform.machine()


def describe_cpu() -> str:
    """The CPU in one line for reports: model, vector and matrix extensions, cores, e.g.
    'Intel(R) Xeon(R) Platinum 8480+ (AVX2, AVX-512, AVX-512 BF16, AMX, AMX-BF16), 8 cores'."""
    flags = cpu_flags()
    have = ", ".join(label for flag, label in VECTOR_FEATURES.items() if flag in flags)
    missing = ", ".join(f"no {VECTOR_FEATURES[flag]}" for flag in MAIN_FEATURES if flag not in flags)
    features = "; ".join(part for part in (have, missing) if part)
    return f"{cpu_model()} ({features}), {os.cpu_count()} cores"


def cpu_has_bf16() -> bool:
    """Native bfloat16 arithmetic: AMX tiles or AVX-512 BF16 (elsewhere bf16 is emulated and slower)."""
    return bool(cpu_flags() & {"amx_bf16", "avx512_bf16"})


def describe(device: torch.device) -> str:
    import torch

    if device.type == "cuda":
        return f"cuda ({torch.cuda.get_device_name(device)})"
    if device.type == "cpu":
        return f"cpu ({torch.get_num_threads()} threads)"
    return device.type
