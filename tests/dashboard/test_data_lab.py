"""Data lab page: opens from the shipped results, filters the suspects, keeps each browser's marks, starts the
with/without experiment, lists the leaks; Evaluate reports the accuracy without them."""

import time

import pytest

from core.analysis import duplicates, evaluation, label_issues
from core.data.classes import CLASS_NAMES
from core.library import experiments
from core.serving import label_marks
from dashboard.train import training
from tests.dashboard import my_pages
from tests.dashboard.studio_app import open_page, training_environment

PAGE = "views/data_lab.py"


@pytest.fixture(autouse=True)
def environment(monkeypatch, data_dir, tmp_path):
    yield from training_environment(monkeypatch, data_dir, tmp_path / "runs")


@pytest.fixture(scope="module")
def shipped(fmnist):
    return label_issues.load(fmnist)


def gallery(at) -> list[str]:
    return [c.value for c in at.caption if c.value.startswith("#")]


def metrics(at) -> dict:
    return {m.label: m.value for m in at.metric}


def test_the_page_opens_from_the_shipped_ranking(shipped):
    at = open_page("views/home.py")  # the dataset is loaded once per server; the page itself is timed
    started = time.perf_counter()
    at.switch_page(PAGE).run()
    seconds = time.perf_counter() - started
    assert not at.exception and not at.error
    assert seconds < 10, seconds  # about 0.5 s on a quiet machine; generous for a shared one
    assert at.title[0].value == "Data lab"
    shown = metrics(at)
    assert shown["Out-of-fold accuracy"] == f"{shipped.accuracy:.2%}"
    assert shown["Labels cleanlab flags"] == f"{int(shipped.flagged.sum()):,}"
    assert shown["Folds"] == "5 × Quick demo"
    assert any(m.value == "**60,000** training images, worst first." for m in at.markdown)
    worst = shipped.worst(24).tolist()
    captions = gallery(at)
    assert len(captions) == 24
    given, likely = CLASS_NAMES[shipped.labels[worst[0]]], CLASS_NAMES[shipped.suggested[worst[0]]]
    assert captions[0].startswith(f"#{worst[0]} · given **{given}** · likely **{likely}**")
    assert [int(c[1:].split(" ")[0]) for c in captions] == worst


def test_filtering_by_class_and_by_class_pair(shipped):
    at = open_page(PAGE)
    at.selectbox(key="lab_given").set_value("Shirt").run()
    at.selectbox(key="lab_likely").set_value("Pullover").run()
    pair = shipped.select(CLASS_NAMES.index("Shirt"), CLASS_NAMES.index("Pullover"))
    assert any(m.value == f"**{len(pair):,}** training images, worst first." for m in at.markdown)
    captions = gallery(at)
    assert len(captions) == min(24, len(pair)) > 0
    assert all("given **Shirt** · likely **Pullover**" in c for c in captions)
    at.selectbox(key="lab_likely").set_value("any").run()
    at.toggle(key="lab_flagged").set_value(True).run()
    flagged_shirts = shipped.select(CLASS_NAMES.index("Shirt"), flagged_only=True)
    assert any(m.value == f"**{len(flagged_shirts):,}** training images, worst first." for m in at.markdown)
    assert all(c.endswith(" · flagged") and "given **Shirt**" in c for c in gallery(at))


def test_marks_are_kept_for_this_browser_and_downloadable(shipped):
    at = open_page(PAGE)
    first, second = shipped.worst(2).tolist()
    at.button(key=f"lab_mislabeled_{first}").click().run()
    at.button(key=f"lab_fine_{second}").click().run()
    assert at.button(key=f"lab_mislabeled_{first}").proto.type == "primary"
    assert at.button(key=f"lab_fine_{first}").proto.type == "secondary"
    assert at.button(key=f"lab_fine_{second}").proto.type == "primary"
    assert any("You marked **2** images: **1** mislabeled, **1** fine." in m.value for m in at.markdown)
    me = at.session_state["owner_secret"]
    assert label_marks.load(me) == {first: "mislabeled", second: "fine"}
    download = [b for b in at.get("download_button") if b.proto.label == "Download your marks (CSV)"][0]
    assert not download.proto.disabled
    assert label_marks.to_csv(label_marks.load(me), shipped).splitlines()[1:] == [
        f"{first},{CLASS_NAMES[shipped.labels[first]]},{CLASS_NAMES[shipped.suggested[first]]},"
        f"{shipped.quality[first]:.6f},mislabeled",
        f"{second},{CLASS_NAMES[shipped.labels[second]]},{CLASS_NAMES[shipped.suggested[second]]},"
        f"{shipped.quality[second]:.6f},fine",
    ]
    at.button(key=f"lab_mislabeled_{first}").click().run()  # a second click takes the mark back
    assert label_marks.load(me) == {second: "fine"}

    other = open_page(PAGE)  # another browser: its own (empty) marks
    assert other.session_state["owner_secret"] != me
    assert any("You marked **0** images" in m.value for m in other.markdown)
    assert other.button(key=f"lab_fine_{second}").proto.type == "secondary"
    download = [b for b in other.get("download_button") if b.proto.label == "Download your marks (CSV)"][0]
    assert download.proto.disabled


def test_training_without_the_top_suspects_is_one_experiment_of_two_runs():
    at = open_page(PAGE)
    at.number_input(key="lab_drop_count").set_value(300).run()
    at.button(key="lab_train").click().run()
    assert not at.exception and not at.error
    [experiment] = experiments.list_experiments()
    assert experiment.swept == {"drop_suspects": [0, 300]}
    assert experiment.labels == ["drop_suspects=0", "drop_suspects=300"]
    assert experiment.base["arch"] == "fast_cnn" and experiment.base["epochs"] == 3
    info = at.session_state["lab_experiment"]
    assert info["id"] == experiment.id and at.session_state["compare_group"] == experiment.id
    jobs = [training.manager().snapshot(i) for i in info["jobs"]]
    assert [j.config.drop_suspects for j in jobs] == [0, 300]
    assert all(j.config.experiment == experiment.id for j in jobs)
    assert any(link.proto.label == "Open this experiment in Compare runs" for link in at.get("page_link"))


def test_the_leaks_are_listed_with_the_threshold(fmnist):
    pairs = duplicates.load(fmnist)
    at = open_page(PAGE)
    shown = metrics(at)
    for what, count in pairs.counts().items():
        assert shown[f"Pairs {what}"] == f"{count:,}"
    leaks = pairs.leaks()
    assert shown["Test images with a copy in training"] == f"{len(leaks):,}"
    assert any(f"less than **{duplicates.THRESHOLD:g}**" in m.value for m in at.markdown)
    test, train, distance = leaks[0]
    first = [c.value for c in at.caption if c.value.startswith("test #")][0]
    assert first.startswith(f"test #{test} ({CLASS_NAMES[fmnist.test_labels[test]]}) · train #{train}")
    assert f"distance {distance:.3f}" in first


def test_without_a_stored_result_the_page_offers_to_compute_it(monkeypatch, tmp_path):
    monkeypatch.setattr(label_issues, "SHIPPED_DIR", tmp_path / "none")
    monkeypatch.setattr(duplicates, "SHIPPED_PATH", tmp_path / "none" / "duplicates.npz")
    label_issues.forget()
    duplicates.forget()
    try:
        at = open_page(PAGE)
        assert not at.exception and not at.error
        assert [b.label for b in at.button if b.key.startswith("lab_start_")] == [
            "Compute the out-of-fold ranking",
            "Compute the near-duplicate search",
        ]
        assert any("The ranking of suspect labels is needed first" in i.value for i in at.info)
    finally:
        label_issues.forget()
        duplicates.forget()


def test_evaluate_reports_the_accuracy_without_the_leaked_test_images(monkeypatch, tmp_path_factory, data_dir, fmnist):
    ckpt = my_pages.use_trained_model(monkeypatch, tmp_path_factory, data_dir, tmp_path_factory.mktemp("no-shipped"))
    result = evaluation.evaluate(ckpt, fmnist)
    leaked = duplicates.load(fmnist).leaked_test_indices()
    clean = duplicates.accuracy_without(result.predictions, result.labels, leaked)
    at = my_pages.open_page("views/evaluate.py")
    expected = f"**{clean:.2%}** without the {len(leaked)} test images that have a near-copy in training"
    assert any(c.value.startswith(expected) for c in at.caption)
