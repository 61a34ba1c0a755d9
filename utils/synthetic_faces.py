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
"""Synthetic cartoon faces with exact landmarks, written in the real data set formats.

WFLW, CelebV and celebA/EmotioNet cannot be downloaded everywhere, so this
module draws faces whose 98 WFLW landmarks, 17 Action Units and head pose are
known exactly, and writes them in the on-disk layouts the scripts read:

* ``write_celebv``: ``<Person>/Image/<k:06d>.jpg`` + ``<Person>/all_98pt.txt``;
  all persons act out the same expression/pose sequence, so frame k of person B
  is "B making A's frame-k expression";
* ``write_wflw``: ``WFLW_images/<k>--Synthetic/*.jpg`` (faces placed in bigger
  pictures) + the two ``list_98pt_rect_attr_*.txt`` annotation files;
* ``write_ganimation``: celebA-style 128 px crops, ``aus_openface.pkl``, the id
  lists and OpenFace ``FaceLandmarkImg -aus`` CSVs.

The face model works in a canonical frame (x right, y down, the face half-width
near 1) built from a :class:`FaceIdentity`, deformed by AU intensities (0-5, as
OpenFace reports them) and placed by a pose ``(roll_degrees, yaw, scale,
shift_x, shift_y)``.  :func:`render_face` draws a face from its landmarks alone
(plus the identity's colours), so every boundary line of
``utils.boundary_heatmaps`` lies on a drawn edge.

Every writer is deterministic: the same seed gives byte-identical files.

    python -m utils.synthetic_faces --out-dir datasets [--only celebv wflw ganimation]
"""
import argparse
import copy
import dataclasses
import io
import json
import os
import pickle
import sys
import zipfile

import cv2
import numpy as np

from utils.atomic_files import atomic_path, ensure_writable_dir
from utils.face_layout import FLIP_PERMUTATION, NUM_LANDMARKS
from utils.user_errors import UserError, run_main

GENERATOR_VERSION = 2

AU_NAMES = ("AU01", "AU02", "AU04", "AU05", "AU06", "AU07", "AU09", "AU10", "AU12",
            "AU14", "AU15", "AU17", "AU20", "AU23", "AU25", "AU26", "AU45")
AU_INDEX = {name: index for index, name in enumerate(AU_NAMES)}
NUM_AUS = len(AU_NAMES)
MAX_AU_INTENSITY = 5.0

# OpenFace sorts its column names; AU28 is detected (_c) but not regressed (_r).
OPENFACE_CLASS_NAMES = AU_NAMES[:16] + ("AU28", "AU45")
OPENFACE_HEADER = ["face", "confidence"] + [name + "_r" for name in AU_NAMES] + \
    [name + "_c" for name in OPENFACE_CLASS_NAMES]

POSE_FIELDS = ("roll_degrees", "yaw", "scale", "shift_x", "shift_y")
NEUTRAL_POSE = np.array([0.0, 0.0, 1.0, 0.0, 0.0])
NEUTRAL_POSE.setflags(write=False)

# Canonical units -> pixels of a 256 frame: the face (half-width ~1) then spans
# ~62% of the frame width, as in CelebV's aligned crops.
_UNIT_PER_FRAME = 0.32
# Moves the canonical origin (between eyes and nose tip) so that the eyes sit at
# ~42% of the frame height and hair and chin both fit.
_CANONICAL_Y_OFFSET = 0.02
# Yaw of 1 turns the head this far; beyond it the cheap 2D yaw looks wrong.
_MAX_YAW_DEGREES = 30.0
_SUPERSAMPLE = 2
_JPEG_QUALITY = 95


def _generator(rng):
    """A numpy Generator from a Generator, a legacy RandomState, a seed or None."""
    if isinstance(rng, np.random.Generator):
        return rng
    if isinstance(rng, np.random.RandomState):
        # Drawing the seed from the RandomState keeps callers that pass one deterministic.
        return np.random.default_rng(rng.randint(0, 2 ** 31 - 1, size=4))
    return np.random.default_rng(rng)


def _child_rng(seed, *keys):
    """An independent stream per (seed, purpose, index): adding items never shifts others."""
    return np.random.default_rng(np.random.SeedSequence([int(seed)] + [int(k) for k in keys]))


# --- identities -------------------------------------------------------------------------

@dataclasses.dataclass
class FaceIdentity:
    """Everything that makes one synthetic person look like themselves.

    Lengths are in canonical units (face half-width ~1, y down, origin between
    the eyes and the nose tip); colours are RGB 0-255.
    """
    face_width: float = 0.97       # half-width of the face at the contour's top
    face_height: float = 1.22      # eye line to chin
    jaw_squareness: float = 2.4    # superellipse exponent: 2 round, >3 square
    chin_taper: float = 0.15       # 0 broad chin, 0.35 pointed chin
    forehead_height: float = 0.95  # contour top to the top of the skull
    eye_size: float = 0.165        # half-width of an eye
    eye_openness: float = 0.4      # upper-lid height / eye half-width
    eye_spacing: float = 0.35      # eye centre distance from the face's midline
    eye_height: float = -0.3       # y of the eye line
    eye_tilt: float = 0.01         # outer corners this much higher than inner ones
    brow_height: float = 0.31      # eye line to brow base
    brow_thickness: float = 0.055
    brow_arch: float = 0.035
    nose_length: float = 0.44      # eye line to nose tip
    nose_width: float = 0.13       # half-width of the lower nose
    mouth_position: float = 0.36   # lip line between nose tip (0) and chin (1)
    mouth_width: float = 0.32      # half-width of the mouth
    lip_thickness: float = 0.065
    skin_color: tuple = (224, 172, 130)
    hair_color: tuple = (70, 45, 30)
    hair_length: float = 0.4       # 0 short crop, 1 shoulder length
    hair_volume: float = 0.5
    hair_part: float = 0.3         # -1..1, side of the parting sweep
    hairline: float = 0.7          # hairline height as a fraction of the forehead
    hair_curl: float = 0.0         # 0 straight, 1 curly outline
    background_color: tuple = (120, 150, 190)
    iris_color: tuple = (95, 60, 35)
    lip_color: tuple = (180, 90, 90)
    clothes_color: tuple = (60, 80, 120)
    makeup: bool = False
    texture_seed: int = 0

    def to_dict(self):
        """A JSON-able dict (colours as lists)."""
        out = dataclasses.asdict(self)
        for name in _COLOR_FIELDS:
            out[name] = [int(v) for v in out[name]]
        return out

    @classmethod
    def from_dict(cls, values):
        """The inverse of :meth:`to_dict`; unknown or missing keys raise ValueError."""
        names = {field.name for field in dataclasses.fields(cls)}
        unknown = sorted(set(values) - names)
        missing = sorted(names - set(values))
        if unknown or missing:
            raise ValueError("identity dict: unknown keys {}, missing keys {}".format(
                unknown, missing))
        kwargs = dict(values)
        for name in _COLOR_FIELDS:
            kwargs[name] = tuple(int(v) for v in kwargs[name])
        kwargs["makeup"] = bool(kwargs["makeup"])
        kwargs["texture_seed"] = int(kwargs["texture_seed"])
        return cls(**kwargs)


_COLOR_FIELDS = ("skin_color", "hair_color", "background_color", "iris_color", "lip_color",
                 "clothes_color")

_SKIN_TONES = np.array([(250, 222, 200), (238, 196, 164), (222, 170, 128), (196, 138, 96),
                        (160, 104, 70), (118, 76, 52)], dtype=np.float64)
_HAIR_COLORS = np.array([(28, 24, 22), (62, 40, 28), (110, 72, 42), (150, 72, 36),
                         (212, 176, 108), (168, 164, 160), (90, 60, 40)], dtype=np.float64)
_HAIR_WEIGHTS = np.array([0.25, 0.22, 0.15, 0.08, 0.12, 0.06, 0.12])
_IRIS_COLORS = np.array([(70, 110, 170), (95, 60, 35), (80, 120, 70), (120, 130, 140),
                         (50, 35, 25), (130, 100, 50)], dtype=np.float64)
_LIPSTICKS = np.array([(200, 30, 60), (170, 20, 40), (215, 80, 120), (140, 40, 70)],
                      dtype=np.float64)

# Ranges of the geometric parameters; also the scale of the distinctness measure.
_GEOMETRY_RANGES = {
    "face_width": (0.86, 1.08),
    "face_height": (1.1, 1.36),
    "jaw_squareness": (1.8, 3.4),
    "chin_taper": (0.0, 0.35),
    "forehead_height": (0.85, 1.05),
    "eye_size": (0.14, 0.19),
    "eye_openness": (0.3, 0.5),
    "eye_spacing": (0.3, 0.4),
    "eye_height": (-0.36, -0.24),
    "eye_tilt": (-0.015, 0.035),
    "brow_height": (0.27, 0.36),
    "brow_thickness": (0.035, 0.075),
    "brow_arch": (0.0, 0.07),
    "nose_width": (0.1, 0.17),
    "mouth_position": (0.33, 0.42),
    "mouth_width": (0.26, 0.38),
    "lip_thickness": (0.05, 0.09),
    "hair_length": (0.0, 1.0),
    "hair_volume": (0.0, 1.0),
    "hair_part": (-1.0, 1.0),
    "hairline": (0.5, 0.9),
}
# nose_length is drawn as this fraction of face_height, so long noses go with long faces.
_NOSE_FRACTION = (0.3, 0.4)


def _color(values):
    return tuple(int(v) for v in np.clip(np.round(values), 0, 255))


def _luma(color):
    r, g, b = [float(v) for v in color]
    return 0.299 * r + 0.587 * g + 0.114 * b


def sample_identity(rng):
    """Draw a random :class:`FaceIdentity` (rng: Generator, RandomState, seed or None)."""
    rng = _generator(rng)
    params = {name: float(rng.uniform(low, high)) for name, (low, high) in
              _GEOMETRY_RANGES.items()}
    # Eyes must not touch each other nor the face edge.
    params["eye_spacing"] = float(np.clip(params["eye_spacing"], params["eye_size"] + 0.11,
                                          0.6 * params["face_width"] - params["eye_size"]))
    params["nose_length"] = float(rng.uniform(*_NOSE_FRACTION) * params["face_height"])
    params["hair_curl"] = float(rng.uniform(0.3, 1.0)) if rng.random() < 0.35 else 0.0

    tone = rng.uniform(0, len(_SKIN_TONES) - 1)
    low = int(np.floor(tone))
    high = min(low + 1, len(_SKIN_TONES) - 1)
    skin = _SKIN_TONES[low] + (tone - low) * (_SKIN_TONES[high] - _SKIN_TONES[low])
    skin = skin + rng.normal(0, 6, 3)
    hair = _HAIR_COLORS[rng.choice(len(_HAIR_COLORS), p=_HAIR_WEIGHTS)]
    hair = hair * rng.uniform(0.85, 1.15) + rng.normal(0, 8, 3)
    iris = _IRIS_COLORS[rng.integers(len(_IRIS_COLORS))] + rng.normal(0, 10, 3)
    makeup = bool(rng.random() < 0.15)
    if makeup:
        lips = _LIPSTICKS[rng.integers(len(_LIPSTICKS))] + rng.normal(0, 8, 3)
    else:
        lips = (skin + rng.uniform(0.5, 0.7) * (np.array([185.0, 60.0, 75.0]) - skin)) * \
            rng.uniform(0.78, 0.92)
        # Dark skin is close to any red: darken the lips until their edge shows.
        while np.linalg.norm(lips - skin) < 60 and lips.max() > 30:
            lips = lips * 0.9
    # A backdrop that never blends into the skin keeps the contour an edge.
    for _ in range(50):
        hsv = np.array([[[rng.uniform(0, 180), rng.uniform(40, 170), rng.uniform(70, 240)]]],
                       dtype=np.float32)
        background = cv2.cvtColor(hsv.astype(np.uint8), cv2.COLOR_HSV2RGB)[0, 0].astype(float)
        if np.linalg.norm(background - skin) > 90:
            break
    clothes_hsv = np.array([[[rng.uniform(0, 180), rng.uniform(30, 220),
                              rng.uniform(40, 220)]]], dtype=np.uint8)
    clothes = cv2.cvtColor(clothes_hsv, cv2.COLOR_HSV2RGB)[0, 0].astype(float)
    return FaceIdentity(
        skin_color=_color(skin), hair_color=_color(hair), background_color=_color(background),
        iris_color=_color(iris), lip_color=_color(lips), clothes_color=_color(clothes),
        makeup=makeup, texture_seed=int(rng.integers(0, 2 ** 31 - 1)), **params)


def _identity_signature(identity):
    """(geometry scaled to its ranges, skin and hair colours in RGB units)."""
    geometry = [(getattr(identity, name) - low) / (high - low)
                for name, (low, high) in _GEOMETRY_RANGES.items()]
    geometry.append(identity.nose_length / identity.face_height)
    colors = np.concatenate([np.asarray(identity.skin_color, dtype=np.float64),
                             np.asarray(identity.hair_color, dtype=np.float64)])
    return np.asarray(geometry), colors


def _difference(first, second):
    """How visibly two identities differ: 1 means "enough" both in shape and in colour."""
    (shape_a, color_a), (shape_b, color_b) = first, second
    return min(np.linalg.norm(shape_a - shape_b) / 1.3, np.linalg.norm(color_a - color_b) / 90.0)


def sample_distinct_identities(rng, count, attempts=60):
    """``count`` identities that differ clearly in shape and colours (best of ``attempts``)."""
    rng = _generator(rng)
    chosen, signatures = [], []
    for _ in range(int(count)):
        best, best_signature, best_score = None, None, -1.0
        for _ in range(attempts):
            candidate = sample_identity(rng)
            signature = _identity_signature(candidate)
            score = min([_difference(signature, other) for other in signatures] or [np.inf])
            if score > best_score:
                best, best_signature, best_score = candidate, signature, score
            if score >= 1.0:
                break
        chosen.append(best)
        signatures.append(best_signature)
    return chosen


# CelebV persons are the people a transformer maps between, so they must differ
# as real people do (face width and length, jaw, eyes, brows, nose, mouth), by
# more than the small spread of the other data sets' faces: each shape
# parameter is spread over the persons from one end of these ranges to the other.
_PERSON_SHAPE_RANGES = {
    "face_width": (0.84, 1.12),
    "face_height": (1.05, 1.42),
    "jaw_squareness": (1.8, 3.6),
    "chin_taper": (0.0, 0.35),
    "eye_size": (0.135, 0.2),
    "eye_spacing": (0.29, 0.43),
    "eye_height": (-0.38, -0.22),
    "brow_height": (0.25, 0.4),
    "mouth_width": (0.24, 0.4),
    "mouth_position": (0.3, 0.46),
}
_PERSON_NOSE_FRACTION = (0.29, 0.41)


def sample_contrasting_identities(rng, count):
    """``count`` identities whose face shapes differ as much as different real people.

    Colours and hair come from :func:`sample_distinct_identities`.  Every shape
    parameter of :data:`_PERSON_SHAPE_RANGES` (and the nose length) puts the
    first two persons (a reenactment's source and target) near opposite ends
    of its range, which end is whose drawn at random, and the others evenly
    in between.
    """
    rng = _generator(rng)
    people = sample_distinct_identities(rng, count)
    count = len(people)
    if count < 2:
        return people
    positions = np.concatenate([[0.0, 1.0], np.linspace(0.0, 1.0, count)[1:-1]])
    ranges = dict(_PERSON_SHAPE_RANGES, nose_fraction=_PERSON_NOSE_FRACTION)
    spread = {}
    for name in ranges:
        order = positions if rng.random() < 0.5 else np.concatenate([positions[1::-1],
                                                                     positions[2:]])
        spread[name] = np.clip(np.abs(order - rng.uniform(0.0, 0.1, count)), 0.0, 1.0)
    out = []
    for index, identity in enumerate(people):
        values = {name: low + spread[name][index] * (high - low)
                  for name, (low, high) in ranges.items()}
        nose_fraction = values.pop("nose_fraction")
        values["eye_spacing"] = float(np.clip(
            values["eye_spacing"], values["eye_size"] + 0.11,
            0.6 * values["face_width"] - values["eye_size"]))
        values["nose_length"] = nose_fraction * values["face_height"]
        out.append(dataclasses.replace(identity, **{k: float(v) for k, v in values.items()}))
    return out


# --- expressions and poses --------------------------------------------------------------

def sample_pose(rng, amount=1.0):
    """A pose ``(roll_degrees, yaw, scale, shift_x, shift_y)``; ``amount`` scales the spread."""
    rng = _generator(rng)
    amount = float(amount)
    roll = np.clip(rng.normal(0, 6.0) * amount, -25.0, 25.0)
    yaw = np.clip(rng.normal(0, 0.3) * amount, -1.0, 1.0)
    scale = 1.0 + np.clip(rng.normal(0, 0.04) * amount, -0.12, 0.12)
    shift = np.clip(rng.normal(0, 6.0, 2) * amount, -20.0, 20.0)
    return np.array([roll, yaw, scale, shift[0], shift[1]], dtype=np.float64)


# Prototype expressions: (name, weight, {AU: (low, high) intensity}).  Together
# they cover all 17 AUs except AU45, which comes from blinks.
_EXPRESSIONS = (
    ("neutral", 3.0, {}),
    ("smile", 2.0, {"AU06": (1.5, 4.0), "AU12": (2.5, 5.0), "AU25": (0.0, 2.5)}),
    ("laugh", 1.0, {"AU06": (3.0, 5.0), "AU12": (3.5, 5.0), "AU25": (3.0, 5.0),
                    "AU26": (2.0, 4.5)}),
    ("surprise", 1.0, {"AU01": (2.5, 5.0), "AU02": (2.5, 5.0), "AU05": (2.0, 5.0),
                       "AU25": (2.0, 4.0), "AU26": (2.0, 5.0)}),
    ("anger", 1.0, {"AU04": (2.5, 5.0), "AU07": (1.5, 4.0), "AU23": (1.5, 4.5),
                    "AU17": (0.0, 2.5)}),
    ("sadness", 1.0, {"AU01": (2.0, 4.5), "AU04": (1.0, 3.0), "AU15": (2.0, 4.5),
                      "AU17": (1.0, 3.5)}),
    ("disgust", 1.0, {"AU09": (2.0, 5.0), "AU10": (1.5, 4.5), "AU15": (0.0, 2.0),
                      "AU25": (0.0, 2.0)}),
    ("fear", 0.8, {"AU01": (2.0, 4.0), "AU02": (1.0, 3.5), "AU04": (1.0, 3.0),
                   "AU05": (2.0, 4.5), "AU20": (2.0, 5.0), "AU25": (1.0, 3.0)}),
    ("dimpler", 0.7, {"AU14": (2.0, 5.0), "AU12": (0.0, 1.5)}),
    ("talking", 1.5, {"AU25": (1.5, 4.0), "AU26": (0.5, 3.5), "AU10": (0.0, 1.5)}),
    ("squint", 0.7, {"AU06": (1.0, 3.0), "AU07": (2.0, 5.0)}),
    ("pressed lips", 0.7, {"AU23": (2.0, 5.0), "AU17": (1.0, 3.5), "AU14": (0.0, 2.0)}),
    ("stretched lips", 0.5, {"AU20": (2.5, 5.0), "AU25": (0.0, 2.0)}),
)
_EXPRESSION_WEIGHTS = np.array([weight for _, weight, _ in _EXPRESSIONS])
_EXPRESSION_WEIGHTS = _EXPRESSION_WEIGHTS / _EXPRESSION_WEIGHTS.sum()
_BLINK_PROFILE = (1.5, 4.0, 5.0, 5.0, 3.5, 1.0)


def sample_expression(rng, blink_probability=0.1):
    """One AU intensity vector (17,), 0-5: a prototype expression or a random sparse mix.

    Independent random mixes (a quarter of the draws) and stray activations keep
    AUs from always co-occurring, so a regressor can tell them apart.
    """
    rng = _generator(rng)
    aus = np.abs(rng.normal(0, 0.15, NUM_AUS))
    if rng.random() < 0.75:
        _, _, ranges = _EXPRESSIONS[rng.choice(len(_EXPRESSIONS), p=_EXPRESSION_WEIGHTS)]
        for name, (low, high) in ranges.items():
            aus[AU_INDEX[name]] = rng.uniform(low, high)
    else:
        active = rng.choice(NUM_AUS - 1, size=rng.integers(1, 5), replace=False)
        aus[active] = rng.uniform(1.0, 5.0, len(active))
    strays = rng.random(NUM_AUS) < 0.08
    aus[strays] = np.maximum(aus[strays], rng.uniform(0.5, 2.5, int(strays.sum())))
    aus[AU_INDEX["AU45"]] = rng.uniform(1.0, 5.0) if rng.random() < blink_probability else \
        min(aus[AU_INDEX["AU45"]], 0.3)
    return np.clip(aus, 0.0, MAX_AU_INTENSITY)


def _ease(keys, values, num_frames):
    """Cosine-eased interpolation between keyframes: smooth, and never overshoots."""
    frames = np.arange(num_frames)
    segment = np.clip(np.searchsorted(keys, frames, side="right") - 1, 0, len(keys) - 2)
    start, end = keys[segment], keys[segment + 1]
    fraction = np.clip((frames - start) / np.maximum(end - start, 1), 0.0, 1.0)
    weight = (0.5 - 0.5 * np.cos(np.pi * fraction))[:, None]
    return values[segment] * (1.0 - weight) + values[segment + 1] * weight


# What a talking head does most of the time: (name, weight, {AU: (low, high)}).
_TALKING_MOVES = (
    ("speech", 3.0, {"AU25": (2.0, 5.0), "AU26": (1.0, 4.0), "AU10": (0.0, 1.5)}),
    ("wide open mouth", 1.5, {"AU25": (4.0, 5.0), "AU26": (4.0, 5.0), "AU01": (0.0, 3.0),
                              "AU02": (0.0, 3.0)}),
    ("smile", 2.0, {"AU06": (2.0, 5.0), "AU12": (3.0, 5.0), "AU25": (0.0, 3.0)}),
    ("laugh", 1.0, {"AU06": (3.5, 5.0), "AU12": (4.0, 5.0), "AU25": (3.5, 5.0),
                    "AU26": (3.0, 5.0)}),
    ("raised brows", 1.5, {"AU01": (3.0, 5.0), "AU02": (3.0, 5.0), "AU05": (0.0, 4.0),
                           "AU25": (0.0, 3.0)}),
    ("frown", 1.0, {"AU04": (3.0, 5.0), "AU07": (1.0, 4.0), "AU23": (0.0, 3.0)}),
    ("rest", 1.0, {}),
)
_TALKING_WEIGHTS = np.array([weight for _, weight, _ in _TALKING_MOVES])
_TALKING_WEIGHTS = _TALKING_WEIGHTS / _TALKING_WEIGHTS.sum()


def sample_talking_expression(rng):
    """A keyframe of a talking head: mostly wide mouth movements, smiles and brows."""
    rng = _generator(rng)
    if rng.random() < 0.25:
        return sample_expression(rng, blink_probability=0.0)
    aus = np.abs(rng.normal(0, 0.15, NUM_AUS))
    _, _, ranges = _TALKING_MOVES[rng.choice(len(_TALKING_MOVES), p=_TALKING_WEIGHTS)]
    for name, (low, high) in ranges.items():
        aus[AU_INDEX[name]] = rng.uniform(low, high)
    aus[AU_INDEX["AU45"]] = min(aus[AU_INDEX["AU45"]], 0.3)
    return np.clip(aus, 0.0, MAX_AU_INTENSITY)


def expression_sequence(rng, num_frames, pose_amount=0.35, lively=False):
    """A video-like sequence: ``(aus (N, 17) in [0, 5], poses (N, 5))``.

    Expressions move between keyframes 6-14 frames apart (a few per second of
    25 fps video), the eyes blink every 40-110 frames, and the head moves
    (mildly by default; ``pose_amount`` scales the spread of :func:`sample_pose`).
    ``lively``: a talking head, with keyframes 4-10 frames apart drawn from
    :func:`sample_talking_expression` and blinks every 20-60 frames.
    """
    rng = _generator(rng)
    num_frames = int(num_frames)
    if num_frames <= 0:
        return np.zeros((0, NUM_AUS)), np.zeros((0, len(POSE_FIELDS)))
    spacing, blink_gap = ((4, 11), (20, 61)) if lively else ((6, 15), (40, 110))
    keys = [0]
    while keys[-1] < num_frames - 1:
        keys.append(keys[-1] + int(rng.integers(*spacing)))
    if len(keys) == 1:
        keys.append(1)
    keys = np.array(keys)
    if lively:
        key_aus = np.stack([sample_talking_expression(rng) for _ in keys])
    else:
        key_aus = np.stack([sample_expression(rng, blink_probability=0.0) for _ in keys])
    key_poses = np.stack([sample_pose(rng, amount=pose_amount) for _ in keys])
    aus = _ease(keys, key_aus, num_frames)
    poses = _ease(keys, key_poses, num_frames)
    blink = AU_INDEX["AU45"]
    start = int(rng.integers(5, 60))
    while start < num_frames:
        for offset, value in enumerate(_BLINK_PROFILE):
            if start + offset < num_frames:
                aus[start + offset, blink] = max(aus[start + offset, blink], value)
        start += int(rng.integers(*blink_gap))
    return np.clip(aus, 0.0, MAX_AU_INTENSITY), poses


# --- landmarks --------------------------------------------------------------------------

_RIGHT_SIDE = tuple(range(42, 51)) + tuple(range(68, 76)) + (58, 59, 97)
# Height above the head's cylinder of each feature, for the cheap yaw: the nose
# tip swings furthest, the contour (a silhouette) least.
_FEATURE_DEPTH = np.zeros(NUM_LANDMARKS)
_FEATURE_DEPTH[33:51] = 0.12
_FEATURE_DEPTH[51:55] = (0.1, 0.2, 0.3, 0.42)
_FEATURE_DEPTH[55:60] = (0.22, 0.3, 0.33, 0.3, 0.22)
_FEATURE_DEPTH[60:76] = 0.05
_FEATURE_DEPTH[76:96] = 0.2
_FEATURE_DEPTH[[76, 82, 88, 92]] = 0.12
_FEATURE_DEPTH[96:98] = 0.08


def _strengths(aus):
    values = np.asarray(aus, dtype=np.float64).reshape(-1)
    if values.shape != (NUM_AUS,):
        raise ValueError("expected {} AU intensities, got {}".format(NUM_AUS, values.shape))
    return {name: float(v) for name, v in
            zip(AU_NAMES, np.clip(values / MAX_AU_INTENSITY, 0.0, 1.0))}


def _contour(identity, contour_top, chin_y):
    """33 points evenly spaced along a superellipse jaw, image-left to image-right."""
    phi = np.linspace(0.0, np.pi, 721)
    exponent = 2.0 / max(identity.jaw_squareness, 1.0)
    cos, sin = np.cos(phi), np.sin(phi)
    x = -identity.face_width * np.sign(cos) * np.abs(cos) ** exponent
    x = x * (1.0 - identity.chin_taper * sin ** 6)
    y = contour_top + (chin_y - contour_top) * sin ** exponent
    length = np.concatenate([[0.0], np.cumsum(np.hypot(np.diff(x), np.diff(y)))])
    targets = np.linspace(0.0, length[-1], 33)
    return np.stack([np.interp(targets, length, x), np.interp(targets, length, y)], axis=1)


def canonical_landmarks(identity, aus):
    """Landmarks (98, 2) and feature depths (98,) in the canonical frame, before the pose."""
    s = _strengths(aus)
    p = np.zeros((NUM_LANDMARKS, 2))
    eye_y = identity.eye_height
    chin_y = eye_y + identity.face_height
    tip_y = eye_y + identity.nose_length
    mouth_y = tip_y + identity.mouth_position * (chin_y - tip_y)
    contour_top = eye_y + 0.06

    # Contour; the jaw drop (AU26) and chin raiser (AU17) move its lower part.
    contour = _contour(identity, contour_top, chin_y)
    jaw_drop = 0.19 * s["AU26"] - 0.04 * s["AU17"]
    below_mouth = np.clip((contour[:, 1] - mouth_y) / (chin_y - mouth_y), 0.0, 1.0) ** 1.5
    contour[:, 1] += jaw_drop * below_mouth
    p[0:33] = contour

    # Image-left eye: t runs from the outer (0) to the inner (1) corner.
    half_width = identity.eye_size
    centre_x = -identity.eye_spacing
    upper_height = half_width * identity.eye_openness
    lower_height = 0.6 * upper_height
    upper_amp = upper_height * (1 + 0.55 * s["AU05"]) * (1 - 0.25 * s["AU07"]) * \
        (1 - 0.1 * s["AU06"])
    # The raised cheek (AU06) pushes the lower lid up beyond merely flattening it.
    lower_amp = lower_height * (1 - 0.55 * s["AU06"]) * (1 - 0.6 * s["AU07"]) - \
        0.012 * s["AU06"]

    def eye_curves(t):
        x = centre_x - half_width + 2 * half_width * t
        base = eye_y - identity.eye_tilt * (1 - t)
        bump = np.sin(np.pi * t)
        upper = base - upper_amp * bump ** 0.8
        lower = base + lower_amp * bump ** 0.9
        closed = base + 0.3 * lower_height * bump
        closure = s["AU45"]
        return x, upper + closure * (closed - upper), lower + closure * (closed - lower)

    x, upper, _ = eye_curves(np.array([0.0, 0.25, 0.5, 0.75, 1.0]))
    p[60:65] = np.stack([x, upper], axis=1)
    x, _, lower = eye_curves(np.array([0.75, 0.5, 0.25]))
    p[65:68] = np.stack([x, lower], axis=1)
    p[96] = (centre_x, eye_y - identity.eye_tilt * 0.5 - 0.2 * (upper_height - lower_height))

    # Image-left brow: t from the outer (0) to the inner (1) end.
    def brow(t, lower_side):
        x = centre_x - 1.3 * half_width + t * (2.35 * half_width)
        y = eye_y - identity.brow_height - identity.brow_arch * np.sin(np.pi * t ** 0.66) + \
            0.03 * (1 - t) ** 2
        if lower_side:
            y = y + identity.brow_thickness * (0.5 + 0.5 * t)
        y = y - 0.11 * s["AU01"] * t ** 1.5 - 0.1 * s["AU02"] * (1 - t) ** 1.5 - \
            0.02 * s["AU02"] + 0.065 * s["AU04"] * (0.6 + 0.4 * t) + 0.03 * s["AU09"] * t
        x = x + 0.05 * s["AU04"] * t ** 2
        return np.stack([x, y], axis=1)

    p[33:38] = brow(np.array([0.0, 0.25, 0.5, 0.75, 1.0]), False)
    p[38:42] = brow(np.array([0.97, 0.66, 0.35, 0.05]), True)
    # Raised lids (AU05) under lowered brows (AU04) must not cross them.
    overlap = p[38:42, 1].max() - (p[60:65, 1].min() - 0.03)
    if overlap > 0:
        p[33:42, 1] -= overlap

    # Nose: bridge down the midline, lower nose lifted by the wrinkler (AU09).
    tip = tip_y - 0.02 * s["AU09"]
    p[51:55] = np.stack([np.zeros(4), np.linspace(eye_y - 0.02, tip, 4)], axis=1)
    nose_half = identity.nose_width * (1 + 0.15 * s["AU09"])
    lift = 0.045 * s["AU09"] + 0.012 * s["AU10"]
    p[55] = (-nose_half, tip - 0.005 - lift)
    p[56] = (-0.5 * nose_half, tip + 0.045 - lift)
    p[57] = (0.0, tip + 0.06 - lift)

    # Mouth: every lip point hangs off a lip line whose corners the AUs bend,
    # so the inner lip stays inside the outer lip whatever the AUs do.
    mouth_half = identity.mouth_width * (1 + 0.12 * s["AU12"] - 0.06 * s["AU14"] +
                                         0.18 * s["AU20"] - 0.07 * s["AU23"])
    thinning = (1 - 0.2 * s["AU20"]) * (1 - 0.45 * s["AU23"]) * (1 - 0.1 * s["AU14"])
    upper_lip = 0.9 * identity.lip_thickness * thinning
    lower_lip = 1.1 * identity.lip_thickness * thinning * (1 + 0.15 * s["AU17"])
    corner_drop = -0.11 * s["AU12"] + 0.09 * s["AU15"] + 0.025 * s["AU20"] - 0.012 * s["AU14"]
    centre_lift = 0.04 * s["AU17"]
    inner_half = 0.86 * mouth_half
    upper_gap = 0.02 * s["AU25"] + 0.05 * s["AU10"] + 0.015 * s["AU09"]
    lower_gap = 0.035 * s["AU25"] + 0.19 * s["AU26"]

    def lip_line(x):
        r = np.abs(x) / mouth_half
        return mouth_y + corner_drop * r ** 2.2 - centre_lift * (1 - r ** 2)

    def opening(x):
        return np.sqrt(np.clip(1 - (x / inner_half) ** 2, 0.0, 1.0))

    x = mouth_half * np.array([-1.0, -0.62, -0.28, 0.0, 0.28, 0.62, 1.0])
    bow = np.array([0.0, 0.72, 1.0, 0.82, 1.0, 0.72, 0.0])
    p[76:83] = np.stack([x, lip_line(x) - upper_gap * opening(x) - upper_lip * bow], axis=1)
    x = mouth_half * np.array([0.6, 0.3, 0.0, -0.3, -0.6])
    fullness = np.array([0.68, 0.95, 1.0, 0.95, 0.68])
    p[83:88] = np.stack([x, lip_line(x) + lower_gap * opening(x) + lower_lip * fullness], axis=1)
    x = inner_half * np.array([-1.0, -0.5, 0.0, 0.5, 1.0])
    p[88:93] = np.stack([x, lip_line(x) - upper_gap * opening(x)], axis=1)
    x = inner_half * np.array([0.5, 0.0, -0.5])
    p[93:96] = np.stack([x, lip_line(x) + lower_gap * opening(x)], axis=1)

    p[_RIGHT_SIDE, 0] = -p[FLIP_PERMUTATION[list(_RIGHT_SIDE)], 0]
    p[_RIGHT_SIDE, 1] = p[FLIP_PERMUTATION[list(_RIGHT_SIDE)], 1]
    cylinder = 0.5 * np.sqrt(np.clip(identity.face_width ** 2 - p[:, 0] ** 2, 0.0, None))
    return p, cylinder + _FEATURE_DEPTH


def apply_pose(points, depth, pose, size=256, face_width=1.0):
    """Canonical points -> pixels of a ``size`` frame under ``pose``.

    Yaw swings points sideways by their depth (a cheap rotation about the
    vertical axis); roll turns the face clockwise in the image (y down) about
    the canonical origin; shifts are in pixels of a 256 frame.
    """
    roll, yaw, scale, shift_x, shift_y = [float(v) for v in np.asarray(pose).reshape(5)]
    theta = np.deg2rad(_MAX_YAW_DEGREES) * float(np.clip(yaw, -1.0, 1.0))
    # Subtracting a typical depth keeps the face box roughly centred when turning.
    x = points[:, 0] * np.cos(theta) + (depth - 0.4 * face_width) * np.sin(theta)
    y = points[:, 1] + _CANONICAL_Y_OFFSET
    angle = np.deg2rad(roll)
    rotated_x = np.cos(angle) * x - np.sin(angle) * y
    rotated_y = np.sin(angle) * x + np.cos(angle) * y
    unit = _UNIT_PER_FRAME * size * scale
    frame = size / 256.0
    return np.stack([size / 2.0 + shift_x * frame + unit * rotated_x,
                     size / 2.0 + shift_y * frame + unit * rotated_y], axis=1)


def face_landmarks(identity, aus, pose=None, size=256):
    """The 98 WFLW landmarks (x, y) of a face in a ``size`` x ``size`` frame, float64."""
    points, depth = canonical_landmarks(identity, aus)
    return apply_pose(points, depth, NEUTRAL_POSE if pose is None else pose, size,
                      identity.face_width)


# --- rendering --------------------------------------------------------------------------

_SHIFT = 4  # fixed-point bits for OpenCV drawing: sub-pixel accurate edges
_ONE = 1 << _SHIFT


def _fixed(points):
    return np.round(np.asarray(points, dtype=np.float64) * _ONE).astype(np.int32).reshape(-1, 1, 2)


def _fill(canvas, points, color):
    cv2.fillPoly(canvas, [_fixed(points)], _cv_color(color), cv2.LINE_AA, _SHIFT)


def _line(canvas, points, color, thickness, closed=False):
    cv2.polylines(canvas, [_fixed(points)], closed, _cv_color(color),
                  max(1, int(round(thickness))), cv2.LINE_AA, _SHIFT)


def _circle(canvas, centre, radius, color):
    cx, cy = np.round(np.asarray(centre, dtype=np.float64) * _ONE).astype(int)
    cv2.circle(canvas, (int(cx), int(cy)), max(1, int(round(radius * _ONE))), _cv_color(color),
               -1, cv2.LINE_AA, _SHIFT)


def _clamp(value):
    # Plain Python: np.clip on scalars costs more than a whole fillPoly.
    return min(255.0, max(0.0, float(value)))


def _cv_color(color):
    return tuple(_clamp(v) for v in color)


def _scaled(color, factor):
    return tuple(_clamp(v * factor) for v in color)


def _mix(a, b, weight):
    return tuple(_clamp((1 - weight) * x + weight * y) for x, y in zip(a, b))


class _FaceFrame:
    """The face's own axes recovered from its landmarks: across (e) and down (d).

    The contour's top ends span 2 * face_width canonical units whatever the
    expression, so they give the scale for everything not on a landmark (hair,
    forehead, neck, line widths).
    """

    def __init__(self, landmarks, identity):
        left, right = landmarks[0], landmarks[32]
        span = right - left
        distance = max(float(np.hypot(*span)), 1e-6)
        self.across = span / distance
        self.down = np.array([-self.across[1], self.across[0]])
        self.origin = 0.5 * (left + right)
        self.unit = distance / (2.0 * identity.face_width)

    def points(self, u, v):
        u = np.asarray(u, dtype=np.float64).reshape(-1, 1)
        v = np.asarray(v, dtype=np.float64).reshape(-1, 1)
        return self.origin + self.unit * (u * self.across + v * self.down)

    def coords(self, points):
        relative = np.asarray(points, dtype=np.float64).reshape(-1, 2) - self.origin
        return relative @ self.across / self.unit, relative @ self.down / self.unit

    def translated(self, dx, dy):
        """The same frame in the coordinates of a crop whose corner is (dx, dy)."""
        moved = copy.copy(self)
        moved.origin = self.origin - np.array([dx, dy], dtype=np.float64)
        return moved


def _backdrop(identity, height, width):
    """The identity's background colour with a soft top-to-bottom light gradient."""
    color = np.asarray(identity.background_color, dtype=np.float32)
    ramp = np.stack([np.clip(color * 1.1, 0, 255), color * 0.8])[:, None, :]
    return cv2.resize(ramp.astype(np.float32), (width, height),
                      interpolation=cv2.INTER_LINEAR).round().astype(np.uint8)


def _clipped(canvas, clip_points, draw):
    """Run ``draw(layer, offset)`` on a copy of the clip polygon's box, keep its inside."""
    height, width = canvas.shape[:2]
    x0, y0 = np.floor(clip_points.min(axis=0)).astype(int) - 2
    x1, y1 = np.ceil(clip_points.max(axis=0)).astype(int) + 3
    x0, y0, x1, y1 = max(x0, 0), max(y0, 0), min(x1, width), min(y1, height)
    if x1 <= x0 or y1 <= y0:
        return
    offset = np.array([x0, y0], dtype=np.float64)
    region = canvas[y0:y1, x0:x1]
    layer = region.copy()
    draw(layer, offset)
    mask = np.zeros(region.shape[:2], dtype=np.uint8)
    cv2.fillPoly(mask, [_fixed(clip_points - offset)], 255, cv2.LINE_8, _SHIFT)
    np.copyto(region, layer, where=mask[:, :, None] > 0)


def _texture_field(identity):
    return np.random.default_rng(identity.texture_seed).normal(0.0, 1.0, (7, 7)).astype(np.float32)


def _skin_shading(identity, frame, skin_outline, shape, step):
    """Brightness factor (H, W) at 1/step resolution: darker towards the contour,
    with the identity's own low-frequency blotches."""
    small_h, small_w = -(-shape[0] // step), -(-shape[1] // step)
    mask = np.zeros((small_h, small_w), dtype=np.float32)
    cv2.fillPoly(mask, [_fixed(skin_outline / step)], 1.0, cv2.LINE_AA, _SHIFT)
    sigma = max(0.5, 0.16 * frame.unit / step)
    inside = cv2.GaussianBlur(mask, (0, 0), sigma)
    shade = 0.78 + 0.22 * np.clip(inside * 1.6 - 0.6, 0.0, 1.0)
    # The blotch field spans the face box in face axes, so it moves with the face.
    field = _texture_field(identity)
    u0, v0 = -1.3 * identity.face_width, -identity.forehead_height - 0.1
    du = 2.6 * identity.face_width / (field.shape[1] - 1)
    dv = (identity.forehead_height + identity.face_height + 0.4) / (field.shape[0] - 1)
    start = frame.points(u0, v0)[0] / step
    column = frame.unit * du * frame.across / step
    row = frame.unit * dv * frame.down / step
    warp = np.array([[column[0], row[0], start[0]], [column[1], row[1], start[1]]],
                    dtype=np.float64)
    blotches = cv2.warpAffine(field, warp, (small_w, small_h), flags=cv2.INTER_CUBIC,
                              borderMode=cv2.BORDER_REPLICATE)
    return shade * (1.0 + 0.035 * blotches)


def _draw_hair_back(canvas, identity, frame, forehead):
    volume, length, curl = identity.hair_volume, identity.hair_length, identity.hair_curl
    width = identity.face_width * (1.07 + 0.14 * volume + 0.08 * curl)
    height = forehead + 0.1 + 0.15 * volume + 0.08 * curl
    alpha = np.linspace(0.0, np.pi, 80)
    waves = 1.0 + 0.035 * curl * np.sin(16 * alpha)
    bottom = max(0.05, -0.2 + 1.9 * length)
    side = np.linspace(0.0, bottom, 20)
    side_u = width * (1.0 + 0.04 * length * side / max(bottom, 1e-6)) + \
        0.05 * curl * np.sin(9.0 * side)
    u = np.concatenate([side_u[::-1], width * waves * np.cos(alpha), -side_u])
    v = np.concatenate([side[::-1], -height * waves * np.sin(alpha), side])
    _fill(canvas, frame.points(u, v), identity.hair_color)


def _draw_ears(canvas, identity, frame):
    """Ears beside the contour's top, for hair too short to cover them."""
    if identity.hair_length >= 0.45:
        return
    alpha = np.linspace(0.0, 2 * np.pi, 24, endpoint=False)
    inner = np.linspace(-0.4 * np.pi, 0.6 * np.pi, 10)
    for side in (-1.0, 1.0):
        # The face covers the inner half of the ellipse.
        centre_u = side * (identity.face_width + 0.02)
        ear = frame.points(centre_u + 0.1 * np.cos(alpha), 0.12 + 0.19 * np.sin(alpha))
        _fill(canvas, ear, _scaled(identity.skin_color, 0.88))
        fold = frame.points(centre_u + 0.05 * side * np.cos(inner), 0.12 + 0.11 * np.sin(inner))
        _line(canvas, fold, _scaled(identity.skin_color, 0.68), 0.015 * frame.unit)


def _draw_body(canvas, identity, frame):
    width = identity.face_width
    neck_top = 0.2
    collar = identity.face_height - 0.06 + 0.4
    neck = frame.points([-0.42 * width, 0.42 * width, 0.5 * width, -0.5 * width],
                        [neck_top, neck_top, collar + 3.0, collar + 3.0])
    _fill(canvas, neck, _scaled(identity.skin_color, 0.8))
    u = np.array([-0.45, 0.0, 0.45, 1.5, 2.5, 2.8, -2.8, -2.5, -1.5]) * width
    v = collar + np.array([0.0, 0.45, 0.0, 0.3, 0.9, 6.0, 6.0, 0.9, 0.3])
    _fill(canvas, frame.points(u, v), identity.clothes_color)


def _draw_hair_front(canvas, identity, frame, forehead, brows_uv):
    width_out = identity.face_width * 1.05 + 0.03
    height_out = forehead + 0.06 + 0.05 * identity.hair_volume
    brow_top = -(identity.brow_height + 0.06 + identity.brow_arch)
    centre = max(identity.hairline * forehead, -brow_top + 0.2)
    side = 0.3
    u = np.linspace(-width_out, width_out, 41)
    r = np.abs(u) / width_out
    v = -centre + (centre - side) * r ** 4 + 0.22 * identity.hair_part * u / width_out
    # Curls make a scalloped hairline.
    v = v + 0.05 * identity.hair_curl * np.abs(np.sin(4.5 * np.pi * u / width_out))
    # Never over the brows, even when they are raised.
    brow_u, brow_v = brows_uv
    near = np.abs(u[:, None] - brow_u[None, :]) < 0.12
    lowest = np.where(near, brow_v[None, :] - 0.06, np.inf).min(axis=1)
    v = np.minimum(v, lowest)
    alpha = np.linspace(0.0, np.pi, 80)
    waves = 1.0 + 0.03 * identity.hair_curl * np.sin(16 * alpha)
    outline_u = np.concatenate([u, width_out * waves * np.cos(alpha)])
    outline_v = np.concatenate([v, -height_out * waves * np.sin(alpha)])
    _fill(canvas, frame.points(outline_u, outline_v), identity.hair_color)
    shine = np.linspace(0.3 * np.pi, 0.62 * np.pi, 12)
    _line(canvas, frame.points(0.72 * width_out * np.cos(shine),
                               -0.86 * height_out * np.sin(shine)),
          _mix(identity.hair_color, (255, 255, 255), 0.22), 0.05 * frame.unit)


def _brow_color(identity):
    color = _scaled(identity.hair_color, 0.75)
    limit = 0.55 * _luma(identity.skin_color)
    if _luma(color) > limit:
        color = _scaled(color, limit / max(_luma(color), 1.0))
    return color


def _draw_eye(canvas, identity, lm, eye, pupil, unit):
    """Sclera, iris clipped to the lids, then the lid lines along the landmarks."""
    outline = lm[list(eye)]
    corners = outline[0], outline[4]
    half_width = 0.5 * float(np.hypot(*(corners[1] - corners[0])))
    _fill(canvas, outline, (242, 240, 234))
    iris_radius = 0.5 * half_width
    centre = lm[pupil]

    def draw_iris(layer, offset):
        local = centre - offset
        _circle(layer, local, iris_radius, _scaled(identity.iris_color, 0.6))
        _circle(layer, local, 0.86 * iris_radius, identity.iris_color)
        _circle(layer, local, 0.42 * iris_radius, (18, 16, 20))
        _circle(layer, local + np.array([-0.35, -0.35]) * iris_radius, 0.17 * iris_radius,
                (250, 250, 250))

    _clipped(canvas, outline, draw_iris)
    _line(canvas, outline[[4, 5, 6, 7, 0]], _scaled(identity.skin_color, 0.5), 0.018 * unit)
    _line(canvas, outline[0:5], (32, 24, 24), 0.034 * unit)


def _draw_nose(canvas, identity, lm, unit):
    skin = identity.skin_color
    # The bridge fades in from between the eyes to the tip, like a side shadow.
    for start, fade in ((51, 0.86), (52, 0.8), (53, 0.72)):
        _line(canvas, lm[start:start + 2], _scaled(skin, fade), 0.022 * unit)
    for wing, side in ((56, 55), (58, 59)):
        centre = lm[wing] + 0.35 * (lm[54] - lm[57]) + 0.15 * (lm[side] - lm[wing])
        across = lm[59] - lm[55]
        angle = float(np.degrees(np.arctan2(across[1], across[0])))
        axes = 0.16 * float(np.hypot(*across)), 0.055 * float(np.hypot(*across))
        cv2.ellipse(canvas, (int(round(centre[0] * _ONE)), int(round(centre[1] * _ONE))),
                    (max(1, int(round(axes[0] * _ONE))), max(1, int(round(axes[1] * _ONE)))),
                    angle, 0, 360, _cv_color(_scaled(skin, 0.38)), -1, cv2.LINE_AA, _SHIFT)
    _line(canvas, lm[55:60], _scaled(skin, 0.55), 0.024 * unit)


def _draw_mouth(canvas, identity, lm, unit):
    lips = identity.lip_color
    upper = lm[[76, 77, 78, 79, 80, 81, 82, 92, 91, 90, 89, 88]]
    lower = lm[[82, 83, 84, 85, 86, 87, 76, 88, 95, 94, 93, 92]]
    _fill(canvas, upper, _scaled(lips, 0.88))
    _fill(canvas, lower, lips)
    inner = lm[88:96]
    gap = float(np.hypot(*(lm[94] - lm[90])))
    if gap > 0.012 * unit:
        _fill(canvas, inner, (70, 24, 30))
        down = np.array([-(lm[92] - lm[88])[1], (lm[92] - lm[88])[0]])
        down = down / max(float(np.hypot(*down)), 1e-6)
        teeth_height = min(0.07 * unit, 0.55 * gap)

        def draw_teeth(layer, offset):
            edge = lm[88:93] - offset
            _fill(layer, np.concatenate([edge, edge[::-1] + teeth_height * down]),
                  (236, 233, 222))

        _clipped(canvas, inner, draw_teeth)
    _line(canvas, lm[76:88], _scaled(lips, 0.9), 0.012 * unit, closed=True)
    slit = _scaled(lips, 0.42)
    _line(canvas, lm[88:93], slit, 0.016 * unit)
    _line(canvas, lm[[92, 93, 94, 95, 88]], slit, 0.016 * unit)


def _noise_rng(rng, identity):
    if rng is None:
        return np.random.default_rng(identity.texture_seed)
    return _generator(rng)


def render_face(identity, landmarks, canvas_shape=(256, 256), rng=None, background=None):
    """Draw a cartoon face on its landmarks; uint8 (H, W, 3) RGB.

    Args:
        identity: the :class:`FaceIdentity` whose colours and proportions to use.
        landmarks: (98, 2) (x, y) pixels of the canvas; the face may be anywhere,
            partly outside, rotated; line widths follow its size.
        canvas_shape: (H, W) of the picture.
        rng: noise source (Generator, RandomState or seed); None derives the
            noise from the identity's texture seed, so the picture is reproducible.
        background: optional uint8 (H, W, 3) picture to draw the person on
            instead of the identity's plain backdrop.
    """
    height, width = int(canvas_shape[0]), int(canvas_shape[1])
    points = np.asarray(landmarks, dtype=np.float64)
    if points.shape != (NUM_LANDMARKS, 2) or not np.all(np.isfinite(points)):
        raise ValueError("expected finite landmarks of shape (98, 2), got {}".format(points.shape))
    if background is None:
        base = _backdrop(identity, height, width)
    else:
        base = np.asarray(background)
        if base.shape != (height, width, 3) or base.dtype != np.uint8:
            raise ValueError("background must be uint8 ({}, {}, 3)".format(height, width))
    ss = _SUPERSAMPLE
    # Nearest-neighbour upsampling then area downsampling gives the background back exactly.
    canvas = cv2.resize(base, (width * ss, height * ss), interpolation=cv2.INTER_NEAREST)
    # Landmarks address pixel centres; the supersampled pixel centres sit half a pixel in.
    lm = (points + 0.5) * ss - 0.5
    frame = _FaceFrame(lm, identity)
    unit = frame.unit
    forehead = identity.forehead_height

    alpha = np.linspace(0.0, np.pi, 26)[1:-1]
    arc = frame.points(identity.face_width * np.cos(alpha), -forehead * np.sin(alpha))
    skin_outline = np.concatenate([lm[0:33], arc])

    _draw_hair_back(canvas, identity, frame, forehead)
    _draw_body(canvas, identity, frame)
    _draw_ears(canvas, identity, frame)

    # Shading is smooth, so it is computed at a quarter of the resolution: full-size
    # float maths would cost more than all the drawing.
    step = 4
    x0, y0 = np.floor(skin_outline.min(axis=0)).astype(int) - 2
    x1, y1 = np.ceil(skin_outline.max(axis=0)).astype(int) + 3
    x0, y0 = max(x0, 0), max(y0, 0)
    x1, y1 = min(x1, canvas.shape[1]), min(y1, canvas.shape[0])
    if x1 > x0 and y1 > y0:
        local = skin_outline - np.array([x0, y0], dtype=np.float64)
        shade = _skin_shading(identity, frame.translated(x0, y0), local,
                              (y1 - y0, x1 - x0), step)
        shade = cv2.resize(shade, (shade.shape[1] * step, shade.shape[0] * step),
                           interpolation=cv2.INTER_LINEAR)[:y1 - y0, :x1 - x0]
        skin = cv2.merge([cv2.convertScaleAbs(shade, alpha=float(c))
                          for c in identity.skin_color])
        # A hard mask is enough: the final 2x area downsampling antialiases its edge.
        mask = np.zeros((y1 - y0, x1 - x0), dtype=np.uint8)
        cv2.fillPoly(mask, [_fixed(local)], 255, cv2.LINE_8, _SHIFT)
        np.copyto(canvas[y0:y1, x0:x1], skin, where=mask[:, :, None] > 0)

    brows_uv = frame.coords(lm[33:51])
    _draw_hair_front(canvas, identity, frame, forehead, brows_uv)
    brow_color = _brow_color(identity)
    _fill(canvas, lm[33:42], brow_color)
    _fill(canvas, lm[42:51], brow_color)
    _draw_eye(canvas, identity, lm, range(60, 68), 96, unit)
    _draw_eye(canvas, identity, lm, range(68, 76), 97, unit)
    _draw_nose(canvas, identity, lm, unit)
    _draw_mouth(canvas, identity, lm, unit)
    _line(canvas, lm[0:33], _scaled(identity.skin_color, 0.6), 0.02 * unit)

    image = cv2.resize(canvas, (width, height), interpolation=cv2.INTER_AREA)
    # Luminance-only sensor noise: one draw per pixel, a third of the cost of RGB noise.
    noise = _noise_rng(rng, identity).standard_normal((height, width), dtype=np.float32)
    noise *= 2.0
    return cv2.add(image, cv2.merge([noise, noise, noise]), dtype=cv2.CV_8U)


# --- writing ----------------------------------------------------------------------------

DEFAULT_PERSONS = ("Person_A", "Person_B", "Person_C")
WFLW_ANNOTATION_DIR = os.path.join("WFLW_annotations", "list_98pt_rect_attr_train_test")


def _publish(path, data):
    """Write bytes atomically."""
    with atomic_path(path) as tmp:
        with open(tmp, "wb") as f:
            f.write(data)


def _jpeg_bytes(rgb):
    ok, encoded = cv2.imencode(".jpg", cv2.cvtColor(rgb, cv2.COLOR_RGB2BGR),
                               [cv2.IMWRITE_JPEG_QUALITY, _JPEG_QUALITY])
    if not ok:
        raise RuntimeError("JPEG encoding failed")
    return encoded.tobytes()


def _npz_bytes(arrays):
    """An .npz archive with fixed member timestamps (np.savez stamps the current time,
    which would make two runs differ)."""
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w", compression=zipfile.ZIP_STORED) as archive:
        for key, value in arrays.items():
            member = io.BytesIO()
            np.lib.format.write_array(member, np.asarray(value), allow_pickle=False)
            archive.writestr(zipfile.ZipInfo(key + ".npy", date_time=(1980, 1, 1, 0, 0, 0)),
                             member.getvalue())
    return buffer.getvalue()


def _json_bytes(value):
    return (json.dumps(value, indent=2, sort_keys=True) + "\n").encode("utf-8")


def _metadata(dataset, seed, **extra):
    values = {"generator": "utils.synthetic_faces", "version": GENERATOR_VERSION,
              "dataset": dataset, "seed": int(seed), "au_names": list(AU_NAMES)}
    values.update(extra)
    return values


def _progress(iterable, total, description, enabled):
    if not enabled:
        return iterable
    from tqdm import tqdm
    return tqdm(iterable, total=total, desc=description, unit="img", file=sys.stderr)


def _check_count(name, value, minimum=0):
    if int(value) != value or value < minimum:
        raise UserError("{} must be an integer >= {}, got {}".format(name, minimum, value))
    return int(value)


def write_openface_csv(path, aus, confidence=0.98):
    """One face's AUs as OpenFace's ``FaceLandmarkImg -aus`` CSV (37 columns)."""
    values = np.asarray(aus, dtype=np.float64).reshape(-1)
    if values.shape != (NUM_AUS,):
        raise ValueError("expected {} AU intensities, got {}".format(NUM_AUS, values.shape))
    present = dict(zip(AU_NAMES, (values >= 1.0).astype(int)))
    row = ["0", "{:g}".format(float(confidence))] + ["{:.2f}".format(v) for v in values] + \
        [str(present.get(name, 0)) for name in OPENFACE_CLASS_NAMES]
    text = ", ".join(OPENFACE_HEADER) + "\n" + ", ".join(row) + "\n"
    _publish(path, text.encode("ascii"))


def person_statistics(landmarks, map_size=64, image_size=256):
    """How the persons of a CelebV set differ and move, in pixels of ``map_size`` maps.

    ``landmarks``: (persons, frames, 98, 2) pixels of ``image_size`` frames, where
    frame k of every person shows the same expression and pose.  Returns
    ``between_persons_px``, the mean landmark distance between two persons in
    the same frame (over all pairs), and ``within_person_px``, the mean
    distance of a person's frames from that person's mean shape.
    """
    points = np.asarray(landmarks, dtype=np.float64) * (float(map_size) / image_size)
    within = np.linalg.norm(points - points.mean(axis=1, keepdims=True), axis=-1).mean()
    pairs = [np.linalg.norm(points[i] - points[j], axis=-1).mean()
             for i in range(len(points)) for j in range(i)]
    return {"between_persons_px": float(np.mean(pairs)) if pairs else float("nan"),
            "within_person_px": float(within)}


def write_celebv(root, person_names=DEFAULT_PERSONS, frames_per_person=300, seed=0,
                 progress=False, pose_amount=0.35, lively=True):
    """A CelebV-style tree: per person ``Image/<k:06d>.jpg`` (256 px) and ``all_98pt.txt``.

    All persons share one expression/pose sequence (frame k of every person has
    the same AUs and pose; ``lively``: a talking head's wide mouth movements,
    smiles, brows and blinks); each has its own identity, and their face shapes
    differ as real people's do (:func:`sample_contrasting_identities`).  Ground
    truth: ``<Person>/identity.json``, ``<Person>/frame_params.npz`` (names,
    aus, poses, landmarks) and ``<root>/synthetic_faces.json``.

    Returns a summary dict, with the :func:`person_statistics` of the persons.
    """
    persons = [str(name) for name in person_names]
    if not persons:
        raise UserError("at least one person name is needed")
    for name in persons:
        if not name.strip() or name in (".", "..") or os.sep in name or \
                (os.altsep and os.altsep in name):
            raise UserError("invalid person name {!r}: it must be a plain folder name".format(name))
    if len(set(persons)) != len(persons):
        raise UserError("person names must be unique")
    frames = _check_count("frames per person", frames_per_person, 1)
    ensure_writable_dir(root)
    aus, poses = expression_sequence(_child_rng(seed, 1), frames, pose_amount, lively=lively)
    # The stored float32 values are the ones drawn, so the ground truth reproduces them.
    aus = aus.astype(np.float32)
    poses = poses.astype(np.float32)
    identities = sample_contrasting_identities(_child_rng(seed, 2), len(persons))
    everyone = np.zeros((len(persons), frames, NUM_LANDMARKS, 2))
    names = np.array(["{:06d}.jpg".format(k) for k in range(frames)])
    size = 256
    for index, (person, identity) in enumerate(zip(persons, identities)):
        folder = os.path.join(root, person)
        landmarks = np.zeros((frames, NUM_LANDMARKS, 2), dtype=np.float64)
        lines = []
        for k in _progress(range(frames), frames, "CelebV " + person, progress):
            landmarks[k] = face_landmarks(identity, aus[k], poses[k], size)
            image = render_face(identity, landmarks[k], (size, size),
                                rng=_child_rng(seed, 3, index, k))
            _publish(os.path.join(folder, "Image", names[k]), _jpeg_bytes(image))
            coords = " ".join("{:.3f}".format(v) for v in landmarks[k].ravel())
            lines.append("{} {}\n".format(coords, names[k]))
        everyone[index] = landmarks
        _publish(os.path.join(folder, "all_98pt.txt"), "".join(lines).encode("utf-8"))
        _publish(os.path.join(folder, "identity.json"), _json_bytes(identity.to_dict()))
        _publish(os.path.join(folder, "frame_params.npz"), _npz_bytes(
            {"names": names, "aus": aus, "poses": poses,
             "landmarks": landmarks.astype(np.float32)}))
    _publish(os.path.join(root, "synthetic_faces.json"), _json_bytes(_metadata(
        "CelebV", seed, persons=persons, frames=frames, image_size=size,
        pose_fields=list(POSE_FIELDS))))
    summary = {"persons": len(persons), "frames": frames, "images": len(persons) * frames}
    summary.update(person_statistics(everyone))
    return summary


def _scene(rng, height, width):
    """A random busy picture (gradient, boxes, discs, blobs) for a face to sit in."""
    top, bottom = rng.uniform(30, 230, 3), rng.uniform(30, 230, 3)
    ramp = np.stack([top, bottom])[:, None, :].astype(np.float32)
    scene = cv2.resize(ramp, (width, height), interpolation=cv2.INTER_LINEAR)
    scene = np.clip(scene + 0.5, 0, 255).astype(np.uint8)
    for _ in range(int(rng.integers(5, 13))):
        color = tuple(float(v) for v in rng.uniform(20, 240, 3))
        x, y = rng.uniform(0, width), rng.uniform(0, height)
        extent = rng.uniform(0.05, 0.35) * max(width, height)
        kind = rng.integers(3)
        if kind == 0:
            corner = np.array([x, y]) + rng.uniform(0.3, 1.0, 2) * extent
            cv2.rectangle(scene, (int(x), int(y)), (int(corner[0]), int(corner[1])), color, -1)
        elif kind == 1:
            cv2.circle(scene, (int(x), int(y)), int(0.5 * extent), color, -1, cv2.LINE_AA)
        else:
            angles = np.sort(rng.uniform(0, 2 * np.pi, 6))
            radius = rng.uniform(0.3, 0.6, 6) * extent
            blob = np.stack([x + radius * np.cos(angles), y + radius * np.sin(angles)], axis=1)
            cv2.fillPoly(scene, [np.round(blob).astype(np.int32)], color, cv2.LINE_AA)
    return cv2.GaussianBlur(scene, (0, 0), 1.0)


def _wflw_sample(rng, identity):
    """One WFLW picture: (image, landmarks, box, attributes, aus, pose)."""
    width = int(rng.integers(320, 561))
    height = int(round(width / rng.uniform(0.75, 1.33)))
    aus = sample_expression(rng)
    if rng.random() < 0.6:
        roll = float(np.clip(rng.normal(0, 7.0), -25, 25))
    else:
        roll = float(rng.uniform(-25, 25))
    yaw = float(np.clip(rng.normal(0, 0.35), -0.9, 0.9))
    pose = np.array([roll, yaw, 1.0, 0.0, 0.0])
    points = face_landmarks(identity, aus, pose, 256)
    low, high = points.min(axis=0), points.max(axis=0)
    face_fraction = rng.uniform(0.25, 0.6)
    scale = face_fraction * width / (high[0] - low[0])
    face_size = (high - low) * scale
    # Most faces lie well inside; a fifth reach over the border.
    keep = 0.3 if rng.random() < 0.2 else 0.62
    lower = keep * face_size + np.array([0.0, 0.25 * face_size[1] * (keep > 0.5)])
    upper = np.array([width, height]) - keep * face_size
    centre = np.where(lower < upper, rng.uniform(np.minimum(lower, upper),
                                                 np.maximum(lower, upper)),
                      0.5 * np.array([width, height]))
    landmarks = (points - 0.5 * (low + high)) * scale + centre
    image = render_face(identity, landmarks, (height, width), rng=rng,
                        background=_scene(rng, height, width))

    occlusion = rng.random() < 0.08
    if occlusion:
        target = landmarks[[96, 97, 54, 85][int(rng.integers(4))]]
        extent = 0.18 * face_fraction * width
        corner = target + rng.normal(0, 0.2, 2) * extent
        color = tuple(float(v) for v in rng.uniform(20, 240, 3))
        cv2.ellipse(image, (int(corner[0]), int(corner[1])),
                    (int(extent * rng.uniform(0.8, 1.4)), int(extent * rng.uniform(0.6, 1.0))),
                    float(rng.uniform(0, 180)), 0, 360, color, -1, cv2.LINE_AA)
    illumination = rng.random() < 0.12
    if illumination:
        direction = rng.uniform(0, 2 * np.pi)
        ys, xs = np.mgrid[0:height, 0:width].astype(np.float32)
        along = (np.cos(direction) * xs / width + np.sin(direction) * ys / height)
        along = (along - along.min()) / max(float(along.max() - along.min()), 1e-6)
        light = 0.35 + 0.8 * along
        image = np.clip(image * light[:, :, None] + 0.5, 0, 255).astype(np.uint8)
    blur = rng.random() < 0.1
    if blur:
        image = cv2.GaussianBlur(image, (0, 0), rng.uniform(1.2, 2.5))

    jitter = rng.uniform(-0.04, 0.04, 4) * np.tile(high - low, 2) * scale
    box = np.concatenate([landmarks.min(axis=0), landmarks.max(axis=0)]) + jitter
    box = np.round(box).astype(int)
    box[[0, 2]] = np.clip(box[[0, 2]], 0, width - 1)
    box[[1, 3]] = np.clip(box[[1, 3]], 0, height - 1)
    box[2] = max(box[2], box[0] + 1)
    box[3] = max(box[3], box[1] + 1)
    attributes = [int(abs(roll) > 20 or abs(yaw) > 0.6),
                  # Only near-maximal AUs count as WFLW's "exaggerated" expression (~20%).
                  int(aus[:AU_INDEX["AU45"]].max() >= 4.5),
                  int(illumination), int(identity.makeup), int(occlusion), int(blur)]
    return image, landmarks, box, attributes, aus, pose


def write_wflw(root, num_train=200, num_test=50, seed=0, progress=False):
    """A WFLW-style tree: ``WFLW_images/<k>--Synthetic/*.jpg`` and the two annotation lists.

    Each picture holds one face (its own identity) at a random place, size and
    roll in a random scene.  Annotation lines have 207 tokens: 196 landmark
    coordinates, the detection box, 6 attributes, the image path.  Ground truth
    (AUs, poses, identities) goes to ``ground_truth.npz`` and ``synthetic_faces.json``.

    Returns a summary dict.
    """
    num_train = _check_count("number of WFLW training images", num_train)
    num_test = _check_count("number of WFLW test images", num_test)
    ensure_writable_dir(root)
    total = num_train + num_test
    lines = {"train": [], "test": []}
    paths, all_aus, all_poses, identities = [], [], [], []
    for i in _progress(range(total), total, "WFLW", progress):
        rng = _child_rng(seed, 10, i)
        identity = sample_identity(rng)
        image, landmarks, box, attributes, aus, pose = _wflw_sample(rng, identity)
        folder = "{0}--Synthetic".format(i % 4)
        relative = "{}/{}_synthetic_{}.jpg".format(folder, i % 4, i)
        _publish(os.path.join(root, "WFLW_images", folder, os.path.basename(relative)),
                 _jpeg_bytes(image))
        tokens = ["{:.6f}".format(v) for v in landmarks.ravel()] + \
            [str(int(v)) for v in box] + [str(a) for a in attributes] + [relative]
        lines["train" if i < num_train else "test"].append(" ".join(tokens) + "\n")
        paths.append(relative)
        all_aus.append(aus)
        all_poses.append(pose)
        identities.append(identity.to_dict())
    for split in ("train", "test"):
        name = "list_98pt_rect_attr_{}.txt".format(split)
        _publish(os.path.join(root, WFLW_ANNOTATION_DIR, name),
                 "".join(lines[split]).encode("utf-8"))
    _publish(os.path.join(root, "ground_truth.npz"), _npz_bytes({
        "image_paths": np.array(paths, dtype=str),
        "aus": np.array(all_aus, dtype=np.float32).reshape(-1, NUM_AUS),
        "poses": np.array(all_poses, dtype=np.float32).reshape(-1, len(POSE_FIELDS))}))
    _publish(os.path.join(root, "synthetic_faces.json"), _json_bytes(_metadata(
        "WFLW", seed, train=num_train, test=num_test, identities=identities)))
    return {"train": num_train, "test": num_test, "images": total}


def _tight_crop_box(rng, landmarks):
    """A square detector-like box (x0, y0, side): brows to chin, a little forehead."""
    low, high = landmarks.min(axis=0), landmarks.max(axis=0)
    side = max(high - low) * rng.uniform(1.0, 1.12)
    centre = 0.5 * (low + high) + np.array([0.0, -0.06 * side]) + rng.uniform(-0.03, 0.03, 2) * side
    return centre[0] - 0.5 * side, centre[1] - 0.5 * side, side


def render_cropped_face(identity, aus, pose, box, image_size, rng):
    """A celebA-style crop: the face with ``aus`` and ``pose`` in the 256 frame, cut out
    by ``box`` (x0, y0, side) and drawn at ``image_size``; returns (uint8 image, landmarks)."""
    x0, y0, side = [float(v) for v in box]
    landmarks = (face_landmarks(identity, aus, pose, 256) - np.array([x0, y0])) * \
        (image_size / side)
    return render_face(identity, landmarks, (image_size, image_size), rng=rng), landmarks


class GanimationTruth:
    """Re-renders the faces of a synthetic celebA set with other Action Units.

    The ground truth of an expression edit: the same person, pose, crop and
    sensor noise as a data set face, with the target AUs instead of its own.
    Rendering a face with its own AUs gives the data set picture back (before
    JPEG).  Raises UserError for a folder not written by :func:`write_ganimation`.
    """

    def __init__(self, root):
        truth_path = os.path.join(root, "ground_truth.npz")
        meta_path = os.path.join(root, "synthetic_faces.json")
        if not (os.path.isfile(truth_path) and os.path.isfile(meta_path)):
            raise UserError("{} holds no synthetic ground truth (ground_truth.npz and "
                            "synthetic_faces.json)".format(root))
        try:
            with open(meta_path) as f:
                meta = json.load(f)
            truth = np.load(truth_path)
            current = meta.get("version") == GENERATOR_VERSION and "boxes" in truth.files
            if current:
                self.seed = int(meta["seed"])
                self.image_size = int(meta["image_size"])
                self.identities = [FaceIdentity.from_dict(d) for d in meta["identities"]]
                self.index = {str(name): i for i, name in enumerate(truth["ids"])}
                self.who, self.poses, self.boxes = (truth["identity"], truth["poses"],
                                                    truth["boxes"])
        except Exception as err:  # any damage to either file is the user's data, not a bug
            raise UserError("cannot read the synthetic ground truth in {}: {}".format(root, err))
        if not current:
            raise UserError("{} was written by another version of utils.synthetic_faces; "
                            "write it again to re-render its faces".format(root))

    def render(self, sample_id, aus):
        """uint8 (S, S, 3): face ``sample_id`` (its id, no extension) showing ``aus`` (17, 0-5)."""
        i = self.index[str(sample_id)]
        image, _ = render_cropped_face(self.identities[self.who[i]], aus, self.poses[i],
                                       self.boxes[i], self.image_size,
                                       _child_rng(self.seed, 23, i))
        return image


def write_ganimation(root, num_images=400, test_fraction=0.1, seed=0, image_size=128,
                     num_identities=30, progress=False):
    """A celebA-style GANimation set: ``imgs/<id>.jpg``, ``aus_openface.pkl``,
    ``train_ids.csv``/``test_ids.csv`` and ``openface/<id>.csv``.

    Each image shows one of ``num_identities`` persons with its own random
    expression and a small pose, cropped tightly and resized to ``image_size``.
    The pickle maps id -> float64 (17,) raw intensities (0-5, 2 decimals),
    protocol 2 like the public sample.  Ground truth: ``ground_truth.npz`` (ids,
    aus, poses, identity, landmarks in crop pixels, crop boxes in the 256 frame)
    and ``synthetic_faces.json``; :class:`GanimationTruth` re-renders a face
    with other AUs.

    Returns a summary dict.
    """
    num_images = _check_count("number of GANimation images", num_images)
    image_size = _check_count("image size", image_size, 16)
    num_identities = _check_count("number of identities", num_identities, 1)
    if not 0.0 <= float(test_fraction) <= 1.0:
        raise UserError("test fraction must be within [0, 1], got {}".format(test_fraction))
    ensure_writable_dir(root)
    pool = sample_distinct_identities(_child_rng(seed, 20), num_identities)
    ids = ["{:06d}".format(i) for i in range(num_images)]
    aus_table = {}
    all_aus = np.zeros((num_images, NUM_AUS))
    poses = np.zeros((num_images, len(POSE_FIELDS)))
    who = np.zeros(num_images, dtype=np.int64)
    crops = np.zeros((num_images, NUM_LANDMARKS, 2))
    boxes = np.zeros((num_images, 3))
    for i in _progress(range(num_images), num_images, "GANimation", progress):
        rng = _child_rng(seed, 21, i)
        who[i] = rng.integers(num_identities)
        all_aus[i] = np.round(sample_expression(rng), 2)
        poses[i] = sample_pose(rng, amount=0.5)
        poses[i, 3:] = 0.0
        boxes[i] = _tight_crop_box(rng, face_landmarks(pool[who[i]], all_aus[i], poses[i], 256))
        image, crops[i] = render_cropped_face(pool[who[i]], all_aus[i], poses[i], boxes[i],
                                              image_size, _child_rng(seed, 23, i))
        _publish(os.path.join(root, "imgs", ids[i] + ".jpg"), _jpeg_bytes(image))
        write_openface_csv(os.path.join(root, "openface", ids[i] + ".csv"), all_aus[i])
        aus_table[ids[i]] = all_aus[i].copy()
    _publish(os.path.join(root, "aus_openface.pkl"), pickle.dumps(aus_table, protocol=2))
    num_test = int(round(num_images * float(test_fraction)))
    order = _child_rng(seed, 22).permutation(num_images)
    test = sorted(order[:num_test].tolist())
    train = sorted(order[num_test:].tolist())
    for name, members in (("train_ids.csv", train), ("test_ids.csv", test)):
        text = "".join(ids[i] + ".jpg\n" for i in members)
        _publish(os.path.join(root, name), text.encode("utf-8"))
    _publish(os.path.join(root, "ground_truth.npz"), _npz_bytes({
        "ids": np.array(ids, dtype=str).reshape(-1), "aus": all_aus,
        "poses": poses.astype(np.float32), "identity": who,
        "landmarks": crops.astype(np.float32), "boxes": boxes}))
    _publish(os.path.join(root, "synthetic_faces.json"), _json_bytes(_metadata(
        "celebA", seed, images=num_images, train=len(train), test=len(test),
        image_size=image_size, identities=[identity.to_dict() for identity in pool])))
    return {"images": num_images, "train": len(train), "test": len(test),
            "identities": num_identities}


# --- command line -----------------------------------------------------------------------

DATASETS = ("celebv", "wflw", "ganimation")


def build_parser():
    parser = argparse.ArgumentParser(
        description="Write synthetic CelebV, WFLW and celebA (GANimation) data sets.")
    parser.add_argument("--out-dir", default="datasets",
                        help="writes <out>/CelebV, <out>/WFLW and <out>/celebA")
    parser.add_argument("--celebv-persons", nargs="+", default=list(DEFAULT_PERSONS))
    parser.add_argument("--celebv-frames", type=int, default=300)
    parser.add_argument("--celebv-pose-amount", type=float, default=0.35,
                        help="spread of the head motion in the CelebV sequences (1 = large)")
    parser.add_argument("--wflw-train", type=int, default=200)
    parser.add_argument("--wflw-test", type=int, default=50)
    parser.add_argument("--ganimation-images", type=int, default=400)
    parser.add_argument("--ganimation-test-fraction", type=float, default=0.1)
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument("--only", nargs="+", choices=DATASETS, default=list(DATASETS))
    return parser


def main(argv=None):
    args = build_parser().parse_args(argv)
    ensure_writable_dir(args.out_dir)
    if "celebv" in args.only:
        folder = os.path.join(args.out_dir, "CelebV")
        summary = write_celebv(folder, args.celebv_persons, args.celebv_frames, args.seed,
                               progress=True, pose_amount=args.celebv_pose_amount)
        print("CelebV: {persons} persons x {frames} frames ({images} images) -> {0}".format(
            folder, **summary))
        print("CelebV persons, in px of 64x64 boundary maps: {between_persons_px:.2f} between "
              "two persons in the same frame, {within_person_px:.2f} from a person's mean "
              "shape".format(**summary))
    if "wflw" in args.only:
        folder = os.path.join(args.out_dir, "WFLW")
        summary = write_wflw(folder, args.wflw_train, args.wflw_test, args.seed, progress=True)
        print("WFLW: {train} train + {test} test images -> {0}".format(folder, **summary))
    if "ganimation" in args.only:
        folder = os.path.join(args.out_dir, "celebA")
        summary = write_ganimation(folder, args.ganimation_images,
                                   args.ganimation_test_fraction, args.seed, progress=True)
        print("celebA (GANimation): {images} images of {identities} persons, {train} train + "
              "{test} test -> {0}".format(folder, **summary))
    return 0


if __name__ == "__main__":
    sys.exit(run_main(main))
