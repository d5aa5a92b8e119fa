#!/usr/bin/env bash
# Install what Fashion-MNIST Studio needs. Usage: scripts/install.sh [app|test]
# The packages of requirements.txt (and requirements-dev.txt for test) go into the environment that
# scripts/python_env.sh picks: the project's .venv/ (made here with `python3 -m venv`), an active virtualenv
# or conda environment, or the interpreter PYTHON names. A stamp in the environment holds the requirements
# last installed there, so a later run installs nothing until they change.
# Then the dataset from Debian's package when apt is usable (otherwise the app downloads it with torchvision
# on first use), and Chromium for the browser tests.
set -euo pipefail
cd "$(dirname "$0")/.."
what="${1:-app}"
case "$what" in
  app | test) ;;
  *) echo "usage: scripts/install.sh [app|test]" >&2 && exit 2 ;;
esac
. scripts/python_env.sh

fail() {
  echo "error: $*" >&2
  exit 1
}

# The supported Pythons, from pyproject.toml's requires-python: ">=3.10,<3.14" is 3.10 to 3.13.
spec=$(sed -n 's/^requires-python *= *"\(.*\)"$/\1/p' pyproject.toml)
case "$spec" in
  ">="[0-9]*.[0-9]*",<"[0-9]*.[0-9]*) ;;
  *) fail "pyproject.toml's requires-python is not of the form \">=3.A,<3.B\"" ;;
esac
lowest=${spec#>=} && lowest=${lowest%%,*} && above=${spec##*<}
major=${lowest%%.*} && min_minor=${lowest#*.} && end_minor=${above#*.}
supported="$lowest to $major.$((end_minor - 1))"

# "3.11" for an interpreter that runs; nothing and a failure otherwise
python_version() {
  "$1" -c 'import sys; print("%d.%d" % sys.version_info[:2])' 2>/dev/null
}

is_supported() {
  case "$1" in [0-9]*.[0-9]*) ;; *) return 1 ;; esac
  [ "${1%%.*}" = "$major" ] && [ "${1#*.}" -ge "$min_minor" ] 2>/dev/null && [ "${1#*.}" -lt "$end_minor" ]
}

# "python3 3.11": python3 when it is supported, else the newest supported python3.X on PATH; nothing if none
venv_base() {
  local candidates=python3 minor=$((end_minor - 1)) candidate version
  while [ "$minor" -ge "$min_minor" ]; do
    candidates="$candidates python$major.$minor" && minor=$((minor - 1))
  done
  for candidate in $candidates; do
    if version=$(python_version "$candidate") && is_supported "$version"; then
      echo "$candidate $version" && return
    fi
  done
}

# Makes .venv with `python3 -m venv`. Without ensurepip (Debian and Ubuntu without python3.X-venv), installs
# that package when root with apt, else stops with the command to run.
make_venv() {
  local found base version out package
  found=$(venv_base)
  if [ -z "$found" ]; then
    version=$(python_version python3) || fail "Fashion-MNIST Studio needs Python $supported, and there is no python3 on PATH: install one, then run this again"
    fail "Fashion-MNIST Studio needs Python $supported, and python3 is Python $version: install one of those (as python3 or python$major.N on PATH), then run this again"
  fi
  base=${found% *} && version=${found#* }
  echo "Making the virtual environment .venv with $base (Python $version)"
  if out=$("$base" -m venv .venv 2>&1); then return; fi
  rm -rf .venv
  case "$out" in
    *ensurepip*) ;;
    *) printf '%s\n' "$out" >&2 && fail "$base -m venv .venv failed (above)" ;;
  esac
  package="python$version-venv"
  if [ "$(id -u)" = 0 ] && command -v apt-get >/dev/null 2>&1; then
    echo "Installing $package with apt-get: $base -m venv needs it"
    { apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq "$package"; } >/dev/null \
      || fail "apt-get could not install $package, which $base -m venv needs"
    if ! out=$("$base" -m venv .venv 2>&1); then
      rm -rf .venv && printf '%s\n' "$out" >&2 && fail "$base -m venv .venv failed after installing $package (above)"
    fi
  elif command -v apt-get >/dev/null 2>&1; then
    fail "$base cannot make a virtual environment (ensurepip is not available): run 'sudo apt install $package', then run this again"
  else
    fail "$base cannot make a virtual environment (ensurepip is not available): install the venv module of Python $version, then run this again"
  fi
}

if [ "$STUDIO_OWN_VENV" = 1 ]; then
  if [ -e .venv ] && ! python_version "$STUDIO_PYTHON" >/dev/null; then
    echo ".venv does not run (was the Python it was made with removed?): making it again"
    rm -rf .venv
  fi
  if [ ! -e .venv ]; then make_venv; fi
  advice="delete .venv, then run this again"
elif [ -n "${PYTHON:-}" ]; then
  advice="name a supported one in PYTHON, or unset PYTHON to use .venv"
else
  advice="deactivate it to use .venv, or activate one with a supported Python"
fi
version=$(python_version "$STUDIO_PYTHON") || fail "$STUDIO_PYTHON does not run ($STUDIO_ENV_NAME)"
is_supported "$version" || fail "Fashion-MNIST Studio needs Python $supported, and $STUDIO_ENV_NAME has Python $version: $advice"

# The stamp of a mode: the requirement files it installs, for this Python.
wanted() {
  echo "# installed by scripts/install.sh $1 for Python $version"
  cat requirements.txt
  if [ "$1" = test ]; then cat requirements-dev.txt; fi
}
stamp() { echo "$STUDIO_ENV/fashion-mnist-studio-$1.installed"; }

if [ -n "$STUDIO_ENV" ] && [ -f "$(stamp "$what")" ] && [ "$(cat "$(stamp "$what")")" = "$(wanted "$what")" ]; then
  exit 0
fi

requirements=(-r requirements.txt)
if [ "$what" = test ]; then requirements+=(-r requirements-dev.txt); fi
echo "Installing ${requirements[*]} into $STUDIO_ENV_NAME (the first time takes minutes: torch is large)"
# In the project's .venv, pip leaves out its byte-compiling, one file after another, and compileall does it on
# every core: the same .pyc files, the install about 25 s shorter on 2 cores (torch and Ray hold many modules).
compile=--compile
if [ "$STUDIO_OWN_VENV" = 1 ]; then compile=--no-compile; fi
PIP_DISABLE_PIP_VERSION_CHECK=1 PIP_ROOT_USER_ACTION=ignore "$STUDIO_PYTHON" -m pip install --quiet "$compile" \
  "${requirements[@]}" || fail "pip could not install into $STUDIO_ENV_NAME (above)"
if [ "$STUDIO_OWN_VENV" = 1 ]; then
  site=$("$STUDIO_PYTHON" -c 'import sysconfig; print(sysconfig.get_paths()["purelib"])')
  "$STUDIO_PYTHON" -m compileall -q -j 0 "$site" >/dev/null 2>&1 || true # a few files are for newer Pythons: pip skips them too
fi
if [ -n "$STUDIO_ENV" ]; then
  modes=app
  if [ "$what" = test ]; then modes="app test"; fi
  for mode in $modes; do
    wanted "$mode" >"$(stamp "$mode")" || echo "note: no stamp written in $STUDIO_ENV: the next run installs again"
  done
fi

apt_packages=()
[ -d /usr/share/datasets/fashion-mnist ] || apt_packages+=(dataset-fashion-mnist)
[ "$what" = test ] && ! command -v chromium >/dev/null && apt_packages+=(chromium)
if [ ${#apt_packages[@]} -gt 0 ]; then
  if [ "$(id -u)" = 0 ] && command -v apt-get >/dev/null; then
    apt-get update -qq >/dev/null && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq "${apt_packages[@]}" >/dev/null \
      || echo "note: apt-get could not install ${apt_packages[*]}"
  else
    echo "note: not root or no apt-get: ${apt_packages[*]} not installed" \
         "(the dataset then comes from data/, FMNIST_DATA_DIR or torchvision's download)"
  fi
fi
