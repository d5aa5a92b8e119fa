"""Batched forward passes under torch.inference_mode(): probabilities and metrics."""

import torch
import torch.nn.functional as F
from torch import nn

from core.analysis.metrics import confusion_matrix, per_class_accuracy
from core.data.dataset import normalize
from core.models import output_count, set_flip_averaging, uses_flip_averaging, uses_shift_averaging


@torch.inference_mode()
def logits(
    model: nn.Module, images: torch.Tensor, batch_size: int = 256, flip: bool = False, shift: bool = False
) -> torch.Tensor:
    """Logits (N, classes) for uint8 or [0,1] images (N, 28, 28); averaged with the mirrored image's when `flip` is
    given or the model predicts with test-time flip (a `core.models.FlipAveraged`), and with `shift` also over
    both moved one pixel each way."""
    if flip and (not uses_flip_averaging(model) or (shift and not uses_shift_averaging(model))):
        model = set_flip_averaging(model, shift=shift)
    was_training = model.training
    model.eval()
    device = next(model.parameters()).device
    out = []
    for start in range(0, len(images), batch_size):
        x = normalize(images[start : start + batch_size].to(device, non_blocking=True))
        out.append(model(x).float())
    model.train(was_training)
    if not out:
        return torch.empty(0, output_count(model))
    return torch.cat(out)


def probabilities(model: nn.Module, images: torch.Tensor, **kw) -> torch.Tensor:
    return F.softmax(logits(model, images, **kw), dim=1)


def metrics(
    model: nn.Module, images: torch.Tensor, labels: torch.Tensor, flip: bool = False, shift: bool = False
) -> dict:
    """Loss, accuracy, per-class accuracy and the confusion matrix of `model` on a labelled set."""
    return scores(logits(model, images, flip=flip, shift=shift), labels)


def scores(z: torch.Tensor, labels: torch.Tensor) -> dict:
    """`metrics` of logits already computed."""
    y = labels.to(z.device)
    predictions = z.argmax(1)
    cm = confusion_matrix(y, predictions)
    per_class = per_class_accuracy(cm).tolist()
    return {
        "loss": F.cross_entropy(z, y).item(),
        "accuracy": (predictions == y).float().mean().item(),
        "per_class_accuracy": per_class,
        "confusion_matrix": cm.tolist(),
        "count": len(y),
    }
