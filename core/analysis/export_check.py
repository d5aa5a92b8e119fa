"""Check an exported model against its checkpoint: the same logits (to a tolerance) and the same accuracy
on real test images, run by ONNX Runtime or the TorchScript interpreter rather than by the original model."""

from dataclasses import dataclass

import numpy as np
import torch

from core.analysis import inference
from core.io import checkpoint, export


@dataclass
class ExportCheck:
    fmt: str
    count: int
    max_abs_diff: float  # largest |exported logit - PyTorch logit|
    accuracy_pytorch: float
    accuracy_exported: float
    agreement: float  # share of images whose predicted class is the same

    @property
    def ok(self) -> bool:
        return self.max_abs_diff <= 1e-4 and self.accuracy_pytorch == self.accuracy_exported


def exported_logits(data: bytes, fmt: str, images: torch.Tensor, batch_size: int = 1000) -> np.ndarray:
    """Logits (N, 10) of an exported model for uint8 images (N, 28, 28)."""
    pixels = export.pixels(images)
    if fmt == "onnx":
        return export.run_onnx(export.onnx_session(data), pixels, batch_size)
    module, _ = export.load_torchscript(data)
    with torch.inference_mode():
        out = [module(torch.from_numpy(pixels[i : i + batch_size])) for i in range(0, len(pixels), batch_size)]
    return torch.cat(out).numpy()


def check(path, fmt: str, images: torch.Tensor, labels: torch.Tensor, data: bytes | None = None) -> ExportCheck:
    """Compare the export of checkpoint `path` (built now unless `data` is given) with PyTorch on `images`."""
    data = data if data is not None else export.export_bytes(path, fmt)
    loaded = checkpoint.load(path)
    reference = inference.logits(loaded.model, images).cpu().numpy()
    got = exported_logits(data, fmt, images)
    y = labels.cpu().numpy()
    return ExportCheck(
        fmt,
        len(y),
        float(np.abs(got - reference).max()) if len(y) else 0.0,
        float((reference.argmax(1) == y).mean()),
        float((got.argmax(1) == y).mean()),
        float((reference.argmax(1) == got.argmax(1)).mean()),
    )
