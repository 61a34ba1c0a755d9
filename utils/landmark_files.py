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
"""Readers for the landmark annotation files of CelebV and WFLW.

CelebV ``<Person>/all_98pt.txt`` (and ``train_98pt.txt``/``test_98pt.txt``):
one image per line, ``x0 y0 ... x97 y97 <image file name>``.

WFLW ``list_98pt_rect_attr_{train,test}.txt``: one face per line, 207 tokens:
196 landmark coordinates, the detection box ``x_min y_min x_max y_max``, six
0/1 attributes (pose, expression, illumination, make-up, occlusion, blur) and
the image path relative to ``WFLW_images/``.

A malformed line raises :class:`CorruptSampleError` with reason
``"bad annotation line"``, and landmarks far outside their image (a units
mix-up, a broken detector) one with reason ``"landmarks outside the image"``;
callers skip and count them.
"""
import collections
import os

import numpy as np

from .face_layout import NUM_LANDMARKS
from .user_errors import CorruptSampleError, UserError

BAD_LINE = "bad annotation line"
OUTSIDE = "landmarks outside the image"
# Landmarks further than this (in image sizes) outside the image mean a broken line;
# a face cut by the border legitimately has a few points just outside.
MAX_OUTSIDE = 0.5
CELEBV_FRAME_SIZE = 256  # CelebV frames are aligned 256x256 crops
WFLW_ANNOTATION = os.path.join("WFLW_annotations", "list_98pt_rect_attr_train_test",
                               "list_98pt_rect_attr_{mode}.txt")
CELEBV_LISTS = {"all": "all_98pt.txt", "train": "train_98pt.txt", "test": "test_98pt.txt"}
WFLW_ATTRIBUTES = ("pose", "expression", "illumination", "make-up", "occlusion", "blur")

WflwFace = collections.namedtuple("WflwFace", "landmarks box attributes image_path")


def _landmarks(tokens, where):
    try:
        values = np.array([float(t) for t in tokens], dtype=np.float64)
    except ValueError:
        raise CorruptSampleError("{}: landmark values are not numbers".format(where), BAD_LINE)
    if not np.all(np.isfinite(values)):
        raise CorruptSampleError("{}: landmarks contain NaN or inf".format(where), BAD_LINE)
    return values.reshape(NUM_LANDMARKS, 2)


def check_landmarks_inside(landmarks, height, width, where):
    """Raise a CorruptSampleError if a landmark lies far outside a ``width`` x ``height`` image."""
    margin_x, margin_y = MAX_OUTSIDE * width, MAX_OUTSIDE * height
    x, y = landmarks[:, 0], landmarks[:, 1]
    if (x.min() < -margin_x or x.max() > width + margin_x
            or y.min() < -margin_y or y.max() > height + margin_y):
        raise CorruptSampleError("{}: landmarks lie far outside the {}x{} image".format(
            where, width, height), OUTSIDE)


def parse_celebv_line(line, where="line"):
    """``(image_name, landmarks (98, 2))`` from one ``all_98pt.txt`` line."""
    tokens = line.split()
    if len(tokens) != 2 * NUM_LANDMARKS + 1:
        raise CorruptSampleError("{}: expected 196 numbers and a file name, got {} tokens".format(
            where, len(tokens)), BAD_LINE)
    return tokens[-1], _landmarks(tokens[:-1], where)


def parse_wflw_line(line, where="line"):
    """A :class:`WflwFace` from one WFLW annotation line."""
    tokens = line.split()
    if len(tokens) != 2 * NUM_LANDMARKS + 4 + 6 + 1:
        raise CorruptSampleError("{}: expected 207 tokens, got {}".format(where, len(tokens)),
                                 BAD_LINE)
    landmarks = _landmarks(tokens[:2 * NUM_LANDMARKS], where)
    try:
        box = np.array([float(t) for t in tokens[196:200]])
        attributes = np.array([int(t) for t in tokens[200:206]], dtype=np.int64)
    except ValueError:
        raise CorruptSampleError("{}: box or attributes are not numbers".format(where), BAD_LINE)
    if not np.all(np.isfinite(box)) or box[2] <= box[0] or box[3] <= box[1]:
        raise CorruptSampleError("{}: invalid detection box {}".format(where, box.tolist()),
                                 BAD_LINE)
    return WflwFace(landmarks, box, attributes, tokens[-1])


def read_lines(path):
    """Non-empty lines of a text annotation file (UserError if it is missing)."""
    try:
        with open(path, "r", encoding="utf-8") as f:
            return [(number, line) for number, line in enumerate(f) if line.strip()]
    except FileNotFoundError:
        raise UserError("annotation file {} not found".format(path))
    except UnicodeDecodeError:
        raise UserError("annotation file {} is not a text file".format(path))


def read_celebv_annotations(path):
    """Parse a CelebV landmark list.

    Returns ``(entries, bad)``: a list of ``(image_name, landmarks)`` and a list
    of ``(line_number, message)`` for the lines that could not be parsed.
    """
    entries, bad = [], []
    for number, line in read_lines(path):
        try:
            entries.append(parse_celebv_line(line, "{}:{}".format(path, number + 1)))
        except CorruptSampleError as err:
            bad.append((number, str(err)))
    return entries, bad


def read_celebv_frames(path, tally, frame_size=CELEBV_FRAME_SIZE):
    """The usable ``(image_name, landmarks)`` of a CelebV list of aligned frames.

    Malformed lines and, with ``frame_size``, landmarks far outside the
    ``frame_size`` square are skipped and added to ``tally`` (a
    :class:`~utils.user_errors.SkipTally`).
    """
    entries = []
    for number, line in read_lines(path):
        where = "{}:{}".format(path, number + 1)
        try:
            name, landmarks = parse_celebv_line(line, where)
            if frame_size:
                check_landmarks_inside(landmarks, frame_size, frame_size, where)
        except CorruptSampleError as err:
            tally.add(err)
            continue
        entries.append((name, landmarks))
    return entries


def format_celebv_line(image_name, landmarks):
    """One ``all_98pt.txt`` line (without the newline)."""
    coords = " ".join("{:.3f}".format(v) for v in np.asarray(landmarks, dtype=np.float64).ravel())
    return "{} {}".format(coords, image_name)


def find_wflw_root(src_dir, mode):
    """The WFLW folder (holding WFLW_images/ and WFLW_annotations/): src_dir or src_dir/WFLW."""
    for root in (src_dir, os.path.join(src_dir, "WFLW")):
        if os.path.isfile(os.path.join(root, WFLW_ANNOTATION.format(mode=mode))):
            return root
    raise UserError("WFLW annotation file {} not found (the folder should hold WFLW_images/ "
                    "and WFLW_annotations/)".format(
                        os.path.join(src_dir, WFLW_ANNOTATION.format(mode=mode))))


def celebv_list_path(person_dir, mode):
    """The landmark list of a CelebV person for ``mode`` (all, train or test)."""
    if mode not in CELEBV_LISTS:
        raise UserError("unknown CelebV mode '{}'; valid: {}".format(mode, ", ".join(CELEBV_LISTS)))
    path = os.path.join(person_dir, CELEBV_LISTS[mode])
    if not os.path.isfile(path):
        hint = " (run split_celebv.sh first)" if mode != "all" else ""
        raise UserError("{} not found{}".format(path, hint))
    return path


def list_celebv_persons(celebv_dir):
    """Person folders of a CelebV tree that have an all_98pt.txt."""
    if not os.path.isdir(celebv_dir):
        return []
    return sorted(name for name in os.listdir(celebv_dir)
                  if os.path.isfile(os.path.join(celebv_dir, name, "all_98pt.txt")))
