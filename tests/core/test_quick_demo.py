"""The quick demo recipe: the command line's default, its architecture, and where bfloat16 is used."""

import json
import os
import subprocess
import sys
from pathlib import Path

import torch

from core.base.device import cpu_has_bf16
from core.cli.train import config_from_args, parser
from core.models import build, feature_layers
from core.training.config import TrainConfig
from core.training.recipes import preset_config
from core.training.trainer import use_bf16

ROOT = Path(__file__).resolve().parents[2]


def test_no_flags_train_the_quick_demo_recipe():
    assert config_from_args(parser().parse_args([])).to_dict() == preset_config("quick_demo").validate().to_dict()
    cfg = config_from_args(parser().parse_args(["--epochs", "2", "--limit", "5000"]))
    assert (cfg.arch, cfg.epochs, cfg.limit, cfg.val_fraction, cfg.schedule) == ("fast_cnn", 2, 5000, 0.0, "onecycle")


def test_arch_flag_starts_from_the_library_defaults():
    cfg = config_from_args(parser().parse_args(["--arch", "simple_cnn"]))
    defaults = TrainConfig(arch="simple_cnn").validate()
    assert cfg.to_dict() == defaults.to_dict()


def test_fast_cnn_pools_right_after_each_convolution():
    model = build("fast_cnn")
    assert feature_layers(model) == ["conv1.0", "conv1.1", "conv2.0", "conv2.1", "conv3.0", "conv3.1"]
    assert [model.conv1[0].out_channels, model.conv2[0].out_channels, model.conv3[0].out_channels] == [16, 32, 64]
    assert build("fast_cnn", {"width": 2}).conv3[0].out_channels == 128
    assert model.eval()(torch.zeros(3, 1, 28, 28)).shape == (3, 10)


def test_bfloat16_only_where_it_pays():
    cpu, cuda = torch.device("cpu"), torch.device("cuda")
    assert use_bf16(TrainConfig(arch="fast_cnn"), cpu) is cpu_has_bf16()
    assert use_bf16(TrainConfig(arch="resnet18"), cpu) is cpu_has_bf16()
    assert use_bf16(TrainConfig(arch="mlp"), cpu) is False  # no faster in bf16
    assert use_bf16(TrainConfig(arch="fast_cnn", amp=False), cpu) is False
    assert use_bf16(TrainConfig(arch="resnet18"), cuda) is True


def test_defaults_on_a_small_subset_reach_80_percent(data_dir, tmp_path):
    out = subprocess.run(
        [
            sys.executable,
            "-m",
            "core.train",
            "--limit",
            "5000",
            "--epochs",
            "2",
            "--data-dir",
            data_dir,
            "--out",
            str(tmp_path),
            "--json",
        ],
        cwd=ROOT,
        capture_output=True,
        text=True,
        timeout=300,
        env=os.environ,
    )
    assert out.returncode == 0, out.stderr
    events = [json.loads(line) for line in out.stdout.splitlines()]
    start, end = events[0], events[-1]
    assert (start["arch"], start["train_size"], start["val_size"]) == ("fast_cnn", 5000, 0)
    assert end["status"] == "completed" and end["test_accuracy"] >= 0.80
