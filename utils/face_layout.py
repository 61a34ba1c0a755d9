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
"""The WFLW 98-point face layout, its 15 boundary lines, and layout conversions.

"Left" and "right" are image-left and image-right, as in WFLW and in the public
NNabla port.  Index ranges of the 98 points:

* 0-32 face contour, image-left jaw to image-right jaw;
* 33-37 upper and 38-41 lower side of the image-left eyebrow
  (33 outer end -> 37 inner end, then 38 inner -> 41 outer);
* 42-46 upper and 47-50 lower side of the image-right eyebrow
  (42 inner -> 46 outer, then 47 outer -> 50 inner);
* 51-54 nose bridge (54 = nose tip), 55-59 lower nose, image-left to right;
* 60-67 image-left eye (60 outer corner, 61-63 upper lid, 64 inner corner,
  65-67 lower lid), 68-75 image-right eye (68 inner corner, 72 outer corner);
* 76-87 outer lip (76, 82 mouth corners, 77-81 upper, 83-87 lower),
  88-95 inner lip (88, 92 inner corners, 89-91 upper, 93-95 lower);
* 96, 97 pupils.
"""
import numpy as np

NUM_LANDMARKS = 98
NUM_BOUNDARIES = 15
NOSE_TIP = 54

# Each boundary is a list of landmark chains; consecutive indices of a chain
# are joined by a line segment.  Channel order is the public port's.
BOUNDARY_NAMES = (
    "facial outer contour",
    "upper side of left eyebrow",
    "lower side of left eyebrow",
    "upper side of right eyebrow",
    "lower side of right eyebrow",
    "nose bridge",
    "nose boundary",
    "left upper eyelid",
    "left lower eyelid",
    "right upper eyelid",
    "right lower eyelid",
    "upper side of upper lip",
    "lower side of upper lip",
    "upper side of lower lip",
    "lower side of lower lip",
)

BOUNDARY_CHAINS = (
    (tuple(range(0, 33)),),
    ((33, 34, 35, 36, 37),),
    ((38, 39, 40, 41),),
    ((42, 43, 44, 45, 46),),
    ((47, 48, 49, 50),),
    ((51, 52, 53, 54),),
    ((55, 56, 57, 58, 59),),
    ((60, 61, 62, 63, 64),),
    ((64, 65, 66, 67, 60),),
    ((68, 69, 70, 71, 72),),
    ((72, 73, 74, 75, 68),),
    ((76, 77, 78, 79, 80, 81, 82),),
    ((88, 89, 90, 91, 92),),
    ((92, 93, 94, 95, 88),),
    ((82, 83, 84, 85, 86, 87, 76),),
)

# The public port draws the upper lip as two chains and forgets the segment
# 79-80 (a gap at the cupid's bow).  Its weights were trained on that drawing,
# so it stays available behind ``port_compatible=True``.
PORT_UPPER_LIP_CHAINS = ((76, 77, 78, 79), (80, 81, 82))
UPPER_LIP_CHANNEL = 11


def boundary_chains(port_compatible=False):
    """The 15 boundaries as tuples of chains (the port's upper-lip gap on request)."""
    if not port_compatible:
        return BOUNDARY_CHAINS
    chains = list(BOUNDARY_CHAINS)
    chains[UPPER_LIP_CHANNEL] = PORT_UPPER_LIP_CHAINS
    return tuple(chains)


def boundary_segments(port_compatible=False):
    """List, per channel, of (i, j) landmark index pairs to join with a line."""
    segments = []
    for chains in boundary_chains(port_compatible):
        pairs = []
        for chain in chains:
            pairs.extend(zip(chain[:-1], chain[1:]))
        segments.append(tuple(pairs))
    return tuple(segments)


# Left/right pairs swapped by a horizontal flip; unlisted points map to themselves.
_MIRROR_PAIRS = (
    [(i, 32 - i) for i in range(16)]
    + [(33, 46), (34, 45), (35, 44), (36, 43), (37, 42),
       (38, 50), (39, 49), (40, 48), (41, 47)]
    + [(55, 59), (56, 58)]
    + [(60, 72), (61, 71), (62, 70), (63, 69), (64, 68),
       (65, 75), (66, 74), (67, 73)]
    + [(76, 82), (77, 81), (78, 80), (83, 87), (84, 86)]
    + [(88, 92), (89, 91), (93, 95)]
    + [(96, 97)]
)


def _permutation(pairs, size):
    perm = np.arange(size)
    for a, b in pairs:
        perm[a], perm[b] = b, a
    return perm


# ``flipped[k] = mirrored(points[FLIP_PERMUTATION[k]])``
FLIP_PERMUTATION = _permutation(_MIRROR_PAIRS, NUM_LANDMARKS)
# Boundary channels exchanged by a horizontal flip: brows and eyelids.
FLIP_CHANNEL_PERMUTATION = _permutation([(1, 3), (2, 4), (7, 9), (8, 10)], NUM_BOUNDARIES)

# Index groups, useful for drawing and for tests.
CONTOUR = tuple(range(0, 33))
LEFT_BROW = tuple(range(33, 42))
RIGHT_BROW = tuple(range(42, 51))
NOSE_BRIDGE = tuple(range(51, 55))
NOSE_LOWER = tuple(range(55, 60))
LEFT_EYE = tuple(range(60, 68))
RIGHT_EYE = tuple(range(68, 76))
OUTER_LIP = tuple(range(76, 88))
INNER_LIP = tuple(range(88, 96))
PUPILS = (96, 97)


# --- 68-point (iBUG 300-W) <-> 98-point (WFLW) -------------------------------
#
# The 68-point layout has fewer points on the jaw (17), eyes (6 each) and no
# lower eyebrow.  Points that exist in both layouts are copied; the others are
# resampled on the 68-point curves (Catmull-Rom midpoints), and the lower
# eyebrows, which 68 points do not mark, are estimated by moving the upper
# brow towards the eye by a fraction of the brow length.

# WFLW index of each 68-point landmark (the usual WFLW -> 68 subset).
WFLW_INDEX_OF_IBUG68 = np.array(
    list(range(0, 33, 2))
    + [33, 34, 35, 36, 37, 42, 43, 44, 45, 46]
    + [51, 52, 53, 54, 55, 56, 57, 58, 59]
    + [60, 61, 63, 64, 65, 67, 68, 69, 71, 72, 73, 75]
    + list(range(76, 96)))

# Lower brow thickness as a fraction of the brow's end-to-end length, measured
# on WFLW-style annotations (a brow is about 1/6 as thick as it is long).
LOWER_BROW_OFFSET = 0.17


def _catmull_rom_midpoint(p_before, p0, p1, p_after):
    return 0.5625 * (p0 + p1) - 0.0625 * (p_before + p_after)


def _midpoints(chain):
    """Catmull-Rom midpoints between consecutive points of an open chain."""
    padded = np.concatenate([chain[:1], chain, chain[-1:]], axis=0)
    return np.array([_catmull_rom_midpoint(padded[i], padded[i + 1], padded[i + 2], padded[i + 3])
                     for i in range(len(chain) - 1)])


def _lower_brow(upper, eye_centre):
    """Four lower-brow points under an upper brow given outer -> inner."""
    length = np.linalg.norm(upper[-1] - upper[0])
    direction = eye_centre - upper.mean(axis=0)
    direction /= max(np.linalg.norm(direction), 1e-6)
    # Inner to outer, under the interior of the upper brow, as WFLW orders them.
    along = np.array([upper[3], _catmull_rom_midpoint(upper[1], upper[2], upper[3], upper[4]),
                      _catmull_rom_midpoint(upper[0], upper[1], upper[2], upper[3]), upper[1]])
    return along + LOWER_BROW_OFFSET * length * direction


def ibug68_to_wflw98(points68):
    """Convert (68, 2) iBUG landmarks to the (98, 2) WFLW layout."""
    p = np.asarray(points68, dtype=np.float64)
    if p.shape != (68, 2):
        raise ValueError("expected (68, 2) landmarks, got {}".format(p.shape))
    out = np.zeros((NUM_LANDMARKS, 2))
    out[WFLW_INDEX_OF_IBUG68] = p
    out[1:33:2] = _midpoints(p[0:17])
    # Eyes: 4 points per lid in 68 (corner, 2 on the lid, corner) -> 5 in WFLW.
    for upper, lower, first in (((36, 37, 38, 39), (39, 40, 41, 36), 60),
                                ((42, 43, 44, 45), (45, 46, 47, 42), 68)):
        out[first + 2] = _midpoints(p[list(upper)])[1]
        out[first + 6] = _midpoints(p[list(lower)])[1]
    left_eye_centre = p[36:42].mean(axis=0)
    right_eye_centre = p[42:48].mean(axis=0)
    out[38:42] = _lower_brow(p[17:22], left_eye_centre)
    # The right brow runs inner -> outer in both layouts; WFLW's lower side goes
    # outer -> inner (47 under 46, 50 under 42).
    right_upper_outer_first = p[22:27][::-1]
    out[47:51] = _lower_brow(right_upper_outer_first, right_eye_centre)[::-1]
    out[96] = left_eye_centre
    out[97] = right_eye_centre
    return out


def wflw98_to_ibug68(points98):
    """The 68-point subset of a (98, 2) WFLW face."""
    p = np.asarray(points98, dtype=np.float64)
    if p.shape != (NUM_LANDMARKS, 2):
        raise ValueError("expected (98, 2) landmarks, got {}".format(p.shape))
    return p[WFLW_INDEX_OF_IBUG68].copy()
