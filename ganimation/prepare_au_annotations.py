# Copyright 2026 The facial-animation NNabla examples authors.
#
# Licensed under the Apache License, Version 2.0 (the "License");
# you may not use this file except in compliance with the License.
# You may obtain a copy of the License at
#
#     http://www.apache.org/licenses/LICENSE-2.0
#
# Unless required by applicable law or agreed to in writing, software
# distributed under the License is distributed on an "AS IS" BASIS,
# WITHOUT WARRANTIES OR CONDITIONS OF ANY KIND, either express or implied.
# See the License for the specific language governing permissions and
# limitations under the License.
"""OpenFace CSVs -> ``aus_openface.pkl``, ``train_ids.csv`` and ``test_ids.csv``.

    python ganimation/prepare_au_annotations.py -ia openface_out/ -op datasets/celebA \
        [--image-dir datasets/celebA/imgs] [--min-confidence 0.88] [--test-ratio 0.1] [--seed 0]

Both OpenFace tools are understood, because the 17 ``AUxx_r`` columns are
found by name (the authors' fixed column slice is only right for
``FaceLandmarkImg -aus`` without other flags):

* ``FaceLandmarkImg -aus``: one CSV per image, the id is the CSV's name;
* ``FeatureExtraction -aus``: with one frame per CSV (``-f image.jpg``) the id
  is the CSV's name; a CSV of a whole folder (``-fdir imgs/``) has numbered
  frames, which ``--frame-image-dir`` maps back to the folder's images in
  sorted order (how OpenFace reads them).

Rows with ``success == 0`` or a confidence below ``--min-confidence`` are
dropped, and an image with several remaining faces is skipped (its crop is
ambiguous).  The pickle is protocol 2 like the authors' sample, so their
Python 2 code reads it too; values are the raw 0-5 intensities.
"""
import argparse
import collections
import csv
import glob
import os
import pickle
import sys

import numpy as np

from ganimation.data import AU_NAMES
from utils.atomic_files import atomic_path, atomic_write_text, ensure_writable_dir
from utils.user_errors import CorruptSampleError, UserError, run_main

AU_COLUMNS = tuple(name + "_r" for name in AU_NAMES)
# The formats OpenFace reads from a folder (-fdir): its frame order counts only these.
OPENFACE_IMAGE_EXTENSIONS = (".jpg", ".jpeg", ".png", ".bmp")

OpenFaceRow = collections.namedtuple("OpenFaceRow", "frame confidence success aus")


def read_openface_csv(path):
    """The face rows of one OpenFace CSV: frame (None without a frame column), confidence,
    success (True without a success column) and the 17 raw AU intensities."""
    try:
        with open(path, newline="") as f:
            rows = [[cell.strip() for cell in row] for row in csv.reader(f) if row]
    except (OSError, UnicodeDecodeError, csv.Error) as err:
        raise CorruptSampleError("cannot read {}: {}".format(path, err), "unreadable CSV")
    if not rows:
        raise CorruptSampleError("{} is empty".format(path), "empty CSV")
    column = {name: index for index, name in enumerate(rows[0])}
    missing = [name for name in AU_COLUMNS if name not in column]
    if missing:
        raise CorruptSampleError("{} has no column {} (run OpenFace with -aus)".format(
            path, missing[0]), "no AU intensity columns")
    au_columns = [column[name] for name in AU_COLUMNS]
    faces = []
    for values in rows[1:]:
        if len(values) != len(column):
            raise CorruptSampleError("{}: a row has {} values, the header {}".format(
                path, len(values), len(column)), "malformed CSV")
        try:
            faces.append(OpenFaceRow(
                int(float(values[column["frame"]])) if "frame" in column else None,
                float(values[column["confidence"]]) if "confidence" in column else 1.0,
                float(values[column["success"]]) != 0 if "success" in column else True,
                np.array([float(values[i]) for i in au_columns], dtype=np.float64)))
        except ValueError:
            raise CorruptSampleError("{}: a row has non-numeric values".format(path),
                                     "malformed CSV")
        if not np.all(np.isfinite(faces[-1].aus)):
            # float() reads "nan" and "inf"; one such value would make training NaN.
            raise CorruptSampleError("{}: a row has NaN or infinite AU intensities".format(path),
                                     "non-finite AU values")
    return faces


def list_frame_images(folder):
    """Image ids of a folder in OpenFace's ``-fdir`` frame order (sorted file names)."""
    if not os.path.isdir(folder):
        raise UserError("frame image folder {} not found".format(folder))
    names = sorted(n for n in os.listdir(folder) if n.lower().endswith(OPENFACE_IMAGE_EXTENSIONS))
    return [os.path.splitext(n)[0] for n in names]


def collect_aus(csv_paths, min_confidence=0.88, frame_images=None):
    """``({id: (17,) raw AUs}, Counter of skipped items by reason)`` from OpenFace CSVs."""
    aus = {}
    skipped = collections.Counter()
    for path in csv_paths:
        try:
            faces = read_openface_csv(path)
        except CorruptSampleError as err:
            skipped[err.reason] += 1
            continue
        frames = {face.frame for face in faces}
        by_id = collections.defaultdict(list)
        for face in faces:
            if len(frames) > 1:
                if frame_images is None:
                    raise UserError("{} holds {} frames (FeatureExtraction -fdir); pass "
                                    "--frame-image-dir with the folder OpenFace read".format(
                                        path, len(frames)))
                if not 1 <= face.frame <= len(frame_images):
                    skipped["frame without an image"] += 1
                    continue
                sample_id = frame_images[face.frame - 1]
            else:
                sample_id = os.path.splitext(os.path.basename(path))[0]
            by_id[sample_id].append(face)
        if not faces:
            skipped["no face"] += 1
        for sample_id, candidates in by_id.items():
            kept = [face for face in candidates if face.success]
            if not kept:
                skipped["tracking failed"] += 1
                continue
            kept = [face for face in kept if face.confidence >= min_confidence]
            if not kept:
                skipped["low confidence"] += 1
            elif len(kept) > 1:
                skipped["several faces"] += 1
            elif sample_id in aus:
                skipped["duplicate id"] += 1
            else:
                aus[sample_id] = kept[0].aus
    return aus, skipped


def split_ids(ids, test_ratio, seed):
    """(train, test) id lists, each sorted; ``round(len * test_ratio)`` test ids."""
    if not 0.0 <= test_ratio <= 1.0:
        raise UserError("--test-ratio must be within [0, 1], got {}".format(test_ratio))
    ids = sorted(ids)
    order = np.random.RandomState(seed).permutation(len(ids))
    num_test = int(round(len(ids) * test_ratio))
    test = sorted(ids[i] for i in order[:num_test])
    train = sorted(ids[i] for i in order[num_test:])
    return train, test


def write_annotations(out_dir, aus, train, test, aus_name="aus_openface.pkl",
                      image_extension=".jpg"):
    """Write the pickle and the two id lists (ids with ``image_extension``, as the authors)."""
    ensure_writable_dir(out_dir)
    with atomic_path(os.path.join(out_dir, aus_name)) as tmp:
        with open(tmp, "wb") as f:
            pickle.dump({k: np.asarray(v, dtype=np.float64) for k, v in aus.items()}, f,
                        protocol=2)
    for name, ids in (("train_ids.csv", train), ("test_ids.csv", test)):
        atomic_write_text(os.path.join(out_dir, name),
                          "".join(i + image_extension + "\n" for i in ids))


def _csv_paths(inputs):
    paths = []
    for item in inputs:
        if os.path.isdir(item):
            paths.extend(sorted(glob.glob(os.path.join(item, "*.csv"))))
        elif os.path.isfile(item):
            paths.append(item)
        else:
            raise UserError("{} is neither a CSV file nor a folder".format(item))
    if not paths:
        raise UserError("no CSV files in {}".format(", ".join(inputs)))
    return paths


def _image_ids(folder):
    return {os.path.splitext(n)[0] for n in os.listdir(folder)
            if n.lower().endswith(OPENFACE_IMAGE_EXTENSIONS)}


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("-ia", "--input-aus", nargs="+", required=True,
                        help="OpenFace CSV files or folders of them")
    parser.add_argument("-op", "--output-dir", required=True,
                        help="the data set folder (gets aus_openface.pkl and the id lists)")
    parser.add_argument("--image-dir", default=None,
                        help="keep only ids with an image here (default: <output-dir>/imgs "
                             "when it exists)")
    parser.add_argument("--frame-image-dir", default=None,
                        help="the folder a FeatureExtraction -fdir run read, to name its frames")
    parser.add_argument("--min-confidence", type=float, default=0.88,
                        help="drop faces OpenFace is less sure of (vipermu's threshold)")
    parser.add_argument("--test-ratio", type=float, default=0.1)
    parser.add_argument("--seed", type=int, default=0, help="seed of the train/test split")
    parser.add_argument("--aus-name", default="aus_openface.pkl")
    args = parser.parse_args(argv)

    frame_images = list_frame_images(args.frame_image_dir) if args.frame_image_dir else None
    aus, skipped = collect_aus(_csv_paths(args.input_aus), args.min_confidence, frame_images)
    image_dir = args.image_dir
    if image_dir is None and os.path.isdir(os.path.join(args.output_dir, "imgs")):
        image_dir = os.path.join(args.output_dir, "imgs")
    if image_dir is not None:
        if not os.path.isdir(image_dir):
            raise UserError("image folder {} not found".format(image_dir))
        present = _image_ids(image_dir)
        for sample_id in [i for i in aus if i not in present]:
            del aus[sample_id]
            skipped["no image"] += 1
    skipped_text = ", ".join("{} {}".format(n, reason) for reason, n in sorted(skipped.items()))
    if not aus:
        raise UserError("no usable AU rows in {} (skipped: {})".format(
            ", ".join(args.input_aus), skipped_text or "nothing"))
    train, test = split_ids(list(aus), args.test_ratio, args.seed)
    write_annotations(args.output_dir, aus, train, test, args.aus_name)
    print("{} AU vectors -> {} ({} train, {} test){}".format(
        len(aus), os.path.join(args.output_dir, args.aus_name), len(train), len(test),
        "; skipped: " + skipped_text if skipped_text else ""))
    return 0


if __name__ == "__main__":
    sys.exit(run_main(main))
