#!/usr/bin/env bash
# One entry point for a fresh machine:
#   ./dev.sh app [FOLDER]   set up .venv and open the app (bundled samples by default)
#   ./dev.sh test [ARGS]    set up .venv with the test extra, check layers, run the tests
set -euo pipefail
cd "$(dirname "$0")"
VENV=${UNET_DESKTOP_VENV:-.venv}
PY=${PYTHON:-python3}

setup() {  # $1: pip extras, e.g. "[test]"
    if [ ! -x "$VENV/bin/python" ]; then
        "$PY" -m venv "$VENV"
        "$VENV/bin/python" -m pip install -q --upgrade pip
    fi
    local stamp="$VENV/.installed$1"
    if [ ! -f "$stamp" ] || [ pyproject.toml -nt "$stamp" ]; then
        "$VENV/bin/python" -m pip install -q -e ".$1"
        touch "$stamp"
    fi
}

case "${1:-}" in
    app)
        shift
        setup ""
        exec "$VENV/bin/unet-desktop" "$@"
        ;;
    test)
        shift
        setup "[test]"
        "$VENV/bin/lint-imports"
        QT_QPA_PLATFORM=offscreen exec "$VENV/bin/python" -m pytest "$@"
        ;;
    *)
        echo "usage: ./dev.sh app [FOLDER] | ./dev.sh test [PYTEST ARGS]" >&2
        exit 2
        ;;
esac
