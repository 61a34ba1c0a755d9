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
"""The celebA/EmotioNet layout of the GANimation authors, as a data source.

    <data_dir>/imgs/<id>.jpg       128x128 RGB face crops
    <data_dir>/aus_openface.pkl    {id: 17 raw OpenFace AU intensities (0-5)}
    <data_dir>/train_ids.csv       one "<id>.jpg" per line, no header
    <data_dir>/test_ids.csv

The pickle of the public sample was written by Python 2 (latin1 strings,
float64 arrays built through ``numpy.core.multiarray._reconstruct``).  A
pickle can run any code while loading, so :func:`load_au_pickle` only lets
through the few globals that rebuild numpy arrays and refuses everything else.

:class:`AUFaceSource` returns (image (3, S, S) in [-1, 1], source AUs / 5,
target AUs / 5), float32; see :meth:`AUFaceSource.get` for the target draw.
"""
import collections
import csv
import os
import pickle

import cv2
import numpy as np

from utils.image_io import read_rgb, to_network_image
from utils.user_errors import UserError

# OpenFace's regressed AUs in its (alphabetical) column order: the order the
# networks see them in.
AU_NAMES = ("AU01", "AU02", "AU04", "AU05", "AU06", "AU07", "AU09", "AU10", "AU12",
            "AU14", "AU15", "AU17", "AU20", "AU23", "AU25", "AU26", "AU45")
NUM_AUS = len(AU_NAMES)
AU_SCALE = 5.0  # OpenFace intensities are 0-5; the networks see them divided by this

# The globals a pickle of {str: ndarray} may name, under numpy 1.x and 2.x
# module paths, and in Python 3's protocol-2 encoding of bytes.
_PICKLE_GLOBALS = {
    ("numpy.core.multiarray", "_reconstruct"),
    ("numpy._core.multiarray", "_reconstruct"),
    ("numpy.core.numeric", "_frombuffer"),
    ("numpy._core.numeric", "_frombuffer"),
    ("numpy", "ndarray"),
    ("numpy", "dtype"),
    ("_codecs", "encode"),
}


class _ArraysOnlyUnpickler(pickle.Unpickler):

    def find_class(self, module, name):
        if (module, name) in _PICKLE_GLOBALS:
            return super().find_class(module, name)
        raise pickle.UnpicklingError(
            "refusing to load '{}.{}': an AU file holds only a dict of strings and "
            "numpy arrays".format(module, name))


def load_au_pickle(path):
    """Read ``{id: (17,) float64}`` from an AU pickle (Python 2 or 3) without running code.

    Anything but a dict of string keys and numeric numpy arrays of 17 values
    is refused with a :class:`UserError`.
    """
    if not os.path.isfile(path):
        raise UserError("AU file {} not found".format(path))
    try:
        with open(path, "rb") as f:
            table = _ArraysOnlyUnpickler(f, encoding="latin1").load()
    except pickle.UnpicklingError as err:
        raise UserError("{}: {}".format(path, err))
    except Exception as err:
        raise UserError("{} is not a readable AU pickle: {}".format(
            path, " ".join(str(err).split()) or type(err).__name__))
    if not isinstance(table, dict):
        raise UserError("{} holds a {}, not a dict of AU vectors".format(
            path, type(table).__name__))
    aus = {}
    for key, value in table.items():
        if isinstance(key, bytes):
            key = key.decode("latin1")
        if not isinstance(key, str):
            raise UserError("{}: key {!r} is not a string".format(path, key))
        if not isinstance(value, np.ndarray) or value.dtype.kind not in "fiu" or \
                value.size != NUM_AUS:
            raise UserError("{}: the value of '{}' is not an array of {} AU intensities".format(
                path, key, NUM_AUS))
        aus[key] = value.astype(np.float64).reshape(NUM_AUS)
    return aus


def read_id_list(path):
    """Image ids of a ``*_ids.csv``: the first tab-separated field, without its extension."""
    if not os.path.isfile(path):
        raise UserError("id list {} not found".format(path))
    ids = []
    with open(path, newline="") as f:
        for row in csv.reader(f, delimiter="\t"):
            if row and row[0].strip():
                ids.append(os.path.splitext(row[0].strip())[0])
    return ids


def _assignments(text):
    """(AU name, raw value) of each ``NAME=value`` of ``"AU12=3,AU25=2"``, checked."""
    for item in text.split(","):
        if not item.strip():
            continue
        name, sep, value = item.partition("=")
        name = name.strip().upper()
        if name.endswith("_R"):
            name = name[:-2]
        if len(name) == 3 and name[:2] == "AU":
            name = "AU0" + name[2]  # AU1 -> AU01
        if not sep or name not in AU_NAMES:
            raise UserError("cannot read AU assignment '{}': expected NAME=value with NAME one "
                            "of {}".format(item.strip(), ", ".join(AU_NAMES)))
        try:
            number = float(value)
        except ValueError:
            number = float("nan")
        if not np.isfinite(number):
            raise UserError("AU assignment '{}': '{}' is not a finite number".format(
                item.strip(), value.strip()))
        if not 0.0 <= number <= AU_SCALE:
            raise UserError("AU assignment '{}': intensities run from 0 to {:g} (OpenFace's "
                            "scale)".format(item.strip(), AU_SCALE))
        yield name, number


def parse_au_assignments(text, base=None):
    """``"AU12=3,AU25=2"`` (raw 0-5) -> a (17,) raw vector: ``base`` (or zeros) with those set."""
    aus = np.zeros(NUM_AUS) if base is None else np.array(base, dtype=np.float64)
    for name, number in _assignments(text):
        aus[AU_NAMES.index(name)] = number
    return aus


def assignments_label(text):
    """What ``"au12=3, AU25=2.5"`` asks, as a file-name part: ``AU12-3_AU25-2.5``."""
    return "_".join("{}-{:g}".format(name, number) for name, number in _assignments(text))


def read_au_vectors(path):
    """Targets from a text file: per line an optional name, then 17 raw AU values.

    Values are separated by spaces or commas (vipermu's ``attributes.txt``
    format is one of them); lines starting with ``#`` are skipped.  Returns
    ``[(name, (17,) raw vector)]``; unnamed lines are named ``aus<k>``.
    """
    if not os.path.isfile(path):
        raise UserError("AU file {} not found".format(path))
    vectors = []
    with open(path) as f:
        for number, line in enumerate(f, 1):
            fields = line.replace(",", " ").split()
            if not fields or fields[0].startswith("#"):
                continue
            name = "aus{}".format(len(vectors))
            if len(fields) == NUM_AUS + 1:
                name, fields = os.path.splitext(os.path.basename(fields[0]))[0], fields[1:]
            try:
                values = np.array([float(v) for v in fields])
            except ValueError:
                values = None
            if values is None or values.shape != (NUM_AUS,) or not np.all(np.isfinite(values)):
                raise UserError("{} line {}: expected an optional name and {} finite "
                                "numbers".format(path, number, NUM_AUS))
            if values.min() < 0.0 or values.max() > AU_SCALE:
                raise UserError("{} line {}: AU intensities run from 0 to {:g} (OpenFace's "
                                "scale), got {:g}".format(path, number, AU_SCALE,
                                                          values.max() if values.max() > AU_SCALE
                                                          else values.min()))
            vectors.append((name, values))
    if not vectors:
        raise UserError("{} holds no AU vectors".format(path))
    return vectors


def mask_to_uint8(mask_chw):
    """A (1, H, W) mask in [0, 1] -> HxWx3 grey uint8."""
    grey = np.rint(np.clip(np.asarray(mask_chw)[0], 0.0, 1.0) * 255).astype(np.uint8)
    return np.repeat(grey[:, :, None], 3, axis=2)


def resize_face(rgb, size):
    """A face crop at ``size`` x ``size`` (INTER_AREA when shrinking)."""
    if rgb.shape[:2] == (size, size):
        return rgb
    shrink = rgb.shape[0] > size or rgb.shape[1] > size
    return cv2.resize(rgb, (size, size),
                      interpolation=cv2.INTER_AREA if shrink else cv2.INTER_LINEAR)


class AUFaceSource:
    """Faces of one split with their AUs, for :class:`utils.batching.BatchIterator`.

    Args:
        data_dir: the data set folder (layout above).
        split: "train" or "test" (reads ``<split>_ids.csv``).
        image_size: images of another size are resized (the authors' loader
            never resized, so their data had to be 128x128 already).
        flip: random horizontal flip when a sample rng is given.
        target_noise: half-width of the uniform noise added to target AUs.
        clamp_targets: clip noisy targets to [0, 1] (replications) instead
            of leaving them unclipped (authors).
        aus_file: the pickle's name inside ``data_dir``.
        verbose: print the summary of skipped ids.
    """

    def __init__(self, data_dir, split="train", image_size=128, flip=True, target_noise=0.1,
                 clamp_targets=False, aus_file="aus_openface.pkl", verbose=True):
        if not os.path.isdir(data_dir):
            raise UserError("data folder {} not found".format(data_dir))
        self.data_dir = data_dir
        self.split = split
        self.image_size = int(image_size)
        self.flip = flip
        self.target_noise = float(target_noise)
        self.clamp_targets = clamp_targets
        listed = read_id_list(os.path.join(data_dir, "{}_ids.csv".format(split)))
        table = load_au_pickle(os.path.join(data_dir, aus_file))
        self.skipped = collections.Counter()
        self.ids = []
        seen = set()
        for sample_id in listed:
            if sample_id in seen:
                self.skipped["duplicate id"] += 1
            elif sample_id not in table:
                self.skipped["no AUs"] += 1
            elif not np.all(np.isfinite(table[sample_id])):
                # One NaN would make every loss NaN and stop the run.
                self.skipped["non-finite AUs"] += 1
            elif not os.path.isfile(self.image_path(sample_id)):
                self.skipped["missing image"] += 1
            else:
                self.ids.append(sample_id)
            seen.add(sample_id)
        self.label = "{} {}".format(data_dir, split)
        if verbose:
            print(self.summary())
        if not self.ids:
            raise UserError("no usable {} samples in {} ({} ids listed{})".format(
                split, data_dir, len(listed), self._skipped_text()))
        self.aus = np.stack([table[i] for i in self.ids]).astype(np.float32) / AU_SCALE

    def image_path(self, sample_id):
        return os.path.join(self.data_dir, "imgs", sample_id + ".jpg")

    def _skipped_text(self):
        if not self.skipped:
            return ""
        return "; skipped: " + ", ".join("{} {}".format(count, reason)
                                         for reason, count in sorted(self.skipped.items()))

    def summary(self):
        return "{} {}: {} samples{}".format(self.data_dir, self.split, len(self.ids),
                                            self._skipped_text())

    def __len__(self):
        return len(self.ids)

    def image(self, index):
        """The face of sample ``index`` as (3, S, S) in [-1, 1]."""
        rgb = resize_face(read_rgb(self.image_path(self.ids[index])), self.image_size)
        return to_network_image(rgb)

    def evaluation_target(self, index):
        """The sample whose AUs are sample ``index``'s target in evaluation: half the set away."""
        return (index + len(self) // 2) % len(self)

    def target_aus(self, index, rng):
        """Another sample's AUs plus U(-noise, noise) per AU, drawn from ``rng``.

        Without rng (evaluation) the target is the AUs of the sample half the
        set away, without noise, so evaluation batches are reproducible.
        """
        if rng is None:
            return self.aus[self.evaluation_target(index)]
        other = rng.randint(len(self))
        target = self.aus[other] + rng.uniform(-self.target_noise, self.target_noise, NUM_AUS)
        if self.clamp_targets:
            target = np.clip(target, 0.0, 1.0)
        return target.astype(np.float32)

    def get(self, index, rng=None):
        image = self.image(index)
        if rng is not None and self.flip and rng.uniform() < 0.5:
            # The AUs of a mirrored face are the same: OpenFace's AUs are not sided.
            image = np.ascontiguousarray(image[:, :, ::-1])
        return image, self.aus[index].copy(), self.target_aus(index, rng)
