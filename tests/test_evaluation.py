"""Evaluation measures on cases with known answers."""
import numpy as np
import pytest

from ganimation.evaluate import au_errors
from reenactgan.metrics import MAX_DISTANCE, boundary_distance, boundary_ridge
from utils.image_metrics import psnr, ssim
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


def test_truth_scores_on_known_edits():
    from ganimation.evaluate import truth_scores
    rng = np.random.RandomState(1)
    truth = rng.uniform(-1, 1, (2, 3, 16, 16)).astype(np.float32)
    inputs = np.clip(truth + 0.2, -1, 1)     # far from the true render
    edited = np.clip(truth + 0.02, -1, 1)    # close to it
    scores = truth_scores(edited, inputs, truth)
    # PSNR on [0, 1] pictures: a shift of 0.02 in [-1, 1] is 0.01.
    expected = [10 * np.log10(1.0 / np.mean(((np.clip(t + 0.02, -1, 1) - t) / 2) ** 2))
                for t in truth]
    assert scores["edited_psnr"] == pytest.approx(np.mean(expected), rel=1e-4)
    assert scores["edited_psnr"] > scores["input_psnr"] + 15
    assert scores["edited_ssim"] > scores["input_ssim"]
    same = truth_scores(inputs, inputs, truth)
    assert same["edited_psnr"] == same["input_psnr"]


def demo_metrics(**changes):
    reenactgan = {
        "encoder": {"boundary_distance_px": 1.0, "mean_map_baseline_px": 2.0},
        "reenactment": {"psnr": 24.0, "no_transformer_psnr": 18.0, "mean_face_psnr": 22.0,
                        "boundary_distance_px": 1.5, "no_transformer_boundary_distance_px": 4.0,
                        "mean_face_boundary_distance_px": 3.0},
        "transformer": {"boundary_distance_px": 1.0, "source_boundary_baseline_px": 4.0}}
    ganimation = {"edited_au_error": 0.6, "input_au_error": 1.0, "edited_psnr": 27.0,
                  "input_psnr": 26.0, "mean_attention": 0.8}
    for key, value in changes.items():
        section, name = key.split("__")
        if section == "g":
            ganimation[name] = value
        else:
            reenactgan[section][name] = value
    return reenactgan, ganimation


def test_demo_checks_pass_and_fail_on_known_metrics():
    from demo_report import checks
    passed = checks(*demo_metrics())
    assert len(passed) == 10 and all(passed.values()), passed
    # A 25 % cut of the AU error is not enough; 30 % is.
    assert not checks(*demo_metrics(g__edited_au_error=0.75))["edits_cut_au_error_by_30_percent"]
    assert checks(*demo_metrics(g__edited_au_error=0.7))["edits_cut_au_error_by_30_percent"]
    for attention in (0.99, 0.01):
        assert not checks(*demo_metrics(g__mean_attention=attention))["attention_not_collapsed"]
    failed = checks(*demo_metrics(reenactment__psnr=21.0))
    assert failed["reenactment_beats_no_transformer_psnr"]
    assert not failed["reenactment_beats_mean_face_psnr"]
    assert not checks(*demo_metrics(transformer__boundary_distance_px=4.5))[
        "transformer_closer_than_source_boundary"]
    assert not checks(*demo_metrics(reenactment__boundary_distance_px=3.5))[
        "reenactment_beats_mean_face_boundary"]
    assert not checks(*demo_metrics(g__edited_psnr=25.0))["edits_closer_to_truth_render_psnr"]


def test_truth_renderer_only_for_current_synthetic_sets(tmp_path, capsys):
    import json
    from ganimation.evaluate import truth_renderer
    from utils import synthetic_faces
    root = tmp_path / "celebA"
    synthetic_faces.write_ganimation(str(root), num_images=4, test_fraction=0.5, seed=0,
                                     num_identities=2)
    assert truth_renderer(str(root)) is not None
    meta = json.loads((root / "synthetic_faces.json").read_text())
    meta["version"] = 1
    (root / "synthetic_faces.json").write_text(json.dumps(meta))
    assert truth_renderer(str(root)) is None  # an older set: skipped with a notice
    assert "another version" in capsys.readouterr().out
    (root / "ground_truth.npz").unlink()
    assert truth_renderer(str(root)) is None  # real data: nothing to compare with


def test_damaged_synthetic_ground_truth_is_skipped_with_a_notice(tmp_path, capsys):
    from ganimation.evaluate import truth_renderer
    from utils import synthetic_faces
    root = tmp_path / "celebA"
    synthetic_faces.write_ganimation(str(root), num_images=4, test_fraction=0.5, seed=0,
                                     num_identities=2)
    (root / "ground_truth.npz").write_bytes(b"not a zip")
    assert truth_renderer(str(root)) is None
    assert "cannot read the synthetic ground truth" in capsys.readouterr().out
