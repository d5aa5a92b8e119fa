"""The classroom load test on one simulated student: every page's result arrives over the websocket protocol."""

import re

import pytest

from bench import classroom


def test_one_student_sees_every_result_and_nothing_fails(data_dir, monkeypatch, capsys):
    # The student watches long enough for its small training to finish: the page then reruns as a whole and the
    # client must follow it (as a browser does) instead of polling a fragment that no longer exists.
    monkeypatch.setenv("FMNIST_DATA_DIR", data_dir)
    args = "--users 1 --train-images 0 --ramp 0 --watch 6 --pause 0 --challenge-images 0".split()
    assert classroom.main(args) == 0
    out = capsys.readouterr().out
    assert "- errors: **0**" in out, out
    for page in (
        "Home",
        "Evaluate",
        "Classify (drawing)",
        "Classify (upload)",
        "Feature maps",
        "Train (open)",
        "Train (start)",
        "Train (live update)",
    ):
        row = re.search(rf"^\| {re.escape(page)} \| (\d+) \| ([\d.]+) \|", out, re.M)
        assert row and int(row[1]) >= 1 and float(row[2]) > 0, (page, out)
    peak = re.search(r"peak RSS \*\*([\d,]+) MiB\*\*", out)
    assert peak and 100 < int(peak[1].replace(",", "")) < 4000


def test_only_loopback_servers():
    with pytest.raises(classroom.ClientError, match="only talks to this machine"):
        classroom.Browser("http://example.com:8501")


def test_server_config_keeps_script_runs_cheap():
    from pathlib import Path

    import tomllib

    config = tomllib.loads((Path(classroom.ROOT) / ".streamlit" / "config.toml").read_text())
    assert config["runner"]["postScriptGC"] is False
    assert config["server"]["fileWatcherType"] == "none"
