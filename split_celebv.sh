#!/usr/bin/env bash
# Copyright 2026 The facial-animation NNabla examples authors.
# Licensed under the Apache License, Version 2.0 (see LICENSE).
#
# Split every CelebV person's all_98pt.txt into train_98pt.txt (the first
# NUM_TRAIN lines) and test_98pt.txt (the rest).  No image is moved.
#
#   usage: ./split_celebv.sh DATAROOT [NUM_TRAIN]      (NUM_TRAIN defaults to 30000)
#
# DATAROOT is the CelebV folder (DATAROOT/<Person>/all_98pt.txt) or its parent.
# Every person folder is split, whatever its name.  Running it again gives the
# same files.  A person folder with images but without all_98pt.txt, or with
# no more than NUM_TRAIN lines, is an error and nothing is written.
set -euo pipefail

die() { echo "error: $*" >&2; exit 2; }

[ $# -ge 1 ] && [ $# -le 2 ] || die "usage: $0 DATAROOT [NUM_TRAIN]"
root=$1
num_train=${2:-30000}
[[ "$num_train" =~ ^[1-9][0-9]*$ ]] || die "NUM_TRAIN must be a positive integer, got '$num_train'"
[ -d "$root" ] || die "data root $root not found"
has_lists() { compgen -G "$1/*/all_98pt.txt" > /dev/null; }
if ! has_lists "$root" && [ -d "$root/CelebV" ]; then
    root="$root/CelebV"
fi

# Check every person first, so that a bad folder leaves nothing half-split.
persons=()
for folder in "$root"/*/; do
    folder=${folder%/}
    [ -d "$folder" ] || continue
    list="$folder/all_98pt.txt"
    if [ ! -f "$list" ]; then
        if [ -d "$folder/Image" ]; then
            die "$list not found"
        fi
        continue
    fi
    lines=$(awk 'NF { n++ } END { print n + 0 }' "$list")
    if [ "$lines" -le "$num_train" ]; then
        die "$list has $lines lines; NUM_TRAIN=$num_train leaves no test images"
    fi
    # Checked here, not when mktemp fails: by then other persons would be split.
    [ -w "$folder" ] && [ -x "$folder" ] || die "person folder $folder is not writable"
    persons+=("$folder")
done
[ ${#persons[@]} -gt 0 ] || die "no person folder with all_98pt.txt in $root"

for folder in "${persons[@]}"; do
    list="$folder/all_98pt.txt"
    tmp_train=$(mktemp "$folder/.train_98pt.XXXXXX")
    tmp_test=$(mktemp "$folder/.test_98pt.XXXXXX")
    trap 'rm -f "$tmp_train" "$tmp_test"' EXIT
    awk -v n="$num_train" -v train="$tmp_train" -v test="$tmp_test" \
        'NF { if (++i <= n) print > train; else print > test }' "$list"
    chmod 644 "$tmp_train" "$tmp_test"
    mv -f "$tmp_train" "$folder/train_98pt.txt"
    mv -f "$tmp_test" "$folder/test_98pt.txt"
    trap - EXIT
    echo "$(basename "$folder"): $(wc -l < "$folder/train_98pt.txt") train, $(wc -l < "$folder/test_98pt.txt") test"
done
