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
"""The paths a run's training_info.yaml records, after the run folder moved or was copied.

A training_info.yaml holds the paths of the machine and folder where the run
was trained: its data, other runs (the encoder of a transformer), the folder
for test results.  When the run folder is found somewhere else than where it
was written (``logdir/.../experiment_name``), the part of the path the two
places do not share is the old root and the new root (``/home/a/demo_output``
and ``/data/copy``, say).  Then:

* a recorded input under the old root is looked for under the new root first
  (a whole tree moved or copied together), then where it was; if neither
  exists, a one-line error names the option that overrides it;
* a recorded output folder under the old root moves to the new root, so that
  results never go back to the old place.

Relative paths are relative to the working folder, as the public port read them.
"""
import os

from .config import TRAINING_INFO_NAME, check_run_kind, merge_config, read_training_info
from .user_errors import UserError


def load_run(path, kind, defaults, folder_of):
    """A run's config from its training_info.yaml (or the folder holding it).

    The file must be a run of ``kind`` and is checked against the training
    script's ``defaults`` as ``--resume`` checks it: an unknown key or a value of
    the wrong type is a one-line error naming the key, and keys that the run
    predates take their default value.  ``folder_of(config)`` is where the
    training script wrote the run; with it, :meth:`RunPaths.of` finds the
    recorded data and outputs again when the run folder was moved.
    """
    if os.path.isdir(path):
        path = os.path.join(path, TRAINING_INFO_NAME)
    info = read_training_info(path)
    check_run_kind(info, kind, path)
    config = merge_config(defaults, info, source=path)
    return mark_run_config(config, path, folder_of(config))


def mark_run_config(config, path, recorded_dir):
    """Note in ``config`` (read from ``path``) where its run is and where it was written.

    The keys start with ``_``: they are never saved or merged."""
    config["_run_dir"] = os.path.dirname(os.path.abspath(path))
    config["_recorded_dir"] = recorded_dir
    config["_source"] = path
    return config


def _split_common_tail(recorded, actual):
    """(old root, new root): the two paths without the trailing parts they share."""
    old_parts = os.path.normpath(os.path.abspath(recorded)).split(os.sep)
    new_parts = os.path.normpath(os.path.abspath(actual)).split(os.sep)
    while len(old_parts) > 1 and len(new_parts) > 1 and old_parts[-1] == new_parts[-1]:
        old_parts.pop()
        new_parts.pop()
    return os.sep.join(old_parts) or os.sep, os.sep.join(new_parts) or os.sep


def _get(config, dotted):
    section = config
    for key in dotted.split(".")[:-1]:
        section = section.get(key) or {}
    return section.get(dotted.split(".")[-1])


def _set(config, dotted, value):
    section = config
    for key in dotted.split(".")[:-1]:
        section = section[key]
    section[dotted.split(".")[-1]] = value


def _under(path, root):
    return os.path.isabs(path) and os.path.commonpath([path, root]) == root


class RunPaths:
    """Where a run was written (``recorded_dir``) and where it is now (``run_dir``)."""

    def __init__(self, recorded_dir, run_dir, source):
        self.source = source
        self.moved = os.path.realpath(recorded_dir) != os.path.realpath(run_dir)
        self.old_root, self.new_root = _split_common_tail(recorded_dir, run_dir)

    @classmethod
    def of(cls, config):
        """From a run config marked by :func:`mark_run_config`."""
        return cls(config["_recorded_dir"], config["_run_dir"], config["_source"])

    def _rebased(self, path):
        if self.moved and _under(os.path.normpath(path), self.old_root):
            return os.path.join(self.new_root, os.path.relpath(path, self.old_root))
        return None

    def input(self, config, key, option):
        """The existing path for ``key``; a one-line error naming ``option`` when there is none."""
        path = _get(config, key)
        if not path:
            raise UserError("{}: {} is empty; pass {}".format(self.source, key, option))
        rebased = self._rebased(path)
        if rebased is not None and os.path.exists(rebased):
            print("note: the run moved from {}; {} read from {}".format(
                self.old_root, key, rebased))
            _set(config, key, rebased)
            return rebased
        if os.path.exists(path):
            return path
        moved = " (the run was moved from {})".format(self.old_root) if self.moved else ""
        raise UserError("{}: {} {} not found{}; pass {}".format(
            self.source, key, path, moved, option))

    def output(self, config, key):
        """The folder for ``key``'s results: never under the run's old place."""
        path = _get(config, key)
        rebased = self._rebased(path) if path else None
        if rebased is not None:
            _set(config, key, rebased)
            return rebased
        return path
