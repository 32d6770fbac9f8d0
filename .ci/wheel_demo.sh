#!/usr/bin/env bash
# The wheel away from the checkout: build it from a clean copy of the sources, install it with the
# runtime lock in a fresh venv, and run `dossier demo` from another directory; fails unless the demo
# exits 0 and shows pre-call briefs. Run from the repository root, after the set-up (.venv exists).
set -euo pipefail
work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT
mkdir "$work/src" "$work/run"
tar -c --exclude=./.git --exclude=./.venv --exclude=./build --exclude=./dist --exclude='*.egg-info' \
    --exclude=__pycache__ --exclude=./bench --exclude=./tests . | tar -x -C "$work/src"
.venv/bin/pip wheel -q --no-deps -w "$work/dist" "$work/src"
.venv/bin/python -m venv "$work/venv"  # the same Python as the set-up
"$work/venv/bin/pip" install -q --disable-pip-version-check -r requirements.lock
"$work/venv/bin/pip" install -q --disable-pip-version-check --no-deps "$work"/dist/dossier-*.whl
started=$(date +%s)
(cd "$work/run" && env -u DOSSIER_DATABASE_URL "$work/venv/bin/dossier" demo --directory "$work/demo") \
    | tee "$work/demo.log"
echo "dossier demo from the wheel: exit 0 in $(( $(date +%s) - started )) s"
grep -q "pre-call brief" "$work/demo.log"
