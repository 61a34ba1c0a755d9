#!/usr/bin/env bash
# Copyright 2026 The facial-animation NNabla examples authors.
# Licensed under the Apache License, Version 2.0 (see LICENSE).
#
# Fetch the weights published by the public NNabla port of ReenactGAN:
#
#   pretrained_weights/converted/   the authors' encoder, Align and PCA, converted
#                                   (ReenactGAN_encoder_pretrained_weights.h5,
#                                   Align_40000.h5, PCA_weights.h5)
#   pretrained_weights/encoder/     the port's trained encoder
#   pretrained_weights/transformer/Kathleen2Donald_Trump/
#   pretrained_weights/decoder/Donald_Trump/
#                                   weights.h5 and training_info.yaml each
#
#   usage: ./download_pretrained_weight.sh
#   environment: DEST (default pretrained_weights), PYTHON (default .venv/bin/python),
#                BASE_URL (default the port's https://nnabla.org/... folder)
#
# Files already present are skipped.  No checksums or sizes are published for
# these files, so each download is checked by its content instead: the transfer
# must be complete (HTTP status and Content-Length, checked by curl/wget), the
# converted .h5 files must load strictly into the NNabla networks, the trained
# ones must be valid nnabla parameter files, and each training_info.yaml must
# be a YAML mapping.  A file is moved into place only after it passed, and its
# SHA-256 is appended to DEST/SHA256SUMS so that later copies can be compared.
#
# Without network access this says so in one line and exits 1: convert the
# authors' files yourself with reenactgan/convert_weights.py (see README).
# Any failure also exits 1 with one line and leaves no partial file.
set -euo pipefail
cd "$(dirname "$0")"

BASE_URL=${BASE_URL:-https://nnabla.org/pretrained-models/nnabla-examples/GANs/reenactgan}
DEST=${DEST:-pretrained_weights}
PYTHON=${PYTHON:-.venv/bin/python}

# remote path | local path under DEST | check (a convert_weights.py verify kind)
FILES="
ReenactGAN_encoder_pretrained_weights.h5|converted/ReenactGAN_encoder_pretrained_weights.h5|encoder
Align_40000.h5|converted/Align_40000.h5|align
PCA_weights.h5|converted/PCA_weights.h5|pca
encoder/weights.h5|encoder/weights.h5|any
encoder/training_info.yaml|encoder/training_info.yaml|yaml
transformer/weights.h5|transformer/Kathleen2Donald_Trump/weights.h5|any
transformer/training_info.yaml|transformer/Kathleen2Donald_Trump/training_info.yaml|yaml
decoder/weights.h5|decoder/Donald_Trump/weights.h5|any
decoder/training_info.yaml|decoder/Donald_Trump/training_info.yaml|yaml
"

die() { echo "error: $*" >&2; exit 1; }

fetch() {  # fetch URL FILE -> 0, or 10 when the host is unreachable, or 1
    local status=0
    if command -v curl > /dev/null 2>&1; then
        curl --fail --silent --location --retry 2 --connect-timeout 15 --max-time 1800 \
            --output "$2" "$1" 2> /dev/null || status=$?
        case $status in 0) return 0 ;; 5|6|7|28|35) return 10 ;; *) return 1 ;; esac
    elif command -v wget > /dev/null 2>&1; then
        wget --quiet --tries=2 --timeout=60 --output-document="$2" "$1" || status=$?
        case $status in 0) return 0 ;; 4) return 10 ;; *) return 1 ;; esac
    fi
    die "neither curl nor wget is installed"
}

part_of() {  # the temporary name keeps the extension: nnabla picks the format from it
    echo "${1%.*}.part-$$.${1##*.}"
}

missing=()
while IFS='|' read -r remote local kind; do
    [ -n "$remote" ] || continue
    if [ -s "$DEST/$local" ]; then
        echo "present, skipped: $DEST/$local"
    else
        missing+=("$remote|$local|$kind")
    fi
done <<< "$FILES"
[ ${#missing[@]} -gt 0 ] || { echo "all files present in $DEST"; exit 0; }

parts=()
made=()  # folders this run created, parents first: a failed run removes them again
cleanup() {
    [ ${#parts[@]} -eq 0 ] || rm -f "${parts[@]}"
    local i
    for ((i = ${#made[@]} - 1; i >= 0; i--)); do
        rmdir "${made[i]}" 2> /dev/null || true  # only when empty: kept after a success
    done
}
trap cleanup EXIT

make_dir() {
    local dir=$1 new=()
    while [ ! -d "$dir" ]; do
        new=("$dir" ${new[@]+"${new[@]}"})
        dir=$(dirname "$dir")
    done
    mkdir -p "$1" || die "cannot create $1"
    made+=(${new[@]+"${new[@]}"})
}

checks=()
for entry in "${missing[@]}"; do
    IFS='|' read -r remote local kind <<< "$entry"
    target="$DEST/$local"
    part=$(part_of "$target")
    make_dir "$(dirname "$target")"
    parts+=("$part")
    echo "downloading $BASE_URL/$remote"
    status=0
    fetch "$BASE_URL/$remote" "$part" || status=$?
    if [ $status -eq 10 ]; then
        die "offline: cannot reach ${BASE_URL%%/pretrained-models*}; convert the authors'" \
            "weights instead with python reenactgan/convert_weights.py (README: Converting" \
            "the authors' PyTorch weights)"
    elif [ $status -ne 0 ]; then
        die "download of $BASE_URL/$remote failed (not found or interrupted); nothing was" \
            "written for it"
    fi
    checks+=("$kind" "$part")
done

if [ -x "$PYTHON" ] || command -v "$PYTHON" > /dev/null 2>&1; then
    if ! message=$("$PYTHON" reenactgan/convert_weights.py verify "${checks[@]}" 2>&1 > /dev/null)
    then
        die "a download failed its check, nothing was moved into $DEST: ${message#error: }"
    fi
else
    echo "warning: $PYTHON not found (run make venv): the downloads are not checked" >&2
fi

for entry in "${missing[@]}"; do
    IFS='|' read -r remote local kind <<< "$entry"
    target="$DEST/$local"
    mv -f "$(part_of "$target")" "$target"
    sum=$(sha256sum "$target" 2> /dev/null || shasum -a 256 "$target")
    echo "${sum%% *}  $local" >> "$DEST/SHA256SUMS"
    echo "ok: $target"
done
