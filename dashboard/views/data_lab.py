"""Data lab: suspect labels found by cross-validation, training without them, and leaks between the splits."""

import streamlit as st

from core.analysis import duplicates, label_issues
from core.base.errors import StudioError
from core.data.classes import CLASS_NAMES
from core.io import preprocess
from core.library import experiments
from core.serving import label_marks
from core.training import out_of_fold
from core.training.recipes import get_recipe
from dashboard import background, classroom, common, pages
from dashboard.images import show_image
from dashboard.train import experiment_panel, training

PAGE_SIZE = 24
COLUMNS = 6
ANY = "any"
LEAKS_SHOWN = 24
VERDICT_LABELS = {"mislabeled": "Agree: mislabeled", "fine": "Label is fine"}

common.intro(
    "Data lab",
    "A model is only as good as its data. Fashion-MNIST's training set has images with the wrong label (a "
    "dress labelled Coat, a T-shirt labelled Pullover) and near-copies of test images. To find suspect labels, "
    "the training set is split into 5 parts and each part is classified by a model that never saw it "
    "(**out-of-fold** predictions); where that model is sure of another class, the label is suspect. "
    "[cleanlab](https://github.com/cleanlab/cleanlab)'s confident learning ranks them. Judge them yourself, "
    "then train without the worst and measure the difference.",
)

data = common.get_dataset()
if data is None:
    st.stop()
me = classroom.owner_secret()
teacher = classroom.is_teacher()
suspects_tab, train_tab, leaks_tab = st.tabs(["Suspect labels", "Train without them", "Leaks and duplicates"])


def _background(key: tuple, label: str, work) -> None:
    """A button that starts slow work in the server's background worker, then its progress."""
    task = background.runner().submit(key, work) if st.session_state.get(f"lab_started_{key}") else None
    if task is None:
        if st.button(f"Compute the {label}", key=f"lab_start_{key[0]}", icon=":material/play_arrow:"):
            st.session_state[f"lab_started_{key}"] = True
            st.rerun()
        return
    if task.done and task.error is None:
        background.runner().forget(key)
        st.session_state.pop(f"lab_started_{key}", None)
        st.rerun()
    background.wait(task, label[:1].upper() + label[1:])


def _mark(index: int, verdict: str, current: str | None) -> None:
    try:
        label_marks.mark(me, index, None if verdict == current else verdict)
    except StudioError as e:
        st.session_state.lab_error = str(e)


# ---- suspect labels ----------------------------------------------------------------------------------------

suspects = label_issues.load(data)
with suspects_tab:
    if suspects is None:
        st.info(
            f"No ranking for this copy of the dataset yet: it takes {label_issues.DEFAULT_K} trainings of the quick "
            "demo (a few minutes on two cores; `python -m core.labels` does the same)."
        )
        _background(
            ("suspects", label_issues.DEFAULT_RECIPE, label_issues.DEFAULT_K),
            "out-of-fold ranking",
            lambda task: out_of_fold.suspects(data, progress=task.progress),
        )
    else:
        recipe = get_recipe(suspects.recipe).title
        a, b, c = st.columns(3)
        a.metric(
            "Out-of-fold accuracy",
            f"{suspects.accuracy:.2%}",
            help="How often the held-out prediction "
            "equals the given label: the honest accuracy of the recipe on the training images.",
        )
        b.metric("Labels cleanlab flags", f"{int(suspects.flagged.sum()):,}", help="cleanlab.filter.find_label_issues")
        c.metric("Folds", f"{suspects.k} × {recipe}", help=f"Computed in {suspects.seconds:.0f} s.")
        st.caption(
            "**Quality** is the out-of-fold probability of the given label (cleanlab's label quality score): "
            "near 0, a model that never saw the image is sure it is something else. **Likely** is its best guess."
        )
        left, middle, right = st.columns([2, 2, 2], vertical_alignment="bottom")
        given_name = left.selectbox("Given label", [ANY, *CLASS_NAMES], key="lab_given")
        likely_name = middle.selectbox("Likely label", [ANY, *CLASS_NAMES], key="lab_likely")
        flagged_only = right.toggle("Only those cleanlab flags", key="lab_flagged")
        chosen = suspects.select(
            None if given_name == ANY else CLASS_NAMES.index(given_name),
            None if likely_name == ANY else CLASS_NAMES.index(likely_name),
            flagged_only,
        )
        marks = label_marks.load(me)
        st.markdown(f"**{len(chosen):,}** training images, worst first.")
        if st.session_state.get("lab_error"):
            st.error(st.session_state.pop("lab_error"))
        if len(chosen):
            pages_count = (len(chosen) + PAGE_SIZE - 1) // PAGE_SIZE
            page = st.columns([1, 2])[0].number_input(
                f"Page (of {pages_count:,}, {PAGE_SIZE} images each)", 1, pages_count, 1, key="lab_page"
            )
            shown = chosen[(page - 1) * PAGE_SIZE : page * PAGE_SIZE].tolist()
            suggested = suspects.suggested
            for row in range(0, len(shown), COLUMNS):
                for column, index in zip(st.columns(COLUMNS), shown[row : row + COLUMNS]):
                    given, likely = CLASS_NAMES[suspects.labels[index]], CLASS_NAMES[suggested[index]]
                    show_image(
                        preprocess.enlarge(data.train_images[index].numpy(), 112),
                        f"Training image {index}, labelled {given}; the models think {likely}",
                        where=column,
                        width=112,
                    )
                    column.caption(
                        f"#{index} · given **{given}** · likely **{likely}** "
                        f"({suspects.probabilities[index].max():.0%}) · quality {suspects.quality[index]:.3f}"
                        + (" · flagged" if suspects.flagged[index] else "")
                    )
                    verdict = marks.get(index)
                    for value, text in VERDICT_LABELS.items():
                        column.button(
                            text,
                            key=f"lab_{value}_{index}",
                            type="primary" if verdict == value else "secondary",
                            icon=":material/check:" if verdict == value else None,
                            on_click=_mark,
                            args=(index, value, verdict),
                            width="stretch",
                            help="Click again to take the mark back.",
                        )
        st.subheader("Your marks")
        bad = sum(v == "mislabeled" for v in marks.values())
        images = "image" if len(marks) == 1 else "images"
        st.markdown(
            f"You marked **{len(marks)}** {images}: **{bad}** mislabeled, **{len(marks) - bad}** fine. "
            "They are kept for this browser on this server."
        )
        mark_left, mark_right = st.columns([1, 3])
        mark_left.download_button(
            "Download your marks (CSV)",
            label_marks.to_csv(marks, suspects),
            file_name="label-marks.csv",
            mime="text/csv",
            key="lab_marks_csv",
            icon=":material/download:",
            on_click="ignore",
            disabled=not marks,
        )
        if marks and mark_right.button("Clear your marks", key="lab_clear", icon=":material/delete:"):
            label_marks.clear(me)
            st.rerun()
        st.download_button(
            "Download the whole ranking (CSV, 60,000 rows)",
            lambda: label_issues.to_csv(suspects),
            file_name=f"suspects-{suspects.recipe}-k{suspects.k}.csv",
            mime="text/csv",
            key="lab_suspects_csv",
            icon=":material/download:",
            on_click="ignore",
        )

# ---- training without the suspects ----------------------------------------------------------------------------


def _start(count: int) -> None:
    """The quick demo twice, as one experiment: with every image, and without the `count` worst suspects. All or
    nothing: if the server refuses the second run, the first is cancelled."""
    ids = []
    try:
        base = get_recipe(label_issues.DEFAULT_RECIPE).config()
        experiment, configs = experiments.plan(
            base, {"drop_suspects": [0, count]}, name=f"Quick demo with and without the {count:,} top suspect labels"
        )
        jobs = training.manager()
        experiments.save(experiment)
        for c, label in zip(configs, experiment.labels):
            ids.append(jobs.submit(c, data, owner=me, name=f"{experiment.name} · {label}", teacher=teacher))
    except StudioError as e:
        _stop({"jobs": ids})
        st.session_state.lab_train_error = str(e)
        return
    st.session_state.lab_experiment = {"id": experiment.id, "jobs": ids, "labels": experiment.labels}
    st.session_state.compare_group = experiment.id  # Compare opens on this experiment


def _stop(info: dict) -> None:
    """Stop the experiment's runs, the waiting ones first (so none starts when the running one stops)."""
    for job_id in reversed(info["jobs"]):
        try:
            training.manager().stop(job_id, None if teacher else me)
        except StudioError as e:
            st.session_state.lab_train_error = str(e)


def _show_experiment(info: dict) -> bool:
    """The experiment's panel; True while one of its runs is queued or running."""
    jobs = training.manager()
    experiment = experiments.load(info["id"])
    pairs = [(j, label) for j, label in zip((jobs.snapshot(i) for i in info["jobs"]), info["labels"]) if j]
    if experiment is None or not pairs:
        st.info("This experiment is no longer on this server; its runs are on the Compare runs page.")
        return False
    experiment_panel.show(experiment, [j for j, _ in pairs], [label for _, label in pairs], lambda: _stop(info))
    return any(j.active for j, _ in pairs)


@st.fragment(run_every=1)
def _live_experiment(info: dict) -> None:
    if not _show_experiment(info):
        st.rerun()


with train_tab:
    st.markdown(
        "Does cleaning the labels help? This trains the **quick demo** (about half a minute on a free CPU) twice, "
        "as one experiment: on all 60,000 training images, and without the worst-ranked suspects. Both are "
        "tested on the same 10,000 test images; the difference is measured, not assumed."
    )
    if suspects is None:
        st.info("The ranking of suspect labels is needed first (see Suspect labels).")
    else:
        count = st.columns([1, 2])[0].number_input(
            "Leave out the worst",
            100,
            30_000,
            1000,
            step=100,
            key="lab_drop_count",
            help=f"Training images, worst label quality first; cleanlab flags {int(suspects.flagged.sum()):,}.",
        )
        st.button(
            f"Train with and without the {count:,} top suspects",
            key="lab_train",
            type="primary",
            icon=":material/play_arrow:",
            on_click=_start,
            args=(int(count),),
        )
        if st.session_state.get("lab_train_error"):
            st.error(st.session_state.pop("lab_train_error"))
    info = st.session_state.get("lab_experiment")
    if info:
        if any(j.active for j in (training.manager().snapshot(i) for i in info["jobs"]) if j is not None):
            _live_experiment(info)
        else:
            _show_experiment(info)
        pages.link("compare", label="Open this experiment in Compare runs")

# ---- leaks and duplicates ----------------------------------------------------------------------------------

pairs = duplicates.load(data)
with leaks_tab:
    st.markdown(
        "Two images are **near-duplicates** when their pixels differ by less than "
        f"**{duplicates.THRESHOLD:g}** on average (root-mean-square difference, pixels from 0 to 1; a typical test "
        "image's nearest training image is about 0.12 away). A test image with a near-copy in the training set "
        "is a **leak**: the model may have learned that very picture, so it flatters the test accuracy."
    )
    if pairs is None:
        st.info("No list of near-duplicates for this copy of the dataset yet (about a minute on two cores).")
        _background(("duplicates",), "near-duplicate search", lambda task: duplicates.compute(data, task.progress))
    else:
        counts = pairs.counts()
        leaked = pairs.leaks()
        cols = st.columns(4)
        for col, (what, n) in zip(cols, counts.items()):
            col.metric(f"Pairs {what}", f"{n:,}")
        cols[3].metric("Test images with a copy in training", f"{len(leaked):,}")
        st.subheader("Leaks: test images with a near-copy in training")
        if leaked:
            pages.link("evaluate", label="Evaluate reports the test accuracy without them")
        else:
            st.info("No test image has a near-copy in the training set.")
        shown = leaked[:LEAKS_SHOWN]
        for row in range(0, len(shown), 3):
            for column, (test, train, distance) in zip(st.columns(3), shown[row : row + 3]):
                test_label, train_label = CLASS_NAMES[data.test_labels[test]], CLASS_NAMES[data.train_labels[train]]
                left, right = column.columns(2)
                show_image(
                    preprocess.enlarge(data.test_images[test].numpy(), 84),
                    f"Test image {test}, {test_label}",
                    where=left,
                    width=84,
                )
                show_image(
                    preprocess.enlarge(data.train_images[train].numpy(), 84),
                    f"Training image {train}, {train_label}",
                    where=right,
                    width=84,
                )
                differs = "" if test_label == train_label else " · **labels differ**"
                column.caption(
                    f"test #{test} ({test_label}) · train #{train} ({train_label}) · distance {distance:.3f}{differs}"
                )
        if len(leaked) > LEAKS_SHOWN:
            st.caption(f"The {LEAKS_SHOWN} closest of {len(leaked)}; the CSV below lists every pair.")
        st.download_button(
            f"Download all {len(pairs):,} pairs (CSV)",
            duplicates.to_csv(pairs),
            file_name="near-duplicates.csv",
            mime="text/csv",
            key="lab_pairs_csv",
            icon=":material/download:",
            on_click="ignore",
        )
