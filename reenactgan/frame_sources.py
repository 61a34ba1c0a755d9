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
"""Where the reenactment's source frames come from.

* a CelebV person's test split (``--src-celeb-name``): aligned 256x256 frames
  with landmarks, so the ground-truth boundary can be shown;
* a folder of face images, or a video file (``--source``): frames are
  centre-cropped to a square and resized to 256x256; they should show a face
  framed like the CelebV crops (detection and alignment come with the
  "bring your own face" tools).

Every source yields :class:`Frame` tuples; unreadable images are skipped and
counted in ``source.skipped``.
"""
import collections
import os

import cv2
import numpy as np

from utils.image_io import read_rgb, read_video_frames
from utils.landmark_files import celebv_list_path, list_celebv_persons, read_celebv_annotations
from utils.user_errors import CorruptSampleError, UserError

IMAGE_SIZE = 256
IMAGE_EXTENSIONS = (".jpg", ".jpeg", ".png", ".bmp", ".webp")
VIDEO_EXTENSIONS = (".mp4", ".avi", ".mov", ".mkv", ".webm", ".gif")

Frame = collections.namedtuple("Frame", "name image landmarks")


def square_256(image):
    """Centre-crop to a square and resize to 256x256."""
    height, width = image.shape[:2]
    side = min(height, width)
    top, left = (height - side) // 2, (width - side) // 2
    crop = image[top:top + side, left:left + side]
    if side != IMAGE_SIZE:
        interpolation = cv2.INTER_AREA if side > IMAGE_SIZE else cv2.INTER_LINEAR
        crop = cv2.resize(crop, (IMAGE_SIZE, IMAGE_SIZE), interpolation=interpolation)
    return np.ascontiguousarray(crop)


class CelebVFrames:
    """The frames of a CelebV person's split, with their landmarks."""

    def __init__(self, celebv_dir, person, mode="test", limit=None):
        folder = os.path.join(celebv_dir, person)
        if not os.path.isdir(folder):
            raise UserError("person '{}' not found in {} (persons there: {})".format(
                person, celebv_dir, ", ".join(list_celebv_persons(celebv_dir)) or "none"))
        entries, _ = read_celebv_annotations(celebv_list_path(folder, mode))
        self.entries = entries[:limit] if limit else entries
        self.image_dir = os.path.join(folder, "Image")
        self.skipped = 0
        self.label = person

    def __len__(self):
        return len(self.entries)

    def __iter__(self):
        for name, landmarks in self.entries:
            try:
                image = read_rgb(os.path.join(self.image_dir, name))
            except CorruptSampleError:
                self.skipped += 1
                continue
            if image.shape[:2] != (IMAGE_SIZE, IMAGE_SIZE):
                scale = np.array([IMAGE_SIZE / image.shape[1], IMAGE_SIZE / image.shape[0]])
                landmarks = (landmarks + 0.5) * scale - 0.5
                image = cv2.resize(image, (IMAGE_SIZE, IMAGE_SIZE), interpolation=cv2.INTER_AREA)
            yield Frame(name, image, landmarks)


class FolderFrames:
    """The images of a folder, in name order."""

    def __init__(self, folder, limit=None):
        names = sorted(n for n in os.listdir(folder) if n.lower().endswith(IMAGE_EXTENSIONS))
        if not names:
            raise UserError("no image ({}) in {}".format(", ".join(IMAGE_EXTENSIONS), folder))
        self.names = names[:limit] if limit else names
        self.folder = folder
        self.skipped = 0
        self.label = os.path.basename(os.path.normpath(folder))

    def __len__(self):
        return len(self.names)

    def __iter__(self):
        for name in self.names:
            try:
                image = read_rgb(os.path.join(self.folder, name))
            except CorruptSampleError:
                self.skipped += 1
                continue
            yield Frame(name, square_256(image), None)


class VideoFrames:
    """The frames of a video file, read one at a time."""

    def __init__(self, path, limit=None):
        self.path = path
        self.limit = limit
        self.skipped = 0
        self.label = os.path.splitext(os.path.basename(path))[0]

    def __len__(self):
        return self.limit or 0

    def __iter__(self):
        for index, image in enumerate(read_video_frames(self.path)):
            if self.limit and index >= self.limit:
                break
            yield Frame("{:06d}.png".format(index), square_256(image), None)


def open_source(source, celebv_dir, person, limit=None):
    """The frames of ``--source`` (a folder or a video) or of the person's test split."""
    if source:
        if os.path.isdir(source):
            return FolderFrames(source, limit)
        if os.path.isfile(source) and source.lower().endswith(VIDEO_EXTENSIONS):
            return VideoFrames(source, limit)
        raise UserError("--source {} is neither a folder of images nor a video file ({})".format(
            source, ", ".join(VIDEO_EXTENSIONS)))
    return CelebVFrames(celebv_dir, person, "test", limit)


def batched(frames, batch_size):
    """Lists of up to ``batch_size`` frames."""
    batch = []
    for frame in frames:
        batch.append(frame)
        if len(batch) == batch_size:
            yield batch
            batch = []
    if batch:
        yield batch
