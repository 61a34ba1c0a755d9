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
import os

import nnabla as nn
import numpy as np
import pytest

from utils.image_io import read_rgb
from utils.monitoring import (NonFiniteLossError, TrainingMonitor, check_finite, progress,
                              tile_images)
from utils.user_errors import UserError


def test_tile_images_places_panels_left_to_right():
    a = np.full((4, 3, 3), 10, np.uint8)
    b = np.full((4, 5, 3), 20, np.uint8)
    gray = np.full((4, 2), 30, np.uint8)
    tiled = tile_images([a, b, gray])
    assert tiled.shape == (4, 10, 3) and tiled.dtype == np.uint8
    assert (tiled[:, :3] == 10).all() and (tiled[:, 3:8] == 20).all()
    assert (tiled[:, 8:] == 30).all()
    with pytest.raises(ValueError, match="same height"):
        tile_images([a, np.zeros((5, 3, 3), np.uint8)])
    with pytest.raises(ValueError):
        tile_images([])


def test_check_finite_names_loss_iteration_and_checkpoint():
    check_finite(3, {"g": 1.0, "d": np.float32(2.0)})
    with pytest.raises(NonFiniteLossError) as err:
        check_finite(42, {"g": 1.0, "loss_cyc": float("nan")}, "run/checkpoints/iter_00000040")
    assert str(err.value) == ("loss 'loss_cyc' became nan at iteration 42; the last good "
                              "checkpoint is kept in run/checkpoints/iter_00000040")
    assert isinstance(err.value, UserError)
    variable = nn.Variable((2,))
    variable.d = [1.0, np.inf]
    with pytest.raises(NonFiniteLossError, match="loss 'd' became inf at iteration 7"):
        check_finite(7, {"d": variable})


def test_monitor_writes_series_timer_and_images(tmp_path):
    folder = str(tmp_path / "monitor")
    monitor = TrainingMonitor(folder, ["loss_g", "loss_d"], interval=2, verbose=False)
    for i in range(4):
        monitor.add(i, {"loss_g": float(i), "loss_d": np.float32(2 * i)})
    with open(os.path.join(folder, "loss_g.series.txt")) as f:
        lines = [line.split() for line in f]
    assert [(int(i), float(v)) for i, v in lines] == [(1, 0.5), (3, 2.5)]
    assert os.path.isfile(os.path.join(folder, "time_training.timer.txt"))
    with pytest.raises(KeyError):
        monitor.add(4, {"loss_x": 1.0})

    batch = np.zeros((2, 3, 4, 5), np.float32)
    batch[1] = 1.0
    path = monitor.images("fake", 7, batch)
    assert path == os.path.join(folder, "fake", "000007.png")
    image = read_rgb(path)
    assert image.shape == (4, 10, 3)
    assert (image[:, :5] == 0).all() and (image[:, 5:] == 255).all()

    strip = np.full((6, 8, 3), 77, np.uint8)
    np.testing.assert_array_equal(read_rgb(monitor.images("strip", 8, strip)), strip)


def test_monitor_resume_keeps_earlier_lines(tmp_path):
    folder = str(tmp_path)
    monitor = TrainingMonitor(folder, ["loss"], interval=1, verbose=False)
    for i in range(5):
        monitor.add(i, {"loss": i})
    resumed = TrainingMonitor(folder, ["loss"], interval=1, verbose=False, resume_iteration=3)
    resumed.add(3, {"loss": 30})
    with open(os.path.join(folder, "loss.series.txt")) as f:
        assert [line.split()[0] for line in f] == ["0", "1", "2", "3"]


def test_progress_is_a_tqdm_bar():
    bar = progress(range(3), total=3, desc="epoch")
    assert list(bar) == [0, 1, 2]
    assert bar.total == 3 and bar.desc.startswith("epoch")
