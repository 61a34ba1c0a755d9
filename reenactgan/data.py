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
"""Data sources of the ReenactGAN scripts (WFLW for the encoder, CelebV persons).

A source has ``len()`` and ``get(index, rng)`` returning a tuple of float32
arrays; ``rng`` (None at test time) drives augmentation.  Batching, shuffling
and resumable order live in :class:`utils.batching.BatchIterator`.

Conventions: images are (3, 256, 256) in [-1, 1] (``x / 127.5 - 1``);
heatmaps are (15, H, W) in [0, 1] (uint8 / 255).
"""
import os
import threading

import numpy as np

from utils.boundary_heatmaps import draw_boundary_heatmaps
from utils.face_crop import crop_face, flip_heatmaps, flip_landmarks, random_similarity, \
    scale_affine, transform_points, warp_heatmaps, warp_image
from utils.image_io import read_rgb, to_network_image
from utils.landmark_files import WFLW_ANNOTATION, celebv_list_path, check_landmarks_inside, \
    find_wflw_root, list_celebv_persons, parse_wflw_line, read_celebv_frames, read_lines
from utils.user_errors import CorruptSampleError, SkipTally, UserError

IMAGE_SIZE = 256


def denormalize_image(chw):
    """[-1, 1] CHW -> [0, 1] CHW (for pictures)."""
    return np.clip((np.asarray(chw) + 1.0) / 2.0, 0.0, 1.0)


class HeatmapRenderer:
    """Draws boundary heatmaps with the options of a config's ``preprocess`` section."""

    def __init__(self, preprocess):
        self.size = tuple(preprocess.get("resize_size", (64, 64)))
        self.kwargs = dict(line_thickness=preprocess.get("line_thickness", 3),
                           gaussian_kernel=tuple(preprocess.get("gaussian_kernel", (5, 5))),
                           gaussian_sigma=preprocess.get("gaussian_sigma", 3),
                           port_compatible=preprocess.get("port_compatible_boundaries", False))

    def uint8(self, landmarks, image_shape=(IMAGE_SIZE, IMAGE_SIZE), size=None):
        """(15, H, W) uint8 maps, as the caches store them; ``size`` defaults to resize_size."""
        return draw_boundary_heatmaps(landmarks, image_shape, out_size=size or self.size,
                                      **self.kwargs)

    def __call__(self, landmarks, image_shape=(IMAGE_SIZE, IMAGE_SIZE), size=None):
        """The maps in [0, 1], as the networks see them."""
        return self.uint8(landmarks, image_shape, size).astype(np.float32) / 255.0


class Augmentation:
    """Random similarity (shift, zoom, rotation) and horizontal flip of a face.

    Applied to the image and its landmarks, after which heatmaps are redrawn,
    so a flip also swaps the left/right boundary channels.
    """

    def __init__(self, shift, scale, rotate, flip, border="constant"):
        self.shift, self.scale, self.rotate, self.flip = shift, scale, rotate, flip
        self.border = border

    @classmethod
    def from_config(cls, train):
        if not train.get("augmentation"):
            return None
        return cls(train["shift"] * IMAGE_SIZE, train["scale"], train["rotate"], train["flip"])

    def draw(self, rng):
        """(matrix in the 256 frame, flip?) for one sample."""
        matrix = random_similarity(rng, IMAGE_SIZE, self.shift, self.scale, self.rotate)
        return matrix, bool(self.flip and rng.uniform() < 0.5)

    def apply(self, rng, image, landmarks=None, heatmaps=None):
        """Augment an HWC uint8 image (or None) with its landmarks or (if none) its heatmaps."""
        matrix, flip = self.draw(rng)
        if image is not None:
            image = warp_image(image, matrix, IMAGE_SIZE, self.border)
        if landmarks is not None:
            landmarks = transform_points(landmarks, matrix)
        if heatmaps is not None:
            factor = heatmaps.shape[-1] / float(IMAGE_SIZE)
            heatmaps = warp_heatmaps(heatmaps, scale_affine(matrix, factor))
        if flip:
            if image is not None:
                image = np.ascontiguousarray(image[:, ::-1])
            if landmarks is not None:
                landmarks = flip_landmarks(landmarks, IMAGE_SIZE)
            if heatmaps is not None:
                heatmaps = flip_heatmaps(heatmaps)
        return image, landmarks, heatmaps


class _NpzReader:
    """Arrays of an npz read on demand; one open file per thread (zip handles are not shared)."""

    def __init__(self, path):
        if not os.path.isfile(path):
            raise UserError("cache file {} not found".format(path))
        self.path = path
        self._local = threading.local()
        self.keys = self._file().files

    def _file(self):
        handle = getattr(self._local, "npz", None)
        if handle is None:
            try:
                handle = np.load(self.path)
            except Exception as err:
                raise UserError("cannot read cache file {}: {}".format(self.path, err))
            self._local.npz = handle
        return handle

    def __contains__(self, key):
        return key in self.keys

    def __getitem__(self, key):
        try:
            return self._file()[key]
        except KeyError:
            raise CorruptSampleError("{} has no entry {}".format(self.path, key), "missing entry")
        except Exception as err:
            raise CorruptSampleError("{}[{}]: {}".format(self.path, key, err), "corrupt entry")


class WFLWSource:
    """WFLW faces and boundary heatmaps, for the encoder.

    ``data_dir`` is either preprocess.py's output (``WFLW_cropped_image_<mode>.npz``,
    ``WFLW_heatmap_<mode>.npz`` and, from this project, ``WFLW_landmarks_<mode>.npz``)
    or a raw WFLW folder, whose faces are then cropped on the fly.
    """

    def __init__(self, data_dir, mode, preprocess, augmentation=None):
        self.mode = mode
        self.label = "WFLW {}".format(mode)
        self.render = HeatmapRenderer(preprocess)
        self.augmentation = augmentation
        self.margin = preprocess.get("crop_margin", 0.1)
        self.skips = SkipTally()
        crops = os.path.join(data_dir, "WFLW_cropped_image_{}.npz".format(mode))
        if os.path.isfile(crops):
            self._from_cache(data_dir, mode)
        elif os.path.isdir(data_dir):
            self._from_annotations(data_dir, mode)
        else:
            raise UserError("WFLW data folder {} not found (run preprocess.py --dataset WFLW, "
                            "or point path.data_dir to a WFLW folder)".format(data_dir))

    def _from_cache(self, data_dir, mode):
        self.images = _NpzReader(os.path.join(data_dir, "WFLW_cropped_image_{}.npz".format(mode)))
        self.heatmaps = _NpzReader(os.path.join(data_dir, "WFLW_heatmap_{}.npz".format(mode)))
        marks = os.path.join(data_dir, "WFLW_landmarks_{}.npz".format(mode))
        self.landmarks = _NpzReader(marks) if os.path.isfile(marks) else None
        keys = [k for k in self.images.keys if k in self.heatmaps]
        self.names = sorted(keys, key=lambda k: int(k.rsplit("_", 1)[1].split(".")[0])
                            if k.rsplit("_", 1)[-1].split(".")[0].isdigit() else k)
        self.faces = None

    def _from_annotations(self, data_dir, mode):
        root = find_wflw_root(data_dir, mode)
        self.image_dir = os.path.join(root, "WFLW_images")
        path = os.path.join(root, WFLW_ANNOTATION.format(mode=mode))
        self.faces = []
        for number, line in read_lines(path):
            try:
                self.faces.append(parse_wflw_line(line, "{}:{}".format(path, number + 1)))
            except CorruptSampleError as err:
                self.skips.add(err)
        self.names = ["{}_{}.png".format(mode, i) for i in range(len(self.faces))]
        if len(self.skips):
            print(self.skips.summary("{} ({} usable faces)".format(path, len(self.faces))))

    def __len__(self):
        return len(self.names)

    def _sample(self, index):
        """(HWC uint8 image, landmarks or None, uint8 heatmaps or None)."""
        if self.faces is None:
            name = self.names[index]
            image = self.images[name].transpose(1, 2, 0)
            landmarks = self.landmarks[name].astype(np.float64) if self.landmarks else None
            heatmaps = None if landmarks is not None else self.heatmaps[name]
            return image, landmarks, heatmaps
        face = self.faces[index]
        image = read_rgb(os.path.join(self.image_dir, face.image_path))
        check_landmarks_inside(face.landmarks, image.shape[0], image.shape[1], face.image_path)
        crop, landmarks = crop_face(image, face.landmarks, face.box, IMAGE_SIZE, self.margin)
        return crop, landmarks, None

    def get(self, index, rng=None):
        image, landmarks, heatmaps = self._sample(index)
        if rng is not None and self.augmentation is not None:
            image, landmarks, heatmaps = self.augmentation.apply(rng, image, landmarks, heatmaps)
        if landmarks is not None:
            maps = self.render(landmarks)
        else:
            maps = heatmaps.astype(np.float32) / 255.0
        return to_network_image(image), maps


class CelebVSource:
    """Frames of one CelebV person.

    Args:
        celebv_dir: the CelebV folder (``<Person>/Image/`` + landmark lists).
        person: the person folder name (any name).
        mode: ``all`` (all_98pt.txt), ``train`` or ``test`` (split_celebv.sh output).
        outputs: any of ``image`` (3, 256, 256), ``heatmap`` (15, 64, 64),
            ``heatmap256`` (15, 256, 256), ``landmarks`` (98, 2), in that order.
        ref_dir: preprocess.py's CelebV caches, used when present (faster);
            entries missing from them are computed from the images.
    """

    OUTPUTS = ("image", "heatmap", "heatmap256", "landmarks")

    def __init__(self, celebv_dir, person, mode, preprocess, outputs=("heatmap",), ref_dir=None,
                 augmentation=None):
        unknown = [o for o in outputs if o not in self.OUTPUTS]
        if unknown:
            raise ValueError("unknown outputs {}".format(unknown))
        folder = os.path.join(celebv_dir, person)
        if not os.path.isdir(folder):
            available = list_celebv_persons(celebv_dir)
            raise UserError("person '{}' not found in {} (persons there: {})".format(
                person, celebv_dir, ", ".join(available) or "none"))
        self.person = person
        self.label = "{} {}".format(person, mode)
        self.image_dir = os.path.join(folder, "Image")
        list_path = celebv_list_path(folder, mode)
        self.skips = SkipTally()
        entries = read_celebv_frames(list_path, self.skips)
        if not entries:
            raise UserError("no usable line in {}{}".format(
                list_path, " ({})".format(self.skips.text()) if len(self.skips) else ""))
        if len(self.skips):
            print(self.skips.summary("{} ({} usable frames)".format(list_path, len(entries))))
        self.names = [name for name, _ in entries]
        self.landmarks = [points for _, points in entries]
        self.outputs = tuple(outputs)
        self.render = HeatmapRenderer(preprocess)
        self.augmentation = augmentation
        self.cache = {}
        if ref_dir:
            for kind, suffix in (("image", "_image.npz"), ("heatmap", "_heatmap.npz"),
                                 ("heatmap256", "_resized_heatmap.npz")):
                if kind in self.outputs:
                    self.cache[kind] = _NpzReader(os.path.join(ref_dir, person + suffix))

    def __len__(self):
        return len(self.names)

    def _image(self, index):
        name = self.names[index]
        if "image" in self.cache and name in self.cache["image"]:
            return self.cache["image"][name].transpose(1, 2, 0)
        image = read_rgb(os.path.join(self.image_dir, name))
        if image.shape[:2] != (IMAGE_SIZE, IMAGE_SIZE):
            raise CorruptSampleError("{}: expected a 256x256 aligned face, got {}x{}".format(
                name, image.shape[1], image.shape[0]), "wrong image size")
        return image

    def get(self, index, rng=None):
        name = self.names[index]
        landmarks = self.landmarks[index]
        augment = rng is not None and self.augmentation is not None
        image = self._image(index) if "image" in self.outputs else None
        if augment:
            image, landmarks, _ = self.augmentation.apply(rng, image, landmarks)
        result = []
        for kind in self.outputs:
            if kind == "image":
                result.append(to_network_image(image))
            elif kind == "landmarks":
                result.append(np.asarray(landmarks, dtype=np.float32))
            elif not augment and kind in self.cache and name in self.cache[kind]:
                result.append(self.cache[kind][name].astype(np.float32) / 255.0)
            elif kind == "heatmap":
                result.append(self.render(landmarks))
            else:
                result.append(self.render(landmarks, size=(IMAGE_SIZE, IMAGE_SIZE)))
        return tuple(result)


def readable_samples(source, count, skips):
    """``(index, sample)`` of the first ``count`` samples of ``source`` that can be read.

    For test scripts: an unreadable sample is added to ``skips`` (a
    :class:`~utils.user_errors.SkipTally`) and the next one is used, so a bad
    frame costs one result instead of stopping the run half-way.
    """
    found = 0
    for index in range(len(source)):
        if found == count:
            return
        try:
            sample = source.get(index)
        except CorruptSampleError as err:
            skips.add(err, key=index)
            continue
        found += 1
        yield index, sample
