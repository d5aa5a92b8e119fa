"""Every run writes TensorBoard event files; TensorBoard's own reader finds the logged values in them."""

import numpy as np
import pytest
import torch
from tensorboard.backend.event_processing.event_accumulator import EventAccumulator

from core.analysis import inference
from core.data.classes import CLASS_NAMES
from core.io import checkpoint, runs
from core.training.config import TrainConfig
from core.training.tensorboard_log import confusion_image
from core.training.trainer import Trainer


def _read(run_dir) -> EventAccumulator:
    acc = EventAccumulator(str(run_dir), size_guidance={"scalars": 0, "images": 0, "tensors": 0})
    return acc.Reload()


def test_event_files_hold_the_epoch_metrics_batch_losses_and_test_pictures(fmnist):
    events = []
    result = Trainer(
        TrainConfig(arch="linear", limit=1000, epochs=2, batch_size=100, device="cpu"), fmnist, on_event=events.append
    ).run()
    acc = _read(result.run_dir)
    tags = acc.Tags()
    history = runs.read_metrics(result.run_dir)
    for metric in ("loss", "accuracy"):
        for split in ("train", "val"):
            logged = acc.Scalars(f"{metric}/{split}")
            assert [e.step for e in logged] == [1, 2]
            assert [e.value for e in logged] == pytest.approx([r[f"{split}_{metric}"] for r in history], rel=1e-6)
    assert [e.value for e in acc.Scalars("lr")] == pytest.approx([r["lr"] for r in history])
    batches = acc.Scalars("batch/train_loss")
    batch_events = [e for e in events if e["event"] == "batch"]
    assert len(batches) == len(batch_events) == 2 * 9  # 900 training images / 100
    assert [e.value for e in batches] == pytest.approx([e["loss"] for e in batch_events], rel=1e-6)
    assert acc.Scalars("test/accuracy")[0].value == pytest.approx(result.test_accuracy)
    assert {"test/confusion_matrix", "test/misclassified"} <= set(tags["images"])
    matrix = acc.Images("test/confusion_matrix")[0]
    assert (matrix.width, matrix.height) == (14 * 36, 11 * 36)
    assert acc.Images("test/misclassified")[0].width > 28
    # the mistakes listed are the first test images the best checkpoint gets wrong, with its answers
    [text] = acc.Tensors("test/misclassified/text_summary")
    lines = text.tensor_proto.string_val[0].decode().split("  \n")
    model = checkpoint.load(result.checkpoint).model
    predicted = inference.logits(model, fmnist.test_images).argmax(1)
    wrong = torch.nonzero(predicted != fmnist.test_labels).flatten()[:16].tolist()
    assert lines == [
        f"{i + 1}. test image {n}: true {CLASS_NAMES[int(fmnist.test_labels[n])]}, "
        f"predicted {CLASS_NAMES[int(predicted[n])]}"
        for i, n in enumerate(wrong)
    ]


def test_confusion_picture_is_shaded_by_count():
    matrix = np.diag(np.full(10, 100))
    matrix[1, 1] = 50
    matrix[6, 0], matrix[4, 2] = 40, 20
    picture = confusion_image(matrix)
    assert picture.shape == (11 * 36, 14 * 36, 3) and picture.dtype == np.uint8
    cell = lambda i, j: picture[36 + i * 36 + 2, 4 * 36 + j * 36 + 2]  # noqa: E731 (a corner pixel of a cell)
    assert tuple(cell(0, 0)) == (0, 0, 255)  # the most correct: full blue on the diagonal
    assert tuple(cell(1, 1)) == (127, 127, 255)  # half of that: half blue
    assert tuple(cell(6, 0)) == (255, 0, 0)  # the largest mistake: full red
    assert tuple(cell(4, 2)) == (255, 127, 127)  # half of it: half red
    assert tuple(cell(0, 1)) == (255, 255, 255)  # zero: white
