"""The Train page's settings widgets: the recipe, an architecture's own settings and the hyperparameters.

Every widget takes its value from st.session_state (set once from the default recipe, and again whenever
another recipe is chosen), so a recipe fills the whole form and every field stays editable.
"""

import streamlit as st

from core.models import ACTIVATIONS, REGISTRY, Architecture
from core.training.config import DEVICES, OPTIMIZERS, SCHEDULES
from core.training.recipes import DEFAULT_RECIPE, RECIPE_NAMES, RECIPES, get_recipe

LEARNING_RATES = sorted({1e-4, 3e-4, 1e-3, 3e-3, 1e-2, 3e-2, 0.1, 0.3} | {r.settings["lr"] for r in RECIPES})
WEIGHT_DECAYS = sorted({0.0, 1e-5, 1e-4, 5e-4, 1e-3, 1e-2} | {r.settings.get("weight_decay", 0.0) for r in RECIPES})
BATCH_SIZES = [32, 64, 128, 256, 512, 1024]
WIDTHS = {
    "simple_cnn": [1, 2, 3, 4, 6, 8],
    "two_conv": [1, 2, 3, 4],
    "resnet18": [0.125, 0.25, 0.5, 1.0],
    "fast_cnn": [1, 2, 4],
}
# TrainConfig field -> widget key
FIELDS = {
    "optimizer": "train_optimizer",
    "lr": "train_lr",
    "batch_size": "train_batch",
    "epochs": "train_epochs",
    "weight_decay": "train_wd",
    "schedule": "train_schedule",
    "label_smoothing": "train_ls",
    "augment": "train_augment",
    "augment_shift": "train_shift",
    "ema": "train_ema",
    "test_time_flip": "train_flip",
    "val_fraction": "train_val",
    "patience": "train_patience",
    "seed": "train_seed",
}
EMA_DECAYS = sorted({0.0, 0.99, 0.995, 0.999, 0.9995} | {r.settings.get("ema", 0.0) for r in RECIPES})
SETTING_KEYS = {
    "width": "width",
    "hidden": "hidden",
    "dropout": "dropout",
    "batch_norm": "bn",
    "activation": "activation",
}


def setting_key(arch: str, name: str) -> str:
    return f"train_{arch}_{SETTING_KEYS[name]}"


def form_values(recipe_name: str) -> dict:
    """Widget key -> value for every field of the form, from a recipe."""
    config = get_recipe(recipe_name).config().validate()
    values = {"train_arch": config.arch, "train_limit": config.limit or 0}
    values.update({key: getattr(config, name) for name, key in FIELDS.items()})
    for name, value in config.arch_settings.items():
        values[setting_key(config.arch, name)] = ",".join(str(h) for h in value) if name == "hidden" else value
    return values


def apply_recipe() -> None:
    """on_change of the recipe choice: fill the whole form."""
    st.session_state.update(form_values(st.session_state.train_recipe))


def recipe_picker() -> None:
    """The Recipe choice, what it shows and how long it takes; fills the form on first view and on change."""
    if "train_recipe" not in st.session_state:
        st.session_state.train_recipe = DEFAULT_RECIPE
        apply_recipe()
    name = st.selectbox(
        "Recipe",
        RECIPE_NAMES,
        key="train_recipe",
        on_change=apply_recipe,
        format_func=lambda n: get_recipe(n).title,
        help="A recipe fills every setting below; change any of them afterwards.",
    )
    recipe = get_recipe(name)
    edited = [k for k, v in form_values(name).items() if k in st.session_state and st.session_state[k] != v]
    st.caption(
        f"{recipe.shows} Takes {recipe.cpu_time} on a 2-core CPU."
        + (" *Some settings below differ from this recipe.*" if edited else "")
    )


def _default(key: str, value) -> None:
    st.session_state.setdefault(key, value)


def arch_settings(arch: Architecture) -> dict | None:
    """Widgets for the settings this architecture has; None (after an error) if one is invalid."""
    d, out = arch.defaults, {}
    for name, value in d.items():
        _default(setting_key(arch.name, name), ",".join(str(h) for h in value) if name == "hidden" else value)
    cols = st.columns(4)
    if "width" in d:
        out["width"] = cols[0].select_slider(
            "Width (channel multiplier)",
            WIDTHS[arch.name],
            key=setting_key(arch.name, "width"),
            help="Multiplies the number of channels in every convolution.",
        )
    if "hidden" in d:
        text = cols[0].text_input(
            "Hidden layer sizes", key=setting_key(arch.name, "hidden"), help="Comma separated, e.g. 512,256,128"
        )
        try:
            out["hidden"] = tuple(int(h) for h in text.split(",") if h.strip())
        except ValueError:
            st.error(f"Hidden layer sizes must be whole numbers separated by commas, not {text!r}.")
            return None
    if "dropout" in d:
        out["dropout"] = cols[1].slider(
            "Dropout",
            0.0,
            0.8,
            step=0.05,
            key=setting_key(arch.name, "dropout"),
            help="Share of units switched off at random in each training step.",
        )
    if "batch_norm" in d:
        out["batch_norm"] = cols[2].checkbox(
            "Batch norm",
            key=setting_key(arch.name, "batch_norm"),
            help="Normalise each layer's outputs over the batch: faster, steadier.",
        )
    if "activation" in d:
        out["activation"] = cols[1].selectbox("Activation", list(ACTIVATIONS), key=setting_key(arch.name, "activation"))
    return out


def architecture_choice() -> str:
    return st.selectbox(
        "Architecture", list(REGISTRY), format_func=lambda n: REGISTRY[n].display_name, key="train_arch"
    )


def hyperparameters() -> dict:
    """Widgets for the TrainConfig fields other than the architecture."""
    _default("train_device", "auto")
    c1, c2, c3, c4 = st.columns(4)
    h = {
        "optimizer": c1.selectbox("Optimizer", OPTIMIZERS, key="train_optimizer"),
        "lr": c1.select_slider("Learning rate", LEARNING_RATES, format_func=lambda v: f"{v:g}", key="train_lr"),
        "batch_size": c1.selectbox("Batch size", BATCH_SIZES, key="train_batch"),
        "epochs": int(c2.number_input("Epochs", 1, 200, key="train_epochs")),
        "weight_decay": c2.select_slider("Weight decay", WEIGHT_DECAYS, format_func=lambda v: f"{v:g}", key="train_wd"),
        "schedule": c2.selectbox(
            "Learning-rate schedule",
            SCHEDULES,
            key="train_schedule",
            help="cosine: decay to zero; onecycle: warm up, then decay.",
        ),
        "label_smoothing": c3.slider("Label smoothing", 0.0, 0.3, step=0.05, key="train_ls"),
        "augment": c3.checkbox("Augment (shift + flip)", key="train_augment"),
        "augment_shift": int(
            c3.number_input(
                "Largest shift (pixels)",
                0,
                4,
                key="train_shift",
                help="When augmenting: move each image by up to this many pixels.",
            )
        ),
        "test_time_flip": c3.checkbox(
            "Test-time flip",
            key="train_flip",
            help="Predict with the average over the image and its mirror image "
            "(needs augmentation, which trains on mirror images).",
        ),
        "val_fraction": c3.slider(
            "Validation fraction",
            0.0,
            0.5,
            step=0.05,
            key="train_val",
            help="Share of the training images held out to pick the best epoch.",
        ),
        "patience": int(c4.number_input("Early-stop patience (0 = off)", 0, 50, key="train_patience")),
        "ema": c4.select_slider(
            "Average of weights (EMA decay)",
            EMA_DECAYS,
            format_func=lambda v: f"{v:g}",
            key="train_ema",
            help="Evaluate and keep an exponential moving average of the "
            "weights (0 = off): smoother, often a bit better.",
        ),
        "seed": int(c4.number_input("Seed", 0, 2**31 - 1, key="train_seed")),
        "device": c4.selectbox("Device", DEVICES, key="train_device"),
    }
    limit = int(
        c1.number_input(
            "Images to train on (0 = all)",
            0,
            60000,
            step=1000,
            key="train_limit",
            help="Train on the first N of the 60,000 training images: a few thousand train in "
            "seconds, good for a demo.",
        )
    )
    h["limit"] = limit or None
    return h
