"""The Train page's settings widgets: an architecture's own settings and the training hyperparameters."""

import streamlit as st

from core.models import ACTIVATIONS
from core.models import Architecture
from core.training.config import DEVICES, OPTIMIZERS, SCHEDULES

LEARNING_RATES = [1e-4, 3e-4, 1e-3, 3e-3, 1e-2, 3e-2, 0.1, 0.3]
WEIGHT_DECAYS = [0.0, 1e-5, 1e-4, 5e-4, 1e-3, 1e-2]
BATCH_SIZES = [32, 64, 128, 256, 512, 1024]
WIDTHS = {"simple_cnn": [1, 2, 3, 4], "two_conv": [1, 2, 3, 4], "resnet18": [0.125, 0.25, 0.5, 1.0],
          "fast_cnn": [1, 2, 4]}


def arch_settings(arch: Architecture) -> dict | None:
    """Widgets for the settings this architecture has; None (after an error) if one is invalid."""
    d, out = arch.defaults, {}
    cols = st.columns(4)
    if "width" in d:
        out["width"] = cols[0].select_slider("Width (channel multiplier)", WIDTHS[arch.name], value=d["width"],
                                             key=f"train_{arch.name}_width",
                                             help="Multiplies the number of channels in every convolution.")
    if "hidden" in d:
        text = cols[0].text_input("Hidden layer sizes", ",".join(str(h) for h in d["hidden"]),
                                  key=f"train_{arch.name}_hidden", help="Comma separated, e.g. 512,256,128")
        try:
            out["hidden"] = tuple(int(h) for h in text.split(",") if h.strip())
        except ValueError:
            st.error(f"Hidden layer sizes must be whole numbers separated by commas, not {text!r}.")
            return None
    if "dropout" in d:
        out["dropout"] = cols[1].slider("Dropout", 0.0, 0.8, float(d["dropout"]), 0.05, key=f"train_{arch.name}_dropout",
                                        help="Share of units switched off at random in each training step.")
    if "batch_norm" in d:
        out["batch_norm"] = cols[2].checkbox("Batch norm", d["batch_norm"], key=f"train_{arch.name}_bn",
                                             help="Normalise each layer's outputs over the batch: faster, steadier.")
    if "activation" in d:
        out["activation"] = cols[1].selectbox("Activation", list(ACTIVATIONS), index=list(ACTIVATIONS).index(d["activation"]),
                                              key=f"train_{arch.name}_activation")
    return out


def hyperparameters() -> dict:
    """Widgets for the TrainConfig fields other than the architecture."""
    c1, c2, c3, c4 = st.columns(4)
    h = {
        "optimizer": c1.selectbox("Optimizer", OPTIMIZERS, index=OPTIMIZERS.index("adam"), key="train_optimizer"),
        "lr": c1.select_slider("Learning rate", LEARNING_RATES, value=1e-3, format_func=lambda v: f"{v:g}",
                               key="train_lr"),
        "batch_size": c1.selectbox("Batch size", BATCH_SIZES, index=BATCH_SIZES.index(128), key="train_batch"),
        "epochs": int(c2.number_input("Epochs", 1, 200, 3, key="train_epochs")),
        "weight_decay": c2.select_slider("Weight decay", WEIGHT_DECAYS, value=0.0, format_func=lambda v: f"{v:g}",
                                         key="train_wd"),
        "schedule": c2.selectbox("Learning-rate schedule", SCHEDULES, key="train_schedule",
                                 help="cosine: decay to zero; onecycle: warm up, then decay."),
        "label_smoothing": c3.slider("Label smoothing", 0.0, 0.3, 0.0, 0.05, key="train_ls"),
        "augment": c3.checkbox("Augment (shift + flip)", False, key="train_augment"),
        "val_fraction": c3.slider("Validation fraction", 0.0, 0.5, 0.1, 0.05, key="train_val",
                                  help="Share of the training images held out to pick the best epoch."),
        "patience": int(c4.number_input("Early-stop patience (0 = off)", 0, 50, 0, key="train_patience")),
        "seed": int(c4.number_input("Seed", 0, 2**31 - 1, 0, key="train_seed")),
        "device": c4.selectbox("Device", DEVICES, key="train_device"),
    }
    limit = int(c1.number_input("Images to train on (0 = all)", 0, 60000, 10000, step=1000,
                                key="train_limit", help="Train on the first N of the 60,000 training images: a few thousand train in seconds, good for a demo."))
    h["limit"] = limit or None
    return h
