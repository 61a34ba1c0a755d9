"""Face layout, boundary heatmaps, crops, flips and the 68 -> 98 conversion."""
import cv2
import numpy as np
import pytest

from utils import face_layout
from utils.boundary_heatmaps import draw_boundary_heatmaps, heatmaps_to_image
from utils.face_crop import crop_face, flip_face, flip_landmarks, square_face_box


def segment_distance(points, a, b):
    """Distance of (N, 2) points to the segment a-b."""
    ab = b - a
    t = np.clip(((points - a) @ ab) / max(ab @ ab, 1e-9), 0, 1)
    return np.linalg.norm(points - (a + t[:, None] * ab), axis=1)


def test_boundary_table_matches_the_port_plus_upper_lip_fix():
    segments = face_layout.boundary_segments()
    assert len(segments) == 15
    assert segments[0] == tuple((i, i + 1) for i in range(32))
    assert segments[2] == ((38, 39), (39, 40), (40, 41))  # open chain, no 37-38
    assert (64, 60) not in segments[7] and (67, 60) in segments[8]  # lower lid closes the eye
    assert (79, 80) in segments[11]
    assert (87, 76) in segments[14]
    port = face_layout.boundary_segments(port_compatible=True)
    assert (79, 80) not in port[11] and len(port[11]) == 5
    assert port[:11] == segments[:11] and port[12:] == segments[12:]
    used = {i for channel in segments for pair in channel for i in pair}
    assert used == set(range(96))  # every point but the pupils is on a boundary


def test_flip_permutation_is_an_involution_swapping_sides():
    perm = face_layout.FLIP_PERMUTATION
    assert sorted(perm) == list(range(98))
    assert np.array_equal(perm[perm], np.arange(98))
    assert perm[60] == 72 and perm[64] == 68 and perm[33] == 46 and perm[38] == 50
    assert perm[54] == 54 and perm[79] == 79 and perm[96] == 97
    channels = face_layout.FLIP_CHANNEL_PERMUTATION
    assert list(channels) == [0, 3, 4, 1, 2, 5, 6, 9, 10, 7, 8, 11, 12, 13, 14]


def test_heatmap_recipe_matches_a4_for_one_line():
    landmarks = np.full((98, 2), -1000.0)  # every other segment far outside the canvas
    landmarks[51] = (40, 100)
    landmarks[52] = (200, 100)  # a horizontal nose bridge segment 51-52
    landmarks[53] = landmarks[54] = (200, 100)
    maps = draw_boundary_heatmaps(landmarks, (256, 256))
    assert maps.shape == (15, 64, 64) and maps.dtype == np.uint8
    canvas = np.zeros((256, 256), np.uint8)
    cv2.line(canvas, (40, 100), (200, 100), 255, 3)
    expected = cv2.resize(cv2.GaussianBlur(canvas, (5, 5), 3), (64, 64))
    assert np.array_equal(maps[5], expected)
    assert maps[[c for c in range(15) if c != 5]].max() == 0
    # Measured on the port's maps: the 64 px peaks lie between about 0.7 and 0.95.
    assert 0.7 * 255 <= maps[5].max() <= 0.95 * 255
    full = draw_boundary_heatmaps(landmarks, (256, 256), out_size=(256, 256))
    assert full[5].max() == 255  # an axis-aligned line keeps its peak at 256 px


def test_heatmap_thickness_scales_with_image_size():
    landmarks = np.full((98, 2), -1000.0)
    landmarks[51:55] = [(100, 200), (400, 200), (400, 200), (400, 200)]
    big = draw_boundary_heatmaps(landmarks, (512, 512), out_size=(512, 512))
    small = draw_boundary_heatmaps(landmarks / 2, (256, 256), out_size=(256, 256))
    # Thickness 3 at 256 px covers 5 rows (as the port draws), thickness 6 at 512 px covers 7+.
    assert np.count_nonzero(small[5][:, 125] == 255) == 1
    assert np.count_nonzero(small[5][:, 125] > 128) == 5
    assert np.count_nonzero(big[5][:, 250] > 128) >= 7
    assert np.count_nonzero(big[5][:, 250] == 255) >= 3


def test_heatmap_peaks_lie_on_their_segments(neutral_face):
    maps = draw_boundary_heatmaps(neutral_face, (256, 256), out_size=(256, 256))
    segments = face_layout.boundary_segments()
    points = neutral_face.astype(np.int64).astype(np.float64)
    for channel, pairs in enumerate(segments):
        ys, xs = np.nonzero(maps[channel] >= 0.9 * maps[channel].max())
        hot = np.stack([xs, ys], axis=1).astype(np.float64)
        distance = np.min([segment_distance(hot, points[i], points[j]) for i, j in pairs], axis=0)
        assert distance.max() <= 2.0, face_layout.BOUNDARY_NAMES[channel]
    small = draw_boundary_heatmaps(neutral_face, (256, 256))
    for channel, pairs in enumerate(segments):
        ys, xs = np.nonzero(small[channel] >= 0.5 * small[channel].max())
        hot = (np.stack([xs, ys], axis=1) + 0.5) * 4 - 0.5  # 64 px grid -> 256 px
        distance = np.min([segment_distance(hot, points[i], points[j]) for i, j in pairs], axis=0)
        assert distance.max() <= 6.0, face_layout.BOUNDARY_NAMES[channel]


def test_port_compatible_drawing_leaves_the_cupid_bow_gap(neutral_face):
    ours = draw_boundary_heatmaps(neutral_face, (256, 256), out_size=(256, 256))
    port = draw_boundary_heatmaps(neutral_face, (256, 256), out_size=(256, 256),
                                  port_compatible=True)
    middle = ((neutral_face[79] + neutral_face[80]) / 2).astype(int)
    assert ours[11][middle[1], middle[0]] > port[11][middle[1], middle[0]] + 50
    assert np.array_equal(np.delete(ours, 11, 0), np.delete(port, 11, 0))


def test_heatmaps_to_image_clips_float_maps():
    maps = np.zeros((15, 8, 8), np.float32)
    maps[3, 2, 2] = 2.0
    maps[4, 5, 5] = -1.0
    image = heatmaps_to_image(maps)
    assert image.shape == (8, 8, 3) and image.dtype == np.uint8
    assert image[2, 2, 0] == 255 and image[5, 5, 0] == 0 and image.min() == 0
    assert heatmaps_to_image(maps, size=(16, 16)).shape == (16, 16, 3)


def marker_image(points, shape, value=255):
    image = np.zeros(shape, np.uint8)
    for x, y in points:
        cv2.circle(image, (int(round(x * 16)), int(round(y * 16))), 3 * 16, (value,) * 3, -1,
                   lineType=cv2.LINE_AA, shift=4)
    return image


def centroid(image, near, radius):
    ys, xs = np.mgrid[0:image.shape[0], 0:image.shape[1]]
    grey = image if image.ndim == 2 else image.mean(axis=2)
    mask = (np.hypot(xs - near[0], ys - near[1]) < radius) * grey
    return np.array([(xs * mask).sum() / mask.sum(), (ys * mask).sum() / mask.sum()])


@pytest.mark.parametrize("shape, offset, scale", [
    ((300, 400, 3), (60.3, 20.7), 0.8),     # downscale by a little
    ((900, 1200, 3), (300.5, 250.2), 3.0),  # big image: area pre-shrink path
    ((200, 180), (-30.0, -10.0), 1.0),      # grayscale, box beyond the top-left border
])
def test_crop_moves_landmarks_with_the_pixels(neutral_face, shape, offset, scale):
    landmarks = neutral_face * scale + np.array(offset)
    box = np.concatenate([landmarks.min(axis=0), landmarks.max(axis=0)])
    image = marker_image(landmarks[[54, 60, 72, 76, 82, 16]], shape[:2] + (3,))
    if len(shape) == 2:
        image = image[:, :, 0]
    crop, cropped = crop_face(image, landmarks, box, out_size=256, margin=0.1)
    assert crop.shape[:2] == (256, 256) and crop.dtype == np.uint8
    assert crop.ndim == image.ndim
    radius = 3 * 256 / square_face_box(landmarks, box, 0.1)[2] * 1.5 + 2
    for index in (54, 60, 72, 76, 82):
        found = centroid(crop, cropped[index], radius)
        assert np.linalg.norm(found - cropped[index]) < 0.6, index
    # The nose tip is the centre; the margin leaves room around the face.
    assert np.allclose(cropped[54], 127.5, atol=1e-6)
    assert cropped.min() > 0 and cropped.max() < 256


def test_crop_handles_overshoot_larger_than_the_image(neutral_face):
    small = neutral_face * 0.5 + 10  # face in a 150 px image, box much larger
    image = np.full((150, 150, 3), 80, np.uint8)
    box = np.array([-400, -400, 550, 550])
    crop, cropped = crop_face(image, small, box, out_size=128, margin=0.0)
    assert crop.shape == (128, 128, 3)
    assert np.all(crop == 80)  # reflection of a flat image stays flat, no black bands
    assert np.allclose(cropped[54], 63.5)


def test_crop_margin_is_deterministic(neutral_face):
    box = np.concatenate([neutral_face.min(axis=0), neutral_face.max(axis=0)])
    boxes = [square_face_box(neutral_face, box, 0.1) for _ in range(3)]
    assert boxes[0] == boxes[1] == boxes[2]
    x0, y0, side = square_face_box(neutral_face, box, 0.1)
    x0b, y0b, sideb = square_face_box(neutral_face, box, 0.2)
    assert sideb / side == pytest.approx(1.2 / 1.1)


def test_flip_swaps_points_and_channels_consistently(neutral_face):
    image = np.zeros((256, 256, 3), np.uint8)
    landmarks = np.round(neutral_face)
    maps = draw_boundary_heatmaps(landmarks, (256, 256), out_size=(256, 256))
    flipped_image, flipped_points, flipped_maps = flip_face(image, landmarks, maps)
    redrawn = draw_boundary_heatmaps(flipped_points, (256, 256), out_size=(256, 256))
    for channel in range(15):
        difference = np.abs(redrawn[channel].astype(int) - flipped_maps[channel].astype(int))
        assert difference.mean() < 2.0, channel
    # Left stays left: after the flip the image-left eye is still points 60-67.
    left = flipped_points[list(face_layout.LEFT_EYE)][:, 0].mean()
    right = flipped_points[list(face_layout.RIGHT_EYE)][:, 0].mean()
    assert left < right
    assert np.allclose(flip_landmarks(flipped_points, 256), landmarks)
    # Channel 1 (upper left brow) of the flipped maps is channel 3 mirrored.
    assert np.array_equal(flipped_maps[1], maps[3][:, ::-1])


def test_68_to_98_conversion(neutral_face):
    points68 = face_layout.wflw98_to_ibug68(neutral_face)
    assert points68.shape == (68, 2)
    converted = face_layout.ibug68_to_wflw98(points68)
    subset = face_layout.WFLW_INDEX_OF_IBUG68
    assert np.allclose(converted[subset], neutral_face[subset])
    interocular = np.linalg.norm(neutral_face[60] - neutral_face[72])
    error = np.linalg.norm(converted - neutral_face, axis=1) / interocular
    assert error[1:33:2].max() < 0.03       # resampled contour
    assert error[[62, 66, 70, 74]].max() < 0.03  # resampled eyelids
    assert error[list(range(38, 42)) + list(range(47, 51))].max() < 0.12  # estimated lower brows
    assert error.mean() < 0.02
    # Lower brows sit below the upper brows (towards the eyes).
    assert converted[38:42, 1].mean() > converted[33:38, 1].mean()
    assert converted[47:51, 1].mean() > converted[42:47, 1].mean()
    with pytest.raises(ValueError):
        face_layout.ibug68_to_wflw98(np.zeros((67, 2)))
