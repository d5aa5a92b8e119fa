"""Training hyperparameters as one dataclass: the one schema of a training.

Each field carries its record (`core.base.settings.Setting`): help text, choices or range, whether a sweep
may vary it and where the Train form shows it. The command line's flags (core.cli.train), the sweepable
settings (core.training.sweeps), the Train form's widgets and `validate()` are built from these records.
"""

import copy
from dataclasses import asdict, dataclass, field, fields, replace

from core.base.errors import StudioError
from core.base.settings import Setting
from core.data.classes import CLASS_NAMES
from core.data.label_noise import KINDS as LABEL_NOISE_KINDS
from core.models import REGISTRY
from core.models import get as get_architecture

OPTIMIZERS = ("sgd", "nesterov", "adam", "adamw")
SCHEDULES = ("none", "cosine", "onecycle")
DEVICES = ("auto", "cpu", "cuda", "mps")


def setting(kind: str, default, help: str, **details):
    """A TrainConfig field with its record (named after the field once the class exists)."""
    record = Setting("", kind, default, help, **details)
    if isinstance(default, (dict, list)):
        return field(default_factory=lambda: copy.deepcopy(default), metadata={"setting": record})
    return field(default=default, metadata={"setting": record})


@dataclass
class TrainConfig:
    arch: str = setting(
        "choice",
        "simple_cnn",
        "architecture (with the library's default hyperparameters)",
        noun="architecture",
        choices=lambda: tuple(REGISTRY),
        sweepable=True,
    )
    arch_settings: dict = setting(
        "settings", {}, "the architecture's own settings, declared with the architecture", optional=True, flag=False
    )
    epochs: int = setting(
        "int", 10, "passes over the training images", low=1, usual_high=200, sweepable=True, group="optimisation"
    )
    batch_size: int = setting(
        "int",
        128,
        "images per training step",
        low=1,
        suggested=(32, 64, 128, 256, 512, 1024),
        sweepable=True,
        group="optimisation",
    )
    lr: float = setting(
        "float",
        1e-3,
        "learning rate: how far each step moves the weights",
        noun="learning rate",
        label="Learning rate",
        low=0,
        low_open=True,
        cap=10,
        suggested=(1e-4, 3e-4, 1e-3, 3e-3, 1e-2, 3e-2, 0.1, 0.3),
        sweepable=True,
        group="optimisation",
    )
    optimizer: str = setting(
        "choice",
        "adam",
        "how the weights follow the gradients: sgd, nesterov (sgd with Nesterov momentum), adam or adamw "
        "(adam with decoupled weight decay)",
        choices=OPTIMIZERS,
        sweepable=True,
        group="optimisation",
    )
    momentum: float = setting(
        "float", 0.9, "momentum of sgd and nesterov", low=0, high=1, high_open=True, sweepable=True
    )
    weight_decay: float = setting(
        "float",
        0.0,
        "pull of every weight towards zero at each step (decoupled for adamw)",
        low=0,
        suggested=(0.0, 1e-5, 1e-4, 5e-4, 1e-3, 1e-2),
        sweepable=True,
        group="regularisation",
    )
    schedule: str = setting(
        "choice",
        "none",
        "learning-rate schedule: none (constant), cosine (decay to zero) or onecycle (warm up, then decay)",
        label="Learning-rate schedule",
        choices=SCHEDULES,
        sweepable=True,
        group="optimisation",
    )
    label_smoothing: float = setting(
        "float",
        0.0,
        "share of each target spread over the other classes: the model learns to be less sure",
        low=0,
        high=1,
        high_open=True,
        step=0.05,
        usual_high=0.3,
        sweepable=True,
        group="regularisation",
    )
    augment: bool = setting(
        "bool",
        False,
        "random shifts (up to the largest shift) and horizontal flips of the training images, done on the device",
        label="Augment (shift + flip)",
        sweepable=True,
        group="regularisation",
    )
    augment_shift: int = setting(  # 0 = flips only
        "int",
        2,
        "largest random shift in pixels when augmenting (0-4)",
        label="Largest shift (pixels)",
        low=0,
        high=4,
        unit="pixels",
        sweepable=True,
        group="regularisation",
    )
    augment_erase: float = setting(
        "float",
        0.0,
        "share of the training images in which one random rectangle (2-25% of the picture) is replaced by noise "
        "when augmenting (0 = off): the model cannot lean on any one part of the garment",
        noun="erase share",
        label="Random erasing (share of images)",
        low=0,
        high=1,
        step=0.05,
        suggested=(0.0, 0.25, 0.5),
        sweepable=True,
        group="regularisation",
    )
    val_fraction: float = setting(
        "float",
        0.1,
        "share of the 60,000 training images kept for validation, to pick the best epoch",
        noun="validation fraction",
        label="Validation fraction",
        low=0,
        high=0.5,
        step=0.05,
        sweepable=True,
        group="evaluation",
    )
    patience: int = setting(
        "int",
        0,
        "early stop after this many epochs without a better validation loss (0 = never)",
        label="Early-stop patience (0 = off)",
        low=0,
        usual_high=50,
        sweepable=True,
        group="evaluation",
    )
    ema: float = setting(
        "float",
        0.0,
        "exponential moving average of the weights, decay e.g. 0.999 (0 = off): smoother, often a bit better",
        noun="EMA decay",
        label="Average of weights (EMA decay)",
        low=0,
        high=1,
        high_open=True,
        suggested=(0.0, 0.99, 0.995, 0.999, 0.9995),
        sweepable=True,
        group="regularisation",
    )
    whiten: bool = setting(
        "bool",
        False,
        "start the first convolution from the whitening filters of the training patches (their principal "
        "directions) instead of random ones: a faster start (convolutional nets)",
        label="Whitened first layer",
        sweepable=True,
        group="optimisation",
    )
    test_time_flip: bool = setting(
        "bool",
        False,
        "predict with the average over the image and its mirror image (needs augmentation, which trains on mirror images)",
        label="Test-time flip",
        group="evaluation",
    )
    test_time_shift: bool = setting(
        "bool",
        False,
        "with test-time flip, also average over the image and its mirror moved one pixel up, down, left and right "
        "(ten passes instead of two)",
        label="Test-time shifts",
        group="evaluation",
    )
    seed: int = setting(
        "int",
        0,
        "random seed of the split, the initial weights and the batch order",
        low=0,
        usual_high=2**31 - 1,
        sweepable=True,
        group="run",
    )
    device: str = setting(
        "choice", "auto", "where to train; auto takes CUDA, then Apple MPS, then the CPU", choices=DEVICES, group="run"
    )
    amp: bool = setting("bool", True, "bfloat16 autocast on CUDA, and on CPUs with native bf16 where it pays")
    limit: int | None = setting(
        "int",
        None,
        "train on the first N training images only",
        label="Images to train on (0 = all)",
        low=20,
        optional=True,
        usual_high=60000,
        step=1000,
        sweepable=True,
        group="run",
    )
    label_noise: float = setting(
        "float",
        0.0,
        "replace this fraction of the training labels with another class",
        label="Label noise",
        low=0,
        high=0.9,
        step=0.05,
        sweepable=True,
        group="data",
    )
    label_noise_kind: str = setting(
        "choice",
        "uniform",
        "which class a noisy label gets: uniform (any other class) or confusable (a look-alike: Shirt for "
        "T-shirt/top, Sneaker for Sandal)",
        label="Kind of label noise",
        choices=LABEL_NOISE_KINDS,
        sweepable=True,
        group="data",
    )
    per_class: int | None = setting(
        "int",
        None,
        "train on at most N images of each class",
        noun="images per class",
        label="Images per class (0 = all)",
        low=1,
        optional=True,
        usual_high=6000,
        step=100,
        sweepable=True,
        group="data",
    )
    classes: list[str] | None = setting(
        "names",
        None,
        "train on these classes only (at least 2), e.g. Shirt,T-shirt/top,Pullover",
        label="Classes (none chosen = all ten)",
        choices=CLASS_NAMES,
        low=2,
        unit="class",
        optional=True,
        group="data",
    )
    drop_suspects: int = setting(
        "int",
        0,
        "leave out the N training images whose labels the shipped out-of-fold ranking doubts most (Data lab)",
        noun="suspects left out",
        label="Leave out top suspect labels",
        low=0,
        high=30000,
        usual_high=5000,
        step=100,
        sweepable=True,
        group="data",
    )
    half_checkpoint: bool = setting("bool", False, "store checkpoint weights as float16")
    experiment: str | None = setting(
        "text",
        None,
        "id of the experiment (sweep) this run belongs to",
        high=80,
        rule="must be a short name",
        optional=True,
        flag=False,
    )

    def validate(self) -> "TrainConfig":
        """Check every field by its record (the architecture's settings by the architecture's records) and
        normalise it; raise StudioError with one clear line for the first bad value; returns self."""
        for f in fields(self):
            record, value = SETTINGS[f.name], getattr(self, f.name)
            record.check(value)
            if record.kind == "settings":
                value = get_architecture(self.arch).settings(value)
            setattr(self, f.name, record.normalise(value))
        if self.test_time_flip and not self.augment:
            raise StudioError("test-time flip needs a model trained with flipped images: turn augmentation on.")
        if self.test_time_shift and not self.test_time_flip:
            raise StudioError("test-time shifts average the mirror images too: turn test-time flip on.")
        return self

    def to_dict(self) -> dict:
        d = asdict(self)
        d["arch_settings"] = {k: list(v) if isinstance(v, tuple) else v for k, v in self.arch_settings.items()}
        return d

    @classmethod
    def from_dict(cls, d: dict) -> "TrainConfig":
        known = {f.name for f in fields(cls)}
        return cls(**{k: v for k, v in d.items() if k in known})


# Every field's record, named after its field: the one schema of a training.
SETTINGS: dict[str, Setting] = {f.name: replace(f.metadata["setting"], name=f.name) for f in fields(TrainConfig)}
