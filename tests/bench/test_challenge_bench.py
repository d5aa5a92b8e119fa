"""The classroom load test's Challenge round on a tiny class: three students play a two-picture round against a
server the test starts, and every answer and every reveal reaches them."""

import re

from bench import challenge_round, classroom


def test_three_students_play_a_round_and_see_every_reveal(data_dir, monkeypatch, capsys):
    monkeypatch.setenv("FMNIST_DATA_DIR", data_dir)
    args = ["--users", "3", "--train-images", "0", "--ramp", "0", "--pause", "0", "--no-visit"]
    assert classroom.main(args + ["--challenge-images", "2", "--challenge-seconds", "6"]) == 0
    out = capsys.readouterr().out
    assert "- errors: **0**" in out, out
    rows = {}
    for page in ("Challenge (open)", "Challenge (answer)", "Challenge (answer-to-reveal)"):
        row = re.search(rf"^\| {re.escape(page)} \| (\d+) \| ([\d.]+) \| ([\d.]+) \|", out, re.M)
        assert row, (page, out)
        rows[page] = (int(row[1]), float(row[3]))
    assert rows["Challenge (open)"][0] == 3
    assert rows["Challenge (answer)"][0] == 6  # 3 students x 2 pictures, all joined before the first closed
    assert rows["Challenge (answer-to-reveal)"][0] == 6
    assert rows["Challenge (answer-to-reveal)"][1] < 5  # p95 seconds: seen within the reveal, not a picture later
    assert "- challenge: 2 pictures, 6 s each; answers per picture: 3, 3; 3 students answered" in out
    assert "Home" not in re.findall(r"^\| (\w+)", out, re.M)  # --no-visit: the round only


def test_a_round_lasts_its_pictures_and_reveals():
    assert challenge_round.round_seconds(10, 15) == 3 + 10 * (15 + 6) + 5
