"""TensorBoard event files in a run's folder, so `tensorboard --logdir runs` shows every run.

Fed the Trainer's events: per-batch training loss, per-epoch loss and accuracy (train and validation),
learning rate and epoch time; after each epoch the first filters and every layer's weight and gradient
histograms (`snapshot`); at the end the test-set confusion matrix as an image and a grid of
misclassified test images. TensorBoard's SummaryWriter is imported only when a run starts.
"""

import logging
from pathlib import Path

import numpy as np
import torch

from core.data.classes import CLASS_NAMES

log = logging.getLogger(__name__)
MISTAKES_SHOWN = 16
CELL = 36


class TensorBoardLog:
    """One SummaryWriter writing into `run_dir`; a resumed run adds a new event file beside the old one."""

    def __init__(self, run_dir):
        from torch.utils.tensorboard import SummaryWriter

        self.writer = SummaryWriter(log_dir=str(Path(run_dir)), flush_secs=10)

    @classmethod
    def open(cls, run_dir) -> "TensorBoardLog | None":
        """A logger, or None (with a warning in the log) when TensorBoard is missing or the folder unwritable."""
        try:
            return cls(run_dir)
        except (ImportError, OSError) as e:
            log.warning("no TensorBoard events for %s: %s", run_dir, e)
            return None

    def on_event(self, event: dict) -> None:
        kind = event.get("event")
        w = self.writer
        if kind == "batch":
            w.add_scalar("batch/train_loss", event["loss"], event["step"])
        elif kind == "epoch" and not event.get("partial"):
            epoch = event["epoch"]
            for metric in ("loss", "accuracy"):
                for split in ("train", "val"):
                    w.add_scalar(f"{metric}/{split}", event[f"{split}_{metric}"], epoch)
            w.add_scalar("lr", event["lr"], epoch)
            w.add_scalar("time/epoch_seconds", event["seconds"], epoch)
            w.add_scalar("time/images_per_second", event["images_per_s"], epoch)
        elif kind == "end" and event.get("test_accuracy") is not None:
            w.add_scalar("test/accuracy", event["test_accuracy"], event.get("epochs_run") or 0)

    def snapshot(self, snapshot) -> None:
        """One epoch's core.training.epoch_snapshots.Snapshot: the first filters as a picture, every layer's
        weight and gradient histograms (the counts the run folder keeps)."""
        from core.analysis.feature_maps import filter_grid

        w, step = self.writer, snapshot.epoch
        if snapshot.filters is not None:
            w.add_image("filters/first_layer", filter_grid(snapshot.filters, tile=32), step, dataformats="HWC")
        for kind, found in (("weights", snapshot.weights), ("gradients", snapshot.gradients)):
            for name, h in found.items():
                w.add_histogram_raw(
                    f"{kind}/{name}",
                    h.low,
                    h.high,
                    int(h.counts.sum()),
                    h.total,
                    h.squares,
                    h.edges[1:].tolist(),
                    h.counts.tolist(),
                    step,
                )

    def test_results(
        self, images: torch.Tensor, labels: torch.Tensor, predictions: torch.Tensor, matrix, step: int
    ) -> None:
        """The confusion matrix as a picture, and the first misclassified test images with their labels (the
        model's `predictions` of the test set, with whatever test-time averaging it used)."""
        self.writer.add_image("test/confusion_matrix", confusion_image(np.asarray(matrix)), step, dataformats="HWC")
        predictions = predictions.cpu()
        wrong = torch.nonzero(predictions != labels.cpu()).flatten()[:MISTAKES_SHOWN]
        if len(wrong):
            pictures = images[wrong].float().div(255).unsqueeze(1)
            self.writer.add_images("test/misclassified", pictures, step)
            lines = [
                f"{i + 1}. test image {int(n)}: true {CLASS_NAMES[int(labels[n])]}, "
                f"predicted {CLASS_NAMES[int(predictions[n])]}"
                for i, n in enumerate(wrong)
            ]
            self.writer.add_text("test/misclassified", "  \n".join(lines), step)

    def close(self) -> None:
        self.writer.close()


def confusion_image(matrix: np.ndarray) -> np.ndarray:
    """A 10x10 confusion matrix (rows: true class, columns: predicted) as an RGB uint8 picture with counts."""
    from PIL import Image, ImageDraw

    n = len(matrix)
    left, top = 4 * CELL, CELL
    image = Image.new("RGB", (left + n * CELL, top + n * CELL), "white")
    draw = ImageDraw.Draw(image)
    # the diagonal (correct) in blue against its largest count, mistakes in red against the largest mistake
    peak_right = max(int(np.diag(matrix).max()), 1)
    peak_wrong = max(int((matrix - np.diag(np.diag(matrix))).max()), 1)
    for i in range(n):
        draw.text((4, top + i * CELL + CELL // 3), CLASS_NAMES[i][:11], fill="black")
        draw.text((left + i * CELL + 4, CELL // 3), str(i), fill="black")
        for j in range(n):
            share = matrix[i, j] / (peak_right if i == j else peak_wrong)
            shade = int(255 * (1 - share))
            colour = (shade, shade, 255) if i == j else (255, shade, shade)
            x, y = left + j * CELL, top + i * CELL
            draw.rectangle((x, y, x + CELL - 1, y + CELL - 1), fill=colour, outline="#dddddd")
            draw.text((x + 4, y + CELL // 3), str(int(matrix[i, j])), fill="black" if share < 0.6 else "white")
    return np.asarray(image)
