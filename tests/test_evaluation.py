"""Evaluation measures on cases with known answers."""
import numpy as np
import pytest

from ganimation.evaluate import au_errors
from reenactgan.metrics import MAX_DISTANCE, boundary_distance, boundary_ridge, psnr, ssim
from utils.boundary_heatmaps import draw_boundary_heatmaps


def horizontal_line_maps(row):
    """15 channels, each a horizontal boundary at ``row`` (256 px frame) -> 64 px maps."""
    landmarks = np.full((98, 2), -1000.0)
    maps = np.zeros((15, 64, 64), np.float32)
    landmarks[51:55] = [(40, row), (220, row), (220, row), (220, row)]
    maps[5] = draw_boundary_heatmaps(landmarks, (256, 256))[5] / 255.0
    return maps


def test_identical_boundaries_are_at_distance_zero(neutral_face):
    maps = draw_boundary_heatmaps(neutral_face, (256, 256)).astype(np.float32) / 255
    assert boundary_distance(maps, maps) == 0.0


@pytest.mark.parametrize("shift", [1, 2, 3, 5])
def test_a_boundary_shifted_by_k_pixels_is_at_distance_k(shift):
    truth = horizontal_line_maps(100)
    moved = horizontal_line_maps(100 + 4 * shift)  # 4 px at 256 = 1 px at 64
    assert boundary_distance(moved, truth) == pytest.approx(shift, abs=0.05)
    assert boundary_distance(truth, moved) == pytest.approx(shift, abs=0.05)


def test_missing_prediction_costs_the_maximum():
    truth = horizontal_line_maps(100)
    assert boundary_distance(np.zeros_like(truth), truth) == MAX_DISTANCE
    assert boundary_ridge(np.zeros((64, 64))) is None
    far = horizontal_line_maps(100 + 4 * 40)  # 40 px away: capped
    assert boundary_distance(far, truth) == MAX_DISTANCE


def test_image_scores():
    rng = np.random.RandomState(0)
    image = rng.uniform(0, 1, (3, 32, 32))
    assert psnr(image, image) == np.inf
    assert ssim(image, image) == pytest.approx(1.0)
    noisy = np.clip(image + 0.1, 0, 1)
    expected = 10 * np.log10(1.0 / np.mean((noisy - image) ** 2))
    assert psnr(noisy, image) == pytest.approx(expected)
    assert ssim(noisy, image) < 1.0


def test_au_errors_on_known_vectors():
    targets = np.full((2, 17), 0.6, np.float32)
    sources = np.full((2, 17), 0.2, np.float32)
    read_inputs = sources.copy()                    # the regressor reads the inputs exactly
    read_edited = np.full((2, 17), 0.5, np.float32)  # the edit gets most of the way
    errors = au_errors(read_edited, read_inputs, targets, sources)
    assert errors["input_au_error"] == pytest.approx(2.0)    # |0.2 - 0.6| x 5
    assert errors["edited_au_error"] == pytest.approx(0.5)   # |0.5 - 0.6| x 5
    assert errors["regressor_au_error"] == pytest.approx(0.0)
