# Shared set-up for scripts/run and scripts/test (sourced, not executed).
# Installs the Debian packages the product needs, then the project into .venv.
set -euo pipefail

ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
cd "$ROOT"

read -r -a extra_packages <<< "${EXTRA_PACKAGES:-}"
# fonts-dejavu-core: the TTF that PDF reports and their charts draw Vietnamese with.
SYSTEM_PACKAGES=(ffmpeg espeak-ng libportaudio2 fonts-dejavu-core "${extra_packages[@]}")

missing=()
for pkg in "${SYSTEM_PACKAGES[@]}"; do
    if ! dpkg-query -W -f='${Status}' "$pkg" 2>/dev/null | grep -q "install ok installed"; then
        missing+=("$pkg")
    fi
done
if ((${#missing[@]})); then
    if [ "$(id -u)" = 0 ] && command -v apt-get >/dev/null; then
        echo "Installing system packages: ${missing[*]}"
        export DEBIAN_FRONTEND=noninteractive
        apt-get update -qq
        apt-get install -y -qq --no-install-recommends "${missing[@]}" >/dev/null
    else
        echo "Missing system packages: ${missing[*]}" >&2
        echo "Install them with:  sudo apt-get install ${missing[*]}" >&2
        exit 1
    fi
fi

PYTHON="${PYTHON:-python3}"
if [ ! -x .venv/bin/python ]; then
    "$PYTHON" -m venv .venv
fi
# Reinstall only when pyproject.toml changed since the last install.
stamp=".venv/.installed-$(sha1sum pyproject.toml | cut -c1-12)-${EXTRAS:-run}"
if [ ! -f "$stamp" ]; then
    echo "Installing broadcaster into .venv (log: .venv/pip.log)"
    target="."
    [ -n "${EXTRAS:-}" ] && target=".[${EXTRAS}]"
    if ! { .venv/bin/python -m pip install --upgrade pip &&
           .venv/bin/python -m pip install -e "$target"; } > .venv/pip.log 2>&1; then
        tail -n 30 .venv/pip.log >&2
        echo "pip install failed; the whole log is in .venv/pip.log" >&2
        exit 1
    fi
    rm -f .venv/.installed-*
    touch "$stamp"
fi
