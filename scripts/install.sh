#!/usr/bin/env bash
# Install what Fashion-MNIST Studio needs. Usage: scripts/install.sh [app|test]
# Python packages from requirements*.txt; the dataset from Debian's package when apt is usable
# (otherwise the app downloads it with torchvision on first use); Chromium for the browser tests.
set -euo pipefail
cd "$(dirname "$0")/.."
what="${1:-app}"
PY="${PYTHON:-python3}"

"$PY" -m pip install --quiet --disable-pip-version-check --root-user-action=ignore -r requirements.txt
[ "$what" = test ] && "$PY" -m pip install --quiet --disable-pip-version-check --root-user-action=ignore -r requirements-dev.txt

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
