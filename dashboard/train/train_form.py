"""The Train page's settings widgets: the recipe, an architecture's own settings and the hyperparameters.

Every widget is built from a setting's record: the training's (core.training.config.SETTINGS, placed by
their group) and the architecture's own (declared in its file). Each takes its value from
st.session_state (set once from the default recipe, and again whenever another recipe is chosen), so a
recipe fills the whole form and every field stays editable.
"""

import streamlit as st

from core.base.settings import Setting
from core.models import REGISTRY, Architecture
from core.training.config import SETTINGS
from core.training.recipes import DEFAULT_RECIPE, RECIPE_NAMES, RECIPES, get_recipe

COLUMNS = ("optimisation", "regularisation", "evaluation", "run")  # groups of settings shown side by side
DATA = "data"  # the group shown in the "Data" expander
# Widget keys of training settings, where shorter than "train_<field>".
KEYS = {
    "batch_size": "train_batch",
    "weight_decay": "train_wd",
    "label_smoothing": "train_ls",
    "augment_shift": "train_shift",
    "test_time_flip": "train_flip",
    "val_fraction": "train_val",
}
INVALID = object()  # what a widget returns when its text cannot be read (the error is on the page)


def field_key(name: str) -> str:
    return KEYS.get(name, f"train_{name}")


def setting_key(arch: str, name: str) -> str:
    return f"train_{arch}_{name}"


def group(name: str) -> list[Setting]:
    """The training settings the form shows in one group, in TrainConfig's order."""
    return [record for record in SETTINGS.values() if record.group == name]


def widget_value(record: Setting, value):
    """A setting's value as its widget holds it (sizes as "512,256", no limit as 0, no classes as [])."""
    if record.kind == "sizes":
        return ",".join(str(v) for v in value)
    if record.kind == "int" and record.optional:
        return value or 0
    if record.kind == "names":
        return list(value or [])
    return value


def form_values(recipe_name: str) -> dict:
    """Widget key -> value for every field of the form, from a recipe."""
    config = get_recipe(recipe_name).config().validate()
    values = {"train_arch": config.arch}
    for name in (*COLUMNS, DATA):
        values.update({field_key(r.name): widget_value(r, getattr(config, r.name)) for r in group(name)})
    for record in REGISTRY[config.arch].schema:
        values[setting_key(config.arch, record.name)] = widget_value(record, config.arch_settings[record.name])
    return values


def offered(record: Setting, arch: str | None = None) -> list:
    """The values a list widget offers for a setting with suggested values: the suggestions, every recipe's
    value and the current one; [] for a setting without suggestions."""
    if not record.suggested:
        return []
    if arch is None:
        used = [r.settings.get(record.name) for r in RECIPES]
    else:
        used = [r.settings.get("arch_settings", {}).get(record.name) for r in RECIPES if r.settings["arch"] == arch]
    current = st.session_state.get(setting_key(arch, record.name) if arch else field_key(record.name))
    return sorted({*record.suggested, *(v for v in (*used, current) if isinstance(v, (int, float)))})


def widget(container, record: Setting, key: str, options: list):
    """The widget of one setting, chosen by its kind; returns the value as the setting takes it (INVALID after
    an error shown on the page)."""
    st.session_state.setdefault(key, widget_value(record, record.default))
    tip = record.help[:1].upper() + record.help[1:] + "."
    if record.kind == "bool":
        return container.checkbox(record.label, key=key, help=tip)
    if record.kind == "choice":
        return container.selectbox(record.label, record.options, key=key, help=tip)
    if record.kind == "names":
        return container.multiselect(record.label, record.options, key=key, help=tip) or None
    if record.kind == "sizes":
        text = container.text_input(record.label, key=key, help=tip)
        try:
            return tuple(int(h) for h in text.split(",") if h.strip())
        except ValueError:
            st.error(f"{record.label} must be whole numbers separated by commas, not {text!r}.")
            return INVALID
    if options and record.kind == "int":
        return container.selectbox(record.label, options, key=key, help=tip)
    if options:
        return container.select_slider(record.label, options, format_func=lambda v: f"{v:g}", key=key, help=tip)
    high = record.usual_high if record.usual_high is not None else record.high
    if record.kind == "float":
        return container.slider(record.label, float(record.low), float(high), step=record.step, key=key, help=tip)
    low = 0 if record.optional else int(record.low)  # an optional number: 0 means "not set"
    value = int(
        container.number_input(
            record.label, low, None if high is None else int(high), step=int(record.step or 1), key=key, help=tip
        )
    )
    return (value or None) if record.optional else value


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


def arch_settings(arch: Architecture) -> dict | None:
    """Widgets for the settings this architecture declares; None (after an error) if one is invalid."""
    out = {}
    columns = st.columns(4)
    for i, record in enumerate(arch.schema):
        value = widget(columns[i % 4], record, setting_key(arch.name, record.name), offered(record, arch.name))
        if value is INVALID:
            return None
        out[record.name] = value
    return out


def architecture_choice() -> str:
    return st.selectbox(
        "Architecture", list(REGISTRY), format_func=lambda n: REGISTRY[n].display_name, key="train_arch"
    )


def hyperparameters() -> dict:
    """Widgets for the TrainConfig fields other than the architecture: its groups side by side, then the
    data settings in an expander."""
    values = {}
    for column, name in zip(st.columns(len(COLUMNS)), COLUMNS):
        for record in group(name):
            values[record.name] = widget(column, record, field_key(record.name), offered(record))
    with st.expander("Data"):
        st.caption("Train on harder data: some labels wrong, fewer images of each class, or a few classes only.")
        records = group(DATA)
        half = (len(records) + 1) // 2  # the first half on the left: a phone stacks them in order
        for column, part in zip(st.columns(2), (records[:half], records[half:])):
            for record in part:
                values[record.name] = widget(column, record, field_key(record.name), offered(record))
    return values
