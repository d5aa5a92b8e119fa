"""Each browser's verdicts on suspect labels: kept per owner secret (only its digest on disk), as CSV."""

import numpy as np
import pytest

from core.analysis import label_issues
from core.base.errors import StudioError
from core.serving import label_marks, ownership

ALICE, BOB = ownership.new_secret(), ownership.new_secret()


def test_marks_are_kept_per_browser_and_can_be_taken_back(tmp_path):
    assert label_marks.load(ALICE, tmp_path) == {}
    label_marks.mark(ALICE, 23053, "mislabeled", tmp_path)
    label_marks.mark(ALICE, 17, "fine", tmp_path)
    assert label_marks.mark(BOB, 17, "mislabeled", tmp_path) == {17: "mislabeled"}
    assert label_marks.load(ALICE, tmp_path) == {23053: "mislabeled", 17: "fine"}
    assert label_marks.mark(ALICE, 17, None, tmp_path) == {23053: "mislabeled"}
    label_marks.clear(ALICE, tmp_path)
    assert label_marks.load(ALICE, tmp_path) == {} and label_marks.load(BOB, tmp_path) == {17: "mislabeled"}
    stored = list((tmp_path / "data_lab" / "marks").iterdir())
    assert sorted(p.name for p in stored) == sorted(f"{ownership.digest(s)}.json" for s in (ALICE, BOB))
    assert not any(s in p.read_text() or s in p.name for p in stored for s in (ALICE, BOB))


def test_bad_marks_are_one_line_errors(tmp_path):
    with pytest.raises(StudioError, match=r"^unknown verdict 'maybe'; choose one of: mislabeled, fine\.$"):
        label_marks.mark(ALICE, 1, "maybe", tmp_path)
    with pytest.raises(StudioError, match=r"^training image index must be in 0-59999, got 60000\.$"):
        label_marks.mark(ALICE, 60000, "fine", tmp_path)


def test_the_csv_lists_the_marked_images_worst_first():
    labels = np.array([0, 6, 2, 6])
    probabilities = np.array([[0.9, 0, 0, 0, 0, 0, 0.1, 0, 0, 0], [0.8, 0, 0, 0, 0, 0, 0.2, 0, 0, 0]] * 2)
    found = label_issues.Suspects(
        "quick_demo", 5, labels, probabilities, np.zeros(4), np.array([0.9, 0.2, 0.0, 0.5]), np.zeros(4, bool), 1, ""
    )
    text = label_marks.to_csv({1: "mislabeled", 0: "fine", 2: "fine"}, found)
    assert text.splitlines() == [
        "index,given,suggested,quality,verdict",
        "2,Pullover,T-shirt/top,0.000000,fine",
        "1,Shirt,T-shirt/top,0.200000,mislabeled",
        "0,T-shirt/top,T-shirt/top,0.900000,fine",
    ]
