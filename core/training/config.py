"""Training hyperparameters as one dataclass, validated before anything starts."""

import math
from dataclasses import asdict, dataclass, field, fields

from core.base.errors import StudioError
from core.models import get as get_architecture

OPTIMIZERS = ("sgd", "nesterov", "adam", "adamw")
SCHEDULES = ("none", "cosine", "onecycle")
DEVICES = ("auto", "cpu", "cuda", "mps")


@dataclass
class TrainConfig:
    arch: str = "simple_cnn"
    arch_settings: dict = field(default_factory=dict)
    epochs: int = 10
    batch_size: int = 128
    lr: float = 1e-3
    optimizer: str = "adam"
    momentum: float = 0.9
    weight_decay: float = 0.0
    schedule: str = "none"
    label_smoothing: float = 0.0
    augment: bool = False
    augment_shift: int = 2  # pixels of random shift when augmenting (0 = flips only)
    val_fraction: float = 0.1
    patience: int = 0  # epochs without a better validation loss before stopping; 0 = never stop early
    ema: float = 0.0  # decay of an exponential moving average of the weights; 0 = off
    test_time_flip: bool = False  # predict with the average of the image's and its mirror image's logits
    seed: int = 0
    device: str = "auto"
    amp: bool = True  # bfloat16 autocast on CUDA, and on CPUs with native bf16 where it pays
    limit: int | None = None  # train on the first N training images only
    half_checkpoint: bool = False  # store checkpoint weights as float16
    experiment: str | None = None  # id of the experiment (sweep) this run belongs to

    def validate(self) -> "TrainConfig":
        """Raise StudioError with one clear line for the first bad value; returns self."""
        arch = get_architecture(self.arch)
        self.arch_settings = arch.settings(self.arch_settings)
        _check(
            isinstance(self.epochs, int) and self.epochs >= 1,
            f"epochs must be a whole number >= 1, got {self.epochs!r}.",
        )
        _check(
            isinstance(self.batch_size, int) and self.batch_size >= 1,
            f"batch size must be a whole number >= 1, got {self.batch_size!r}.",
        )
        _check(_finite(self.lr) and self.lr > 0, f"learning rate must be > 0, got {self.lr!r}.")
        _check(self.lr <= 10, f"learning rate {self.lr!r} is too large (at most 10).")
        _check(
            self.optimizer in OPTIMIZERS,
            f"unknown optimizer {self.optimizer!r}; choose one of: {', '.join(OPTIMIZERS)}.",
        )
        _check(_finite(self.momentum) and 0 <= self.momentum < 1, f"momentum must be in [0, 1), got {self.momentum!r}.")
        _check(
            _finite(self.weight_decay) and self.weight_decay >= 0,
            f"weight decay must be >= 0, got {self.weight_decay!r}.",
        )
        _check(
            self.schedule in SCHEDULES, f"unknown schedule {self.schedule!r}; choose one of: {', '.join(SCHEDULES)}."
        )
        _check(
            _finite(self.label_smoothing) and 0 <= self.label_smoothing < 1,
            f"label smoothing must be in [0, 1), got {self.label_smoothing!r}.",
        )
        _check(
            _finite(self.val_fraction) and 0 <= self.val_fraction <= 0.5,
            f"validation fraction must be in [0, 0.5], got {self.val_fraction!r}.",
        )
        _check(
            isinstance(self.augment_shift, int) and 0 <= self.augment_shift <= 4,
            f"augment shift must be a whole number of pixels in 0-4, got {self.augment_shift!r}.",
        )
        _check(
            isinstance(self.patience, int) and self.patience >= 0,
            f"patience must be a whole number >= 0, got {self.patience!r}.",
        )
        _check(_finite(self.ema) and 0 <= self.ema < 1, f"EMA decay must be in [0, 1), got {self.ema!r}.")
        _check(
            not self.test_time_flip or self.augment,
            "test-time flip needs a model trained with flipped images: turn augmentation on.",
        )
        _check(self.device in DEVICES, f"unknown device {self.device!r}; choose one of: {', '.join(DEVICES)}.")
        _check(
            self.limit is None or (isinstance(self.limit, int) and self.limit >= 20),
            f"limit must be a whole number >= 20, got {self.limit!r}.",
        )
        _check(
            self.experiment is None
            or (isinstance(self.experiment, str) and self.experiment.isprintable() and 0 < len(self.experiment) <= 80),
            f"experiment must be a short name, got {self.experiment!r}.",
        )
        return self

    def to_dict(self) -> dict:
        d = asdict(self)
        d["arch_settings"] = {k: list(v) if isinstance(v, tuple) else v for k, v in self.arch_settings.items()}
        return d

    @classmethod
    def from_dict(cls, d: dict) -> "TrainConfig":
        known = {f.name for f in fields(cls)}
        return cls(**{k: v for k, v in d.items() if k in known})


def _finite(x) -> bool:
    return isinstance(x, (int, float)) and not isinstance(x, bool) and math.isfinite(x)


def _check(ok: bool, message: str) -> None:
    if not ok:
        raise StudioError(message)
