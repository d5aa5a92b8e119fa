"""Models: every model with how it was made, downloads in four formats, import, rename and delete."""

import functools
from pathlib import Path

import pandas as pd
import streamlit as st

from core.analysis import evaluation
from core.base.errors import StudioError
from core.io import checkpoint_import, export, runs
from core.library import imports, model_info, taught
from dashboard import classroom, common, model_rights
from dashboard.train import training

common.intro(
    "Models",
    "Every model the studio knows: the shipped ones, your trainings and the checkpoints you import. Each one "
    "lists its recipe, results and the command that reproduces it, and downloads as the studio's own "
    "`.safetensors`, as **ONNX** or **TorchScript** for other runtimes, or as its test-set predictions. The "
    "exported models take float32 pixels `N×1×28×28` in [0, 1] (light garment on black) and return one "
    "logit per class (10, more for a model taught a class on the Teach page); the normalisation is inside.",
)

IMPORT_LIMIT_MB = checkpoint_import.MAX_BYTES // (1024 * 1024)


def import_section() -> None:
    st.subheader("Import a checkpoint")
    st.caption(
        "A `.safetensors` checkpoint made by the studio, for example trained on a GPU machine with "
        f"`python -m core.train`. Up to {IMPORT_LIMIT_MB} MB. It is checked (header, architecture, settings, "
        "every tensor's name, shape and type) and nothing in it is ever run."
    )
    upload = st.file_uploader(
        "Checkpoint file", type=["safetensors"], key="models_upload", max_upload_size=IMPORT_LIMIT_MB
    )
    if upload is not None and st.button("Import", key="models_import", icon=":material/upload:"):
        try:
            imports.import_checkpoint(upload.getvalue(), upload.name, owner=classroom.my_digest())
        except StudioError as e:
            st.error(f"Not imported: {e}")
        else:
            st.success(f"Imported {upload.name}: it is in every model picker now, marked “imported”.")


def _read(path: Path) -> bytes:
    return path.read_bytes()


def _predictions(path: Path) -> str:
    return evaluation.predictions_csv(evaluation.evaluate(path, common.get_dataset()))


def downloads(entry, key: str, have_data: bool) -> None:
    path, stem = entry.path, Path(entry.name.replace("/", "-")).name
    st.download_button(
        "Checkpoint (.safetensors)",
        functools.partial(_read, path),
        f"{stem}.safetensors",
        "application/octet-stream",
        key=f"{key}_st",
        icon=":material/download:",
        on_click="ignore",
    )
    st.download_button(
        "ONNX",
        functools.partial(export.export_bytes, path, "onnx"),
        export.download_name(path, "onnx", stem),
        "application/octet-stream",
        key=f"{key}_onnx",
        icon=":material/download:",
        on_click="ignore",
    )
    st.download_button(
        "TorchScript",
        functools.partial(export.export_bytes, path, "torchscript"),
        export.download_name(path, "torchscript", stem),
        "application/octet-stream",
        key=f"{key}_ts",
        icon=":material/download:",
        on_click="ignore",
    )
    st.download_button(
        "Test-set predictions (CSV)",
        functools.partial(_predictions, path),
        f"{stem}-predictions.csv",
        "text/csv",
        key=f"{key}_csv",
        icon=":material/download:",
        on_click="ignore",
        disabled=not have_data,
        help=None if have_data else "needs the Fashion-MNIST test set on this server",
    )


def manage(entry, key: str) -> None:
    """Rename (runs and taught models) and delete (runs, imports and taught models), for the session allowed to."""
    if entry.source in ("run", "taught"):
        with st.form(f"{key}_rename", border=False):
            new_name = st.text_input("Name", value=entry.name, key=f"{key}_name", max_chars=runs.MAX_NAME)
            if st.form_submit_button("Rename", icon=":material/edit:"):
                try:
                    if entry.source == "run":
                        runs.rename_run(entry.path.parent, new_name)
                    else:
                        taught.rename(entry.path, new_name)
                except StudioError as e:
                    st.error(str(e))
                else:
                    st.rerun()
    with st.popover("Delete", icon=":material/delete:"):
        st.write(f"Delete **{entry.name}** and everything saved with it? This cannot be undone.")
        if st.button("Delete for good", key=f"{key}_delete", type="primary"):
            try:
                if entry.source == "run":
                    training.manager().delete_run(entry.path.parent)
                elif entry.source == "taught":
                    taught.delete(entry.path)
                else:
                    imports.delete_imported(entry.path)
            except StudioError as e:
                st.error(str(e))
            else:
                st.rerun()


def share(entry, key: str) -> None:
    """A taught model is seen only by the browser that taught it until the teacher shares it with the class."""
    shared = taught.is_shared(entry.path)
    if not classroom.is_teacher():
        st.caption("Shared with the whole class." if shared else "Only you see it until the teacher shares it.")
        return

    def flip() -> None:
        try:
            taught.set_shared(entry.path, not shared)
        except StudioError as e:
            st.session_state[f"{key}_share_error"] = str(e)

    st.toggle("Shared with the class", value=shared, key=f"{key}_shared", on_change=flip)
    if f"{key}_share_error" in st.session_state:
        st.error(st.session_state.pop(f"{key}_share_error"))


def model_card(entry, index: int, have_data: bool) -> None:
    key = f"model_{index}"
    accuracy = f" · test {entry.test_accuracy:.2%}" if entry.test_accuracy is not None else ""
    with st.container(border=True, key=f"{key}_card"):
        st.markdown(f"#### {entry.name}  \n:gray[{entry.source}{accuracy}]")
        info, actions = st.columns([3, 1])
        rows = dict(model_info.details(entry.metadata, entry.path))
        command = rows.pop("command", None)
        info.table(
            pd.DataFrame({"value": list(rows.values())}, index=list(rows)), border="horizontal", hide_header=True
        )
        if command:
            info.caption("The command that made it:")
            info.code(command, language="bash", wrap_lines=True)
        with actions:
            downloads(entry, key, have_data)
            if entry.source == "taught":
                share(entry, key)
            if model_rights.can_manage(entry):
                manage(entry, key)
            elif entry.source == "shipped":
                st.caption("Shipped with the studio: it cannot be renamed or deleted.")
            else:
                st.caption("Only the browser that made it can rename or delete it.")


import_section()
st.subheader("All models")
models = common.available_models()
if not models:
    st.info("No models yet: train one on the Train page or import a checkpoint above.")
have_data = common.get_dataset() is not None if models else False
for i, entry in enumerate(models):
    model_card(entry, i, have_data)
