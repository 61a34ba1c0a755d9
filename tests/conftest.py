import os
import sys

import numpy as np
import pytest

REPO_ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
if REPO_ROOT not in sys.path:
    sys.path.insert(0, REPO_ROOT)


@pytest.fixture
def neutral_face():
    """A synthetic (98, 2) face in a 256 frame, neutral expression, frontal."""
    from utils import synthetic_faces
    identity = synthetic_faces.sample_identity(np.random.RandomState(3))
    aus = np.zeros(len(synthetic_faces.AU_NAMES))
    pose = np.array([0.0, 0.0, 1.0, 0.0, 0.0])
    return synthetic_faces.face_landmarks(identity, aus, pose, size=256)
