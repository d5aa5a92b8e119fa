"""The training loop: whole dataset as device tensors, batched augmentation, progress events, safe stops."""

import copy
import math
import threading
import time
import warnings
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path

import torch
import torch.nn.functional as F
from torch import nn

from core.analysis import inference
from core.base.device import configure_threads, cpu_has_bf16, describe, pick_device
from core.data.augment import augment
from core.data.classes import MEAN, STD
from core.data.dataset import FashionMNIST
from core.io import checkpoint, runs
from core.models import build, count_parameters, fast_layout
from core.models import get as get_architecture
from core.training import distributed, epoch_snapshots, resume, training_set, whiten
from core.training.config import TrainConfig
from core.training.ema import averaged
from core.training.tensorboard_log import TensorBoardLog

NAN_MESSAGE = (
    "the loss became {value} at epoch {epoch}, batch {batch}: training diverged. "
    "Try a lower learning rate (now {lr:g})."
)
LOG_EVERY = 10  # batches between host syncs for per-batch loss events
# metadata fields that checkpoint.save writes itself (the trainer passes the rest)
CHECKPOINT_FIELDS = set("format arch arch_settings normalization class_names dtype versions created_at".split())


@dataclass
class TrainResult:
    status: str  # completed | early_stopped | stopped | diverged
    message: str
    run_dir: Path
    best_epoch: int | None
    best_val_loss: float | None
    best_val_accuracy: float | None
    test_accuracy: float | None
    epochs_run: int
    seconds: float
    history: list = field(default_factory=list)

    @property
    def checkpoint(self) -> Path:
        return self.run_dir / runs.BEST


class Trainer:
    """Trains one run. Subscribe with `on_event`; call `stop()` from any thread to end within one batch."""

    def __init__(
        self,
        config: TrainConfig,
        data: FashionMNIST,
        runs_root=None,
        on_event: Callable[[dict], None] | None = None,
        run_dir: Path | None = None,
        name: str | None = None,
        command: str | None = None,
        tensorboard: bool = True,
        dist: distributed.Single | None = None,
    ):
        self.config = config.validate()
        self.dist = dist or distributed.Single()  # torchrun: this process's place in the group
        self.tensorboard = tensorboard and self.dist.is_main
        self._tb: TensorBoardLog | None = None
        self.data = data
        self.on_event = on_event or (lambda event: None)
        self.stop_event = threading.Event()
        self.name = name
        self.command = command
        self.runs_root = runs_root
        self.run_dir = run_dir
        self.start_epoch = 1
        self.history: list[dict] = []
        self.best = {"epoch": None, "val_loss": math.inf, "val_accuracy": None}
        self.bad_epochs = 0
        self.elapsed_before = 0.0
        self._resume_state = None
        self._best_saved: tuple[dict, dict] | None = None  # (weights, metadata) as last written to best.pt

    def stop(self) -> None:
        self.stop_event.set()

    @classmethod
    def resume(
        cls, run_dir, data: FashionMNIST, epochs: int | None = None, state: dict | None = None, **kw
    ) -> "Trainer":
        """Continue a stopped or interrupted run from its last completed epoch (its last.pt), in the same folder.

        `state` is what `resume.load_state(run_dir, epochs)` returned, for a caller that has already read it."""
        if state is None:
            state = resume.load_state(run_dir, epochs)
        run_dir = resume.run_folder(run_dir)
        config = TrainConfig.from_dict(state["config"])
        if epochs is not None:
            config.epochs = epochs
            recorded = runs.read_json(run_dir / runs.CONFIG) or config.to_dict()
            runs.write_json(run_dir / runs.CONFIG, {**recorded, "epochs": epochs})
        trainer = cls(config, data, run_dir=run_dir, **kw)
        trainer._resume_state = state
        trainer.start_epoch = state["epoch"] + 1
        trainer.history = resume.continue_history(run_dir, state["epoch"])
        trainer.best = dict(state["best"])
        trainer.bad_epochs = state["bad_epochs"]
        trainer.elapsed_before = state["elapsed"]
        return trainer

    # ---- the loop ---------------------------------------------------------------------------

    def run(self) -> TrainResult:
        cfg = self.config
        configure_threads()
        device = self.dist.start(pick_device(cfg.device))
        torch.manual_seed(cfg.seed)
        if device.type == "cuda":
            torch.backends.cudnn.benchmark = True

        chosen = training_set.choose(self.data, cfg)  # limit, budgets, label noise, left-out suspects
        x_train = self.data.train_images[chosen.train].to(device)
        y_train = chosen.train_labels.to(device)
        x_val, y_val = self.data.train_images[chosen.val], self.data.train_labels[chosen.val]
        self.data = chosen.test_data(self.data)  # a subset of the classes is tested on those classes
        n = len(x_train)

        model = build(cfg.arch, cfg.arch_settings)
        if cfg.whiten:  # a data-dependent start for the first convolution (a resumed run loads its weights below)
            whiten.init_first_conv(model, x_train)
        layout = fast_layout(model, device)
        model = model.to(device, memory_format=layout)
        optimizer = _optimizer(cfg, model, device)
        steps_per_epoch = math.ceil(n / cfg.batch_size)
        if n > 1 and n % cfg.batch_size == 1:  # batch norm cannot train on a last batch of one image: drop it
            steps_per_epoch -= 1
        scheduler = _scheduler(cfg, optimizer, steps_per_epoch * cfg.epochs)
        ema = averaged(model, cfg.ema) if cfg.ema else None
        if self._resume_state:
            model.load_state_dict(self._resume_state["model"])
            optimizer.load_state_dict(self._resume_state["optimizer"])
            if scheduler and self._resume_state.get("scheduler"):
                if self._resume_state["config"]["epochs"] == cfg.epochs:
                    scheduler.load_state_dict(self._resume_state["scheduler"])
                else:  # a new length: the schedule is planned again for it and wound on to where the run stopped
                    _wind_on(scheduler, optimizer, steps_per_epoch * (self.start_epoch - 1))
            if ema is not None and self._resume_state.get("ema"):
                ema.load_state_dict(self._resume_state["ema"])
        train_model = self.dist.wrap(model)
        if self.run_dir is None and self.dist.is_main:
            self.run_dir = runs.create_run(self.runs_root, cfg.arch, cfg.to_dict())
        if self.dist.is_main:
            chosen.record(self.run_dir, self.data.train_labels)
        eval_model = ema.module if ema is not None else model
        if self.tensorboard:
            self._tb = TensorBoardLog.open(self.run_dir)
        amp = use_bf16(cfg, device)

        self._emit(
            "start",
            run_dir=str(self.run_dir),
            arch=cfg.arch,
            device=describe(device),
            train_size=n,
            val_size=len(x_val),
            epochs=cfg.epochs,
            steps_per_epoch=steps_per_epoch,
            parameters=count_parameters(model),
            start_epoch=self.start_epoch,
            bf16=amp,
            processes=self.dist.world,
        )
        started = time.perf_counter()
        status, message, epoch = "completed", "", self.start_epoch - 1
        aug_gen = torch.Generator(device=device)
        perm_gen = torch.Generator()

        for epoch in range(self.start_epoch, cfg.epochs + 1):
            epoch_start = time.perf_counter()
            torch.manual_seed(cfg.seed * 1000 + epoch)
            perm_gen.manual_seed(cfg.seed * 1000 + epoch)
            aug_gen.manual_seed(cfg.seed * 1000 + epoch + 7919 * self.dist.rank)
            perm = torch.randperm(n, generator=perm_gen).to(device)
            model.train()
            loss_sum = torch.zeros((), device=device)
            correct = torch.zeros((), device=device, dtype=torch.long)
            seen, pending = 0, []
            for b in range(steps_per_epoch):
                if self.dist.any(self.stop_event.is_set()):
                    status, message = "stopped", f"stopped by request during epoch {epoch}"
                    break
                idx = self.dist.shard(perm[b * cfg.batch_size : (b + 1) * cfg.batch_size])
                x = x_train[idx].float().div_(255).unsqueeze_(1)
                if cfg.augment:
                    x = augment(x, shift=cfg.augment_shift, erase=cfg.augment_erase, generator=aug_gen)
                x = (x - MEAN) / STD
                x = x.contiguous(memory_format=layout)
                y = y_train[idx]
                with torch.autocast(device.type, dtype=torch.bfloat16, enabled=amp):
                    out = train_model(x)
                    loss = F.cross_entropy(out.float(), y, label_smoothing=cfg.label_smoothing)
                optimizer.zero_grad(set_to_none=True)
                loss.backward()
                optimizer.step()
                if scheduler:
                    scheduler.step()
                if ema is not None:
                    ema.update_parameters(model)
                loss_sum += loss.detach() * len(idx)
                correct += (out.detach().argmax(1) == y).sum()
                seen += len(idx)
                pending.append(loss.detach())
                if len(pending) == LOG_EVERY or b == steps_per_epoch - 1:
                    bad = self._flush_batches(pending, epoch, b, steps_per_epoch, optimizer)
                    pending = []
                    if bad is not None:
                        status, message = "diverged", NAN_MESSAGE.format(value=bad, epoch=epoch, batch=b + 1, lr=cfg.lr)
                        break
            if status in ("stopped", "diverged"):
                if status == "stopped" and self.best["epoch"] is None and seen:
                    self._record_epoch(
                        epoch,
                        eval_model,
                        x_val,
                        y_val,
                        loss_sum,
                        correct,
                        seen,
                        optimizer,
                        epoch_start,
                        started,
                        partial=True,
                    )
                break
            improved = self._record_epoch(
                epoch, eval_model, x_val, y_val, loss_sum, correct, seen, optimizer, epoch_start, started
            )
            if self.dist.is_main:  # the first filters and the weight and gradient histograms of this epoch
                epoch_snapshots.record(self.run_dir, epoch, model, self._tb)
            self._save_state(epoch, model, optimizer, scheduler, ema, started)
            if cfg.patience and not improved:
                self.bad_epochs += 1
                if self.bad_epochs >= cfg.patience:
                    status = "early_stopped"
                    message = (
                        f"early stop: validation loss has not improved for {cfg.patience} epochs "
                        f"(best at epoch {self.best['epoch']})"
                    )
                    break
        seconds = self.elapsed_before + time.perf_counter() - started
        return self._finish(status, message, epoch, seconds, device)

    # ---- pieces -----------------------------------------------------------------------------

    def _emit(self, kind: str, **payload) -> None:
        event = {"event": kind, **payload}
        if self._tb is not None:
            self._tb.on_event(event)
        self.on_event(event)

    def _flush_batches(self, pending, epoch, last_batch, steps, optimizer) -> float | None:
        """One host sync for several batches: emit their losses, return a non-finite value if any."""
        values = self.dist.mean(torch.stack(pending)).tolist()
        first = last_batch - len(values) + 1
        for i, value in enumerate(values):
            if not math.isfinite(value):
                return value
            step = (epoch - 1) * steps + first + i + 1
            self._emit(
                "batch",
                epoch=epoch,
                batch=first + i + 1,
                batches=steps,
                step=step,
                loss=value,
                lr=optimizer.param_groups[0]["lr"],
            )
        return None

    def _record_epoch(
        self, epoch, eval_model, x_val, y_val, loss_sum, correct, seen, optimizer, epoch_start, started, partial=False
    ) -> bool:
        train_seconds = time.perf_counter() - epoch_start
        loss_sum, correct, seen = self.dist.sum(loss_sum, correct, seen)
        self.dist.broadcast_buffers(eval_model)
        record = {
            "epoch": epoch,
            "train_loss": (loss_sum / seen).item(),
            "train_accuracy": correct.item() / seen,
            "lr": optimizer.param_groups[0]["lr"],
            "images_per_s": seen / max(train_seconds, 1e-9),
        }
        if len(x_val):
            cfg = self.config
            val = inference.metrics(eval_model, x_val, y_val, flip=cfg.test_time_flip, shift=cfg.test_time_shift)
            record.update(val_loss=val["loss"], val_accuracy=val["accuracy"])
        else:  # no validation split: the latest weights are the best we know
            record.update(val_loss=record["train_loss"], val_accuracy=record["train_accuracy"])
        elapsed = self.elapsed_before + time.perf_counter() - started
        done = epoch - self.start_epoch + 1
        record.update(
            seconds=time.perf_counter() - epoch_start,
            elapsed=elapsed,
            eta=(time.perf_counter() - started) / done * (self.config.epochs - epoch),
        )
        if partial:
            record["partial"] = True
        improved = record["val_loss"] < self.best["val_loss"] or self.best["epoch"] is None
        if improved:
            self.best = {"epoch": epoch, "val_loss": record["val_loss"], "val_accuracy": record["val_accuracy"]}
            self.bad_epochs = 0
            if self.dist.is_main:
                self._save_best(eval_model, elapsed)
        record["best"] = improved
        self.history.append(record)
        if self.dist.is_main:
            runs.append_metrics(self.run_dir, record)
        self._emit("epoch", **record)
        return improved

    def _save_best(self, eval_model, elapsed) -> None:
        """Write best.pt and keep what it holds, so that the end of the run need not read it back."""
        cfg = self.config
        metadata = self._metadata(elapsed)
        checkpoint.save(
            self.run_dir / runs.BEST, eval_model, cfg.arch, cfg.arch_settings, metadata, half=cfg.half_checkpoint
        )
        weights = {k: v.detach().to("cpu", copy=True) for k, v in eval_model.state_dict().items()}
        if cfg.half_checkpoint:  # as the file rounds them
            weights = {k: v.half() if v.is_floating_point() else v for k, v in weights.items()}
        self._best_saved = (weights, metadata)

    def _best_model(self, best_path, device) -> tuple[nn.Module, dict]:
        """The best weights as best.pt holds them (eval mode, on `device`) and its metadata (the fields the
        trainer writes): from memory, or from best.pt if this session saved none (a resumed run that has not
        improved on it)."""
        if self._best_saved is None:
            best = checkpoint.load(best_path, device)
            return best.model, {k: v for k, v in best.metadata.items() if k not in CHECKPOINT_FIELDS}
        weights, metadata = self._best_saved
        model = build(self.config.arch, self.config.arch_settings)
        expected = model.state_dict()
        model.load_state_dict({k: v.to(expected[k].dtype) for k, v in weights.items()})
        return model.to(device, memory_format=fast_layout(model, device)).eval(), copy.deepcopy(metadata)

    def _metadata(self, elapsed, **extra) -> dict:
        return {
            "name": self.name or self.run_dir.name,
            "run_id": self.run_dir.name,
            "config": self.config.to_dict(),
            "metrics": {
                "best_epoch": self.best["epoch"],
                "val_loss": self.best["val_loss"],
                "val_accuracy": self.best["val_accuracy"],
                **extra,
            },
            "training_seconds": round(elapsed, 1),
            "device": describe(pick_device(self.config.device)),
            "command": self.command or "",
            "epochs_run": len(self.history),
        }

    def _save_state(self, epoch, model, optimizer, scheduler, ema, started) -> None:
        if not self.dist.is_main:
            return
        state = {
            "epoch": epoch,
            "config": self.config.to_dict(),
            "model": model.state_dict(),
            "optimizer": optimizer.state_dict(),
            "scheduler": scheduler.state_dict() if scheduler else None,
            "ema": ema.state_dict() if ema is not None else None,
            "best": self.best,
            "bad_epochs": self.bad_epochs,
            "elapsed": self.elapsed_before + time.perf_counter() - started,
        }
        runs.write_state(self.run_dir, state)

    def _finish(self, status, message, epoch, seconds, device) -> TrainResult:
        test_accuracy = None
        best_path = self.run_dir / runs.BEST if self.dist.is_main else None
        if best_path is not None and best_path.is_file():
            cfg = self.config
            model, meta = self._best_model(best_path, device)
            flip, shift = cfg.test_time_flip, cfg.test_time_shift
            z = inference.logits(model, self.data.test_images, flip=flip, shift=shift)
            test = inference.scores(z, self.data.test_labels)
            if self._tb is not None:
                self._tb.test_results(
                    self.data.test_images,
                    self.data.test_labels,
                    z.argmax(1),
                    test["confusion_matrix"],
                    len(self.history),
                )
            test_accuracy = test["accuracy"]
            shirt = test["per_class_accuracy"][6]
            meta["metrics"].update(test_accuracy=test_accuracy, test_shirt_accuracy=shirt)
            meta["training_seconds"] = round(seconds, 1)
            meta["epochs_run"] = len(self.history)
            checkpoint.save(best_path, model, cfg.arch, cfg.arch_settings, meta, half=cfg.half_checkpoint)
        if not message:
            message = f"completed {epoch} epochs"
        result = TrainResult(
            status,
            message,
            self.run_dir,
            self.best["epoch"],
            None if self.best["epoch"] is None else self.best["val_loss"],
            self.best["val_accuracy"],
            test_accuracy,
            len(self.history),
            seconds,
            self.history,
        )
        summary = {
            "status": status,
            "message": message,
            "best_epoch": result.best_epoch,
            "best_val_loss": result.best_val_loss,
            "best_val_accuracy": result.best_val_accuracy,
            "test_accuracy": test_accuracy,
            "epochs_run": result.epochs_run,
            "seconds": round(seconds, 2),
        }
        if self.dist.is_main:
            runs.write_json(self.run_dir / runs.SUMMARY, summary)
        self._emit("end", **summary, run_dir=str(self.run_dir))
        if self._tb is not None:
            self._tb.close()
        return result


def use_bf16(cfg: TrainConfig, device: torch.device) -> bool:
    """bfloat16 autocast: on CUDA; on a CPU with native bf16 (AMX or AVX-512 BF16) for the architectures it
    measurably speeds up (1.5-3x for the CNNs, 1.5x for ResNet-18; not the MLP); float32 elsewhere."""
    if not cfg.amp:
        return False
    if device.type == "cuda":
        return True
    return device.type == "cpu" and get_architecture(cfg.arch).cpu_bf16 and cpu_has_bf16()


def _optimizer(cfg: TrainConfig, model: nn.Module, device: torch.device) -> torch.optim.Optimizer:
    params = model.parameters()
    # One fused kernel per step instead of a dozen small ops per parameter (1.3x for the MLP on a CPU).
    fused = {"fused": True} if device.type in ("cpu", "cuda") else {}
    if cfg.optimizer in ("sgd", "nesterov"):
        return torch.optim.SGD(
            params,
            lr=cfg.lr,
            momentum=cfg.momentum,
            weight_decay=cfg.weight_decay,
            nesterov=cfg.optimizer == "nesterov" and cfg.momentum > 0,
        )
    if cfg.optimizer == "adam":
        return torch.optim.Adam(params, lr=cfg.lr, weight_decay=cfg.weight_decay, **fused)
    return torch.optim.AdamW(params, lr=cfg.lr, weight_decay=cfg.weight_decay, **fused)


def _wind_on(scheduler, optimizer, steps: int) -> None:
    """Step a freshly planned schedule `steps` times from its start, as if it had been the plan all along."""
    for group in optimizer.param_groups:
        group["lr"] = group.get("initial_lr", group["lr"])
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")  # "scheduler.step() before optimizer.step()": intended here
        for _ in range(steps):
            scheduler.step()


def _scheduler(cfg: TrainConfig, optimizer, total_steps: int):
    if cfg.schedule == "cosine":
        return torch.optim.lr_scheduler.CosineAnnealingLR(optimizer, T_max=total_steps)
    if cfg.schedule == "onecycle":
        return torch.optim.lr_scheduler.OneCycleLR(optimizer, max_lr=cfg.lr, total_steps=total_steps)
    return None
