import os

import numpy as np
import pytest

REPO_ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))


@pytest.fixture
def neutral_face():
    """A synthetic (98, 2) face in a 256 frame, neutral expression, frontal."""
    from utils import synthetic_faces
    identity = synthetic_faces.sample_identity(np.random.RandomState(3))
    aus = np.zeros(len(synthetic_faces.AU_NAMES))
    pose = np.array([0.0, 0.0, 1.0, 0.0, 0.0])
    return synthetic_faces.face_landmarks(identity, aus, pose, size=256)


def write_celebv_and_wflw(root, frames=8, num_train=6):
    """Synthetic CelebV (Person_A, Person_B; split num_train + rest) and
    preprocessed WFLW caches (6 train + 4 test faces) under ``root``."""
    import subprocess

    import preprocess
    from utils import synthetic_faces
    celebv = root / "CelebV"
    synthetic_faces.write_celebv(str(celebv), ["Person_A", "Person_B"], frames, seed=5)
    subprocess.run(["bash", os.path.join(REPO_ROOT, "split_celebv.sh"), str(celebv),
                    str(num_train)], check=True, capture_output=True)
    synthetic_faces.write_wflw(str(root / "WFLW"), 6, 4, seed=6)
    for mode in ("train", "test"):
        preprocess.main(["--dataset", "WFLW", "--mode", mode, "--src-dir", str(root / "WFLW"),
                         "--out-dir", str(root / "WFLW_heatmaps")])
    return str(celebv), str(root / "WFLW_heatmaps")
