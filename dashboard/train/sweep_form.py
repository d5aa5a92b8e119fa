"""The Train page's sweep choice: settings that take a list of values; the grid starts as one experiment."""

import streamlit as st

from core.base.errors import StudioError
from core.training import sweeps

EXAMPLES = {
    "batch_size": "64, 256, 512",
    "lr": "0.001, 0.003, 0.01",
    "epochs": "2, 5",
    "hidden": "256-128, 512-256",
    "width": "1, 2, 4",
    "optimizer": "sgd, adam",
    "augment": "true, false",
    "dropout": "0, 0.2, 0.4",
    "weight_decay": "0, 0.0005",
    "seed": "0, 1, 2",
    "arch": "mlp, simple_cnn",
}


def sweep_choice() -> dict | None:
    """{setting: [values]} to sweep ({} for none); None after showing an error."""
    names = st.multiselect(
        "Settings to sweep",
        sweeps.SWEEPABLE,
        key="train_sweep_params",
        help="Each chosen setting takes a comma list of values; two lists make a grid "
        f"(at most {sweeps.MAX_RUNS} runs). The form above gives every other setting.",
    )
    swept = {}
    columns = st.columns(max(len(names), 1))
    for column, name in zip(columns, names):
        text = column.text_input(
            f"{name} values", key=f"train_sweep_{name}", placeholder=EXAMPLES.get(name, "comma separated")
        )
        try:
            swept[name] = sweeps.parse_values(name, text)
        except StudioError as e:
            st.error(str(e))
            return None
    if swept:
        try:
            count = len(sweeps.grid(swept))
        except StudioError as e:
            st.error(str(e))
            return None
        st.caption(
            f"**{count}** runs, one after another under this server's limit on trainings at once; "
            "they form one experiment on the Compare runs page."
        )
    return swept
