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
* a folder of face photos, or a video file (``--source``): in each frame the
  largest face is detected, marked and cropped with CelebV's framing
  (:mod:`utils.face_landmarks`), so these frames also carry landmarks.  Without
  the optional face tools (``pip install -r requirements-faces.txt``) the
  frames are centre-cropped instead, after a one-time notice: they should
  then already show a face framed like the CelebV crops.

Every source yields :class:`Frame` tuples; unreadable images and frames
without a face are skipped and counted in ``source.skipped`` (by reason in
``source.skip_reasons``).
"""
import collections
import os

import cv2
import numpy as np

from utils.face_landmarks import FaceAligner, face_tools_problem
from utils.image_io import list_images, read_rgb, read_video_frames, video_fps
from utils.landmark_files import celebv_list_path, check_landmarks_inside, \
    list_celebv_persons, read_celebv_frames
from utils.user_errors import CorruptSampleError, SkipTally, UserError

IMAGE_SIZE = 256
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


class _Skips:
    def __init__(self):
        self.skip_reasons = collections.Counter()

    @property
    def skipped(self):
        return sum(self.skip_reasons.values())


class CelebVFrames(_Skips):
    """The frames of a CelebV person's split, with their landmarks."""

    def __init__(self, celebv_dir, person, mode="test", limit=None):
        super().__init__()
        folder = os.path.join(celebv_dir, person)
        if not os.path.isdir(folder):
            raise UserError("person '{}' not found in {} (persons there: {})".format(
                person, celebv_dir, ", ".join(list_celebv_persons(celebv_dir)) or "none"))
        # Frames of any size are accepted (and resized), so the landmarks are
        # checked against each image once it is read.
        bad_lines = SkipTally()
        entries = read_celebv_frames(celebv_list_path(folder, mode), bad_lines, frame_size=None)
        self.skip_reasons.update(bad_lines.counts)
        self.entries = entries[:limit] if limit else entries
        self.image_dir = os.path.join(folder, "Image")
        self.label = person

    def __len__(self):
        return len(self.entries)

    def __iter__(self):
        for name, landmarks in self.entries:
            try:
                image = read_rgb(os.path.join(self.image_dir, name))
                check_landmarks_inside(landmarks, image.shape[0], image.shape[1], name)
            except CorruptSampleError as err:
                self.skip_reasons[err.reason] += 1
                continue
            if image.shape[:2] != (IMAGE_SIZE, IMAGE_SIZE):
                scale = np.array([IMAGE_SIZE / image.shape[1], IMAGE_SIZE / image.shape[0]])
                landmarks = (landmarks + 0.5) * scale - 0.5
                image = cv2.resize(image, (IMAGE_SIZE, IMAGE_SIZE), interpolation=cv2.INTER_AREA)
            yield Frame(name, image, landmarks)


class SourceAligner:
    """Full frames -> (256x256 crop, landmarks or None), aligned when the face tools exist."""

    _notice_shown = False

    def __init__(self, align=True, landmark_model=None, detector="auto", smoothing=0.0):
        self.aligner = None
        if not align:
            return
        problem = face_tools_problem(landmark_model)
        if problem is None:
            self.aligner = FaceAligner(IMAGE_SIZE, "celebv", detector, landmark_model, smoothing)
        elif landmark_model:
            raise UserError(problem)  # asked for explicitly: no silent fallback
        elif not SourceAligner._notice_shown:
            SourceAligner._notice_shown = True
            print("note: {}; source frames are centre-cropped instead of aligned, so they "
                  "should already be framed like CelebV crops".format(problem))

    def reset(self):
        if self.aligner is not None:
            self.aligner.reset()

    def __call__(self, image, dt=1.0 / 30.0):
        """(crop, landmarks), or None when an aligner finds no face."""
        if self.aligner is None:
            return square_256(image), None
        face = self.aligner(image, dt)
        return None if face is None else (face.crop, face.landmarks)


class FolderFrames(_Skips):
    """The images of a folder, in name order."""

    def __init__(self, folder, limit=None, aligner=None):
        super().__init__()
        names = list_images(folder)
        self.names = names[:limit] if limit else names
        self.folder = folder
        self.aligner = aligner or SourceAligner(align=False)
        self.label = os.path.basename(os.path.normpath(folder))

    def __len__(self):
        return len(self.names)

    def __iter__(self):
        self.aligner.reset()
        for name in self.names:
            try:
                image = read_rgb(os.path.join(self.folder, name))
            except CorruptSampleError as err:
                self.aligner.reset()
                self.skip_reasons[err.reason] += 1
                continue
            aligned = self.aligner(image)
            if aligned is None:
                self.skip_reasons["no face found"] += 1
                continue
            yield Frame(name, aligned[0], aligned[1])


class VideoFrames(_Skips):
    """The frames of a video file, read one at a time."""

    def __init__(self, path, limit=None, aligner=None):
        super().__init__()
        self.path = path
        self.limit = limit
        self.aligner = aligner or SourceAligner(align=False)
        self.label = os.path.splitext(os.path.basename(path))[0]
        self.fps = video_fps(path)

    def __len__(self):
        return self.limit or 0

    def __iter__(self):
        self.aligner.reset()
        step = 1.0 / self.fps
        for index, image in enumerate(read_video_frames(self.path)):
            if self.limit and index >= self.limit:
                break
            aligned = self.aligner(image, step)
            if aligned is None:
                self.skip_reasons["no face found"] += 1
                continue
            yield Frame("{:06d}.png".format(index), aligned[0], aligned[1])


def open_source(source, celebv_dir, person, limit=None, align=True, landmark_model=None,
                detector="auto", smoothing=None):
    """The frames of ``--source`` (a folder or a video) or of the person's test split.

    Folder and video frames are aligned unless ``align`` is False; ``smoothing``
    (0-1) filters a video's landmarks over time (default 0.5 for a video, 0 for
    a folder of photos).
    """
    if source:
        if not os.path.exists(source):
            raise UserError("--source {} not found".format(source))
        is_video = os.path.isfile(source) and source.lower().endswith(VIDEO_EXTENSIONS)
        if not is_video and not os.path.isdir(source):
            raise UserError("--source {} is neither a folder of images nor a video file ({})"
                            .format(source, ", ".join(VIDEO_EXTENSIONS)))
        if smoothing is None:
            smoothing = 0.5 if is_video else 0.0
        aligner = SourceAligner(align, landmark_model, detector, smoothing)
        if is_video:
            return VideoFrames(source, limit, aligner)
        return FolderFrames(source, limit, aligner)
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
