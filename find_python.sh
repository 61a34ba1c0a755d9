#!/bin/sh
# Copyright 2026 The facial-animation NNabla examples authors.
# Licensed under the Apache License, Version 2.0 (see LICENSE).
#
# Print the path of a Python 3.8-3.10 interpreter (nnabla 1.39 has wheels for
# those versions only).  Order: $PYTHON, python3.10/3.9/3.8 on PATH that really
# run, python3/python, then pyenv's versions folder.  Exit 1 with advice if none.

works() {
    "$1" -c 'import sys, venv; sys.exit(not ((3, 8) <= sys.version_info[:2] <= (3, 10)))' \
        > /dev/null 2>&1
}

if [ -n "${PYTHON:-}" ]; then
    if works "$PYTHON"; then command -v "$PYTHON" || echo "$PYTHON"; exit 0; fi
    echo "error: PYTHON=$PYTHON is not a working Python 3.8-3.10 interpreter" >&2
    exit 1
fi
for candidate in python3.10 python3.9 python3.8 python3 python; do
    if command -v "$candidate" > /dev/null 2>&1 && works "$candidate"; then
        command -v "$candidate"; exit 0
    fi
done
pyenv_root=${PYENV_ROOT:-$HOME/.pyenv}
if command -v pyenv > /dev/null 2>&1; then
    pyenv_root=$(pyenv root 2>/dev/null || echo "$pyenv_root")
fi
for version in 3.10 3.9 3.8; do
    for candidate in $(ls -d "$pyenv_root"/versions/"$version".* 2>/dev/null | sort -t. -k3 -n -r); do
        if works "$candidate/bin/python"; then echo "$candidate/bin/python"; exit 0; fi
    done
done
cat >&2 <<'MSG'
error: no Python 3.8, 3.9 or 3.10 interpreter found (nnabla 1.39 has no wheels for newer ones).
Install one and run again, or point to it with `make PYTHON=/path/to/python3.10 ...`:
  pyenv:   pyenv install 3.10
  uv:      uv python install 3.10
  conda:   conda create -n nnabla python=3.10
  Debian/Ubuntu: apt install python3.10 python3.10-venv (deadsnakes PPA on Ubuntu)
MSG
exit 1
