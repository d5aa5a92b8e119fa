"""The Train page's sweep choice: settings that take a list of values; the grid starts as one experiment.

The settings offered and the example lists come from the settings' records (core.training.sweeps).
"""

import streamlit as st

from core.base.errors import StudioError
from core.base.settings import Setting
from core.training import sweeps


def example(record: Setting) -> str:
    """A comma list of values that fits the setting, shown as the placeholder of its box."""
    if record.kind == "bool":
        return "true, false"
    if record.kind == "sizes":
        return "256-128, 512-256"
    if record.kind == "choice":
        return ", ".join(record.options[:2])
    if record.suggested:
        return ", ".join(f"{v:g}" for v in record.suggested[:: max(1, len(record.suggested) // 3)][:3])
    if record.step:
        start = record.low if record.kind == "float" else record.step
        return ", ".join(f"{start + i * record.step:g}" for i in range(3))
    if record.kind == "int" and record.low is not None:
        return ", ".join(f"{record.low + i:g}" for i in range(3))
    return "comma separated"


def sweep_choice() -> dict | None:
    """{setting: [values]} to sweep ({} for none); None after showing an error."""
    records = sweeps.settings()
    names = st.multiselect(
        "Settings to sweep",
        list(records),
        key="train_sweep_params",
        help="Each chosen setting takes a comma list of values; two lists make a grid "
        f"(at most {sweeps.MAX_RUNS} runs). The form above gives every other setting.",
    )
    swept = {}
    columns = st.columns(max(len(names), 1))
    for column, name in zip(columns, names):
        text = column.text_input(f"{name} values", key=f"train_sweep_{name}", placeholder=example(records[name]))
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
