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
"""Training logs as nnabla-examples write them, plus result images.

:class:`TrainingMonitor` keeps one ``nnabla.monitor.MonitorSeries`` per loss
(``<folder>/<name>.series.txt``) and a ``MonitorTimeElapsed``; images go to
``<folder>/<name>/<iteration:06d>.png`` like ``MonitorImageTile``, but are
written atomically.  :func:`check_finite` stops a diverging run early.
"""
import os

import cv2
import nnabla as nn
import numpy as np
from nnabla.monitor import Monitor, MonitorSeries, MonitorTimeElapsed
from tqdm import tqdm

from .atomic_files import atomic_write_text
from .image_io import write_image
from .user_errors import UserError

NON_FINITE_LOSS_MESSAGE = ("loss '{name}' became {kind} at iteration {iteration}; "
                           "the last good checkpoint is kept in {checkpoint}")


class NonFiniteLossError(UserError):
    """A loss became NaN or infinite; training cannot recover from it."""


def _as_numpy(value):
    if isinstance(value, nn.Variable):
        return np.asarray(value.d)
    if isinstance(value, nn.NdArray):
        return np.asarray(value.data)
    return np.asarray(value)


def _read_log_before(path, iteration):
    """Lines of a monitor log whose iteration is below ``iteration``."""
    if not os.path.isfile(path):
        return []
    kept = []
    with open(path) as f:
        for line in f:
            fields = line.split()
            if fields and fields[0].lstrip("-").isdigit() and int(fields[0]) < iteration:
                kept.append(line)
    return kept


class TrainingMonitor(object):
    """Loss series, a timer and image snapshots under one folder.

    ``resume_iteration`` keeps the log lines of earlier iterations.  The
    nnabla monitors empty their files when they are created; here they are
    created without a folder and pointed at their files afterwards, so each
    file is replaced in one atomic step (a kill at any moment leaves either
    the old file or the new one, never an emptied history).
    """

    def __init__(self, folder, series_names, interval, timer_name="time_training",
                 verbose=True, resume_iteration=None, intervals=None):
        self.folder = folder
        self.monitor = Monitor(folder)
        # Series logged once per epoch (validation) need their own interval of 1:
        # a MonitorSeries writes only every ``interval`` indices.
        intervals = intervals or {}
        self.series = {name: MonitorSeries(name, None, interval=intervals.get(name, interval),
                                           verbose=verbose)
                       for name in series_names}
        self.timer = MonitorTimeElapsed(timer_name, None, interval=interval, verbose=verbose)
        for name, series in self.series.items():
            series.sp = os.path.join(folder, name.replace(" ", "-")) + ".series.txt"
        self.timer.sp = os.path.join(folder, timer_name.replace(" ", "-")) + ".timer.txt"
        for writer in list(self.series.values()) + [self.timer]:
            lines = [] if resume_iteration is None else _read_log_before(writer.sp,
                                                                         resume_iteration)
            atomic_write_text(writer.sp, "".join(lines))

    def add(self, iteration, values):
        """Record ``{series name: scalar}`` for ``iteration`` and tick the timer."""
        for name, value in values.items():
            if name not in self.series:
                raise KeyError("unknown series '{}'; known: {}".format(
                    name, ", ".join(sorted(self.series))))
            self.series[name].add(iteration, float(_as_numpy(value).mean()))
        self.timer.add(iteration)

    def state(self):
        """The series' unwritten averaging windows, for checkpoints.

        A MonitorSeries writes the mean of ``interval`` values; a run resumed
        mid-window must continue that window (and the timer its line
        positions), or the resumed series would have other indices and means.
        """
        return {"series": {name: {"buf": [float(v) for v in series.buf],
                                  "flush_at": int(series.flush_at)}
                           for name, series in self.series.items()},
                "timer_flush_at": int(self.timer.flush_at)}

    def restore(self, state):
        for name, saved in (state.get("series") or {}).items():
            if name in self.series:
                self.series[name].buf = list(saved["buf"])
                self.series[name].flush_at = int(saved["flush_at"])
        self.timer.flush_at = int(state.get("timer_flush_at", 0))

    def images(self, name, iteration, array):
        """Save ``array`` as ``<folder>/<name>/<iteration:06d>.png``; return the path.

        Float arrays are ``NCHW`` or ``CHW`` in [0, 1] (a batch is tiled left
        to right); uint8 arrays are ``HxWx3`` or ``HxW``.
        """
        image = _to_hwc_uint8(_as_numpy(array))
        path = os.path.join(self.folder, name.replace(" ", "-"),
                            "{:06d}.png".format(iteration))
        return write_image(path, image)


def _to_hwc_uint8(array):
    if array.dtype == np.uint8:
        if array.ndim == 2:
            array = array[:, :, None]
        if array.ndim != 3:
            raise ValueError("uint8 images must be HxW or HxWxC, got {}".format(array.shape))
        return _three_channels(array)
    if array.ndim == 3:
        array = array[None]
    if array.ndim != 4:
        raise ValueError("float images must be CHW or NCHW, got {}".format(array.shape))
    array = np.rint(np.clip(array, 0.0, 1.0) * 255.0).astype(np.uint8)
    return tile_images([_three_channels(x.transpose(1, 2, 0)) for x in array])


def _three_channels(hwc):
    channels = hwc.shape[2]
    if channels == 1:
        return np.repeat(hwc, 3, axis=2)
    if channels >= 3:
        return np.ascontiguousarray(hwc[:, :, :3])
    raise ValueError("cannot show an image with {} channels".format(channels))


def tile_images(images):
    """Place ``HxWx3`` (or ``HxW``) uint8 panels of equal height left to right."""
    if len(images) == 0:
        raise ValueError("no images to tile")
    panels = [_three_channels(im[:, :, None] if im.ndim == 2 else im)
              for im in (np.asarray(i) for i in images)]
    heights = {p.shape[0] for p in panels}
    if len(heights) != 1:
        raise ValueError("panels must have the same height, got {}".format(sorted(heights)))
    return np.concatenate([p.astype(np.uint8, copy=False) for p in panels], axis=1)


def labelled_row(panels, labels, height=128):
    """Panels resized to ``height`` and tiled left to right, each under its label.

    For pictures a person reads without a legend: ``labels`` are short texts
    (one per panel) drawn in a white bar above the panels.
    """
    if len(panels) != len(labels):
        raise ValueError("{} panels but {} labels".format(len(panels), len(labels)))
    scaled = []
    for panel in panels:
        panel = _three_channels(np.asarray(panel)[:, :, None] if np.ndim(panel) == 2
                                else np.asarray(panel)).astype(np.uint8, copy=False)
        width = max(1, int(round(panel.shape[1] * height / float(panel.shape[0]))))
        interpolation = cv2.INTER_AREA if panel.shape[0] > height else cv2.INTER_NEAREST
        scaled.append(cv2.resize(panel, (width, height), interpolation=interpolation))
    bar = 18
    tiles = []
    for panel, label in zip(scaled, labels):
        tile = np.full((height + bar, panel.shape[1], 3), 255, dtype=np.uint8)
        tile[bar:] = panel
        scale = 0.4
        text = str(label)
        # Shrink a long label until it fits its panel.
        while scale > 0.25 and cv2.getTextSize(text, cv2.FONT_HERSHEY_SIMPLEX, scale, 1)[0][0] \
                > panel.shape[1] - 4:
            scale -= 0.025
        cv2.putText(tile, text, (2, bar - 5), cv2.FONT_HERSHEY_SIMPLEX, scale, (0, 0, 0), 1,
                    cv2.LINE_AA)
        tile[:, -1] = 255  # a thin white gap between panels
        tiles.append(tile)
    return np.concatenate(tiles, axis=1)


def progress(iterable, total=None, desc=None):
    """A tqdm progress bar (on stderr) around ``iterable``."""
    return tqdm(iterable, total=total, desc=desc, dynamic_ncols=True, mininterval=1)


def check_finite(iteration, losses, checkpoint_dir=None):
    """Raise :class:`NonFiniteLossError` if a loss in ``{name: value}`` is NaN/inf."""
    for name, value in losses.items():
        values = _as_numpy(value).astype(np.float64, copy=False)
        if np.all(np.isfinite(values)):
            continue
        kind = "nan" if np.isnan(values).any() else "inf"
        raise NonFiniteLossError(NON_FINITE_LOSS_MESSAGE.format(
            name=name, kind=kind, iteration=iteration,
            checkpoint=checkpoint_dir or "(no checkpoint saved yet)"))
