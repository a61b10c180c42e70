#!/usr/bin/env bash
# One entry point for a fresh machine:
#   ./dev.sh app [FOLDER]   set up .venv and open the app (bundled samples by default)
#   ./dev.sh test [ARGS]    set up .venv with the test extra, check layers, run the tests
set -euo pipefail
CALLED_FROM=$PWD  # a relative FOLDER is the caller's, not the repository's
cd "$(dirname "$0")"
VENV=${UNET_DESKTOP_VENV:-.venv}
PY=${PYTHON:-python3}

usable_venv() {  # a Python >= 3.10 with pip (a half-made venv, e.g. without python3-venv, has none)
    [ -x "$VENV/bin/python" ] && "$VENV/bin/python" -c \
        'import sys, pip; sys.exit(sys.version_info < (3, 10))' 2>/dev/null
}

setup() {  # $1: pip extras, e.g. "[test]"
    if [ -e "$VENV" ] && ! usable_venv; then
        echo "$VENV has no pip or a Python older than 3.10: making it again with $PY" >&2
        rm -rf "$VENV"
    fi
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
        if [ $# -gt 0 ] && [ "${1#/}" = "$1" ] && [ "${1#-}" = "$1" ]; then
            set -- "$CALLED_FROM/$1" "${@:2}"
        fi
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
