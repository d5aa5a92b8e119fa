"""Our way: core.training.trainer.Trainer itself, timed from its own per-epoch records."""

import tempfile
import time

from core.analysis import inference
from core.training.config import TrainConfig
from core.training.recipes import preset_config
from core.training.trainer import Trainer


def images_per_s(arch: str, batch_size: int, n: int, data, device: str = "auto") -> float:
    """Images/s of the second of two epochs over the first n images, as the Trainer reports it."""
    cfg = TrainConfig(
        arch=arch, batch_size=batch_size, lr=1e-3, optimizer="adam", epochs=2, val_fraction=0.0, limit=n, device=device
    )
    with tempfile.TemporaryDirectory(prefix="bench-runs-") as root:
        result = Trainer(cfg, data, runs_root=root).run()
    return result.history[-1]["images_per_s"]


class _TargetTrainer(Trainer):
    """A Trainer that tests after each epoch (off the clock) and stops once every target is reached."""

    def __init__(self, *a, targets=(), budget_s=600.0, **kw):
        super().__init__(*a, **kw)
        self.targets, self.budget_s = sorted(targets), budget_s
        self.reached, self.history_test, self.excluded, self.t0 = {}, [], 0.0, time.perf_counter()

    def _record_epoch(self, epoch, eval_model, *a, **kw):
        improved = super()._record_epoch(epoch, eval_model, *a, **kw)
        trained = time.perf_counter() - self.t0 - self.excluded
        start = time.perf_counter()
        accuracy = inference.metrics(eval_model, self.data.test_images, self.data.test_labels)["accuracy"]
        self.excluded += time.perf_counter() - start
        self.history_test.append((trained, accuracy))
        for t in self.targets:
            if accuracy >= t and t not in self.reached:
                self.reached[t] = trained
        if len(self.reached) == len(self.targets) or trained >= self.budget_s:
            self.stop()
        return improved


def time_to_accuracy(targets, budget_s: float, data, preset="simple_cnn_fast", limit=None, device="auto") -> dict:
    """Train the preset, test after each epoch; seconds of training (tests excluded) to each target."""
    cfg = preset_config(preset)
    cfg.limit, cfg.device = limit, device
    with tempfile.TemporaryDirectory(prefix="bench-runs-") as root:
        trainer = _TargetTrainer(cfg, data, runs_root=root, targets=targets, budget_s=budget_s)
        trainer.t0 = time.perf_counter()
        trainer.run()
    history = trainer.history_test
    return {
        "reached": trainer.reached,
        "best": max(a for _, a in history),
        "epochs": len(history),
        "seconds": history[-1][0],
        "history": history,
    }
