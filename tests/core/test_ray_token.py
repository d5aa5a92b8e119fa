"""The local Ray's token: `ray start --head` refuses a token-checked Ray without one, so the keeper makes it first,
once, and never prints it."""

import os

from core.serving import local_ray


def _env(home, **extra):
    env = {k: v for k, v in os.environ.items() if not k.startswith("RAY_AUTH_TOKEN")}
    return {**env, "HOME": str(home), **local_ray.LOCAL_AUTH_ENV, **extra}


def test_a_fresh_home_gets_a_token_once_and_it_is_not_printed(tmp_path, capsys):
    env = _env(tmp_path)
    path = tmp_path / ".ray" / "auth_token"
    assert local_ray.token_path(env) == path and not path.exists()

    assert local_ray.ensure_token(env) is True
    token = path.read_text().strip()
    assert len(token) >= 32
    assert local_ray.ensure_token(env) is True  # a second start keeps the token the running servers hold
    assert path.read_text().strip() == token
    assert token not in capsys.readouterr().out


def test_a_token_path_ray_is_told_is_used_as_it_is(tmp_path):
    path = tmp_path / "elsewhere" / "token"
    path.parent.mkdir()
    path.write_text("a-token-the-cluster-shares")
    env = _env(tmp_path / "home", RAY_AUTH_TOKEN_PATH=str(path))
    assert local_ray.ensure_token(env) is True
    assert path.read_text() == "a-token-the-cluster-shares" and not (tmp_path / "home").exists()


def test_a_token_that_cannot_be_written_is_one_line(tmp_path, capsys):
    home = tmp_path / "file"
    home.write_text("not a folder")
    env = _env(home)
    assert local_ray.ensure_token(env) is False
    out = capsys.readouterr().out.strip().splitlines()
    assert len(out) == 1 and out[0].startswith(f"error: cannot make Ray's token at {home / '.ray' / 'auth_token'}: ")
