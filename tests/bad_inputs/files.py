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
"""Faulty configs, parameter files, truncated files and hostile pickles."""
import copy
import os
import pickle
import shutil
import zipfile

import h5py
import numpy as np
import yaml

from utils import torch_checkpoint


# --- configs ----------------------------------------------------------------------------

def write_yaml(path, data):
    with open(path, "w") as f:
        yaml.safe_dump(data, f, default_flow_style=False)
    return str(path)


def with_unknown_key(config, section, key):
    """A copy of ``config`` with ``section.key`` added (a typo of an existing key)."""
    config = copy.deepcopy(config)
    config.setdefault(section, {})[key] = 0.1
    return config


def with_wrong_type(config, section, key, value="two"):
    """A copy of ``config`` whose ``section.key`` holds a string where a number belongs."""
    config = copy.deepcopy(config)
    config.setdefault(section, {})[key] = value
    return config


# --- nnabla parameter files -----------------------------------------------------------

def _parameter_names(path):
    names = []
    with h5py.File(path, "r") as f:
        f.visititems(lambda name, node: names.append(name)
                     if isinstance(node, h5py.Dataset) else None)
    return sorted(names)


def h5_without_parameter(source, target, index=-1):
    """A copy of an nnabla ``.h5`` with one parameter deleted; returns its name."""
    shutil.copyfile(source, target)
    name = _parameter_names(target)[index]
    with h5py.File(target, "r+") as f:
        del f[name]
    return name


def h5_with_misshaped_parameter(source, target, index=-1):
    """A copy of an nnabla ``.h5`` with one parameter one element longer; returns its name.

    The attributes (``need_grad``, ``index``) are kept, so only the shape is wrong.
    """
    shutil.copyfile(source, target)
    name = _parameter_names(target)[index]
    with h5py.File(target, "r+") as f:
        data, attrs = f[name][...], dict(f[name].attrs)
        del f[name]
        grown = f.create_dataset(name, data=np.append(data.reshape(-1), 0.0).astype(data.dtype))
        for key, value in attrs.items():
            grown.attrs[key] = value
    return name


# --- truncated files -------------------------------------------------------------------

def truncated_copy(source, target, keep=0.5):
    """The first ``keep`` fraction of any file: an interrupted copy or download."""
    with open(source, "rb") as f:
        data = f.read()
    with open(target, "wb") as f:
        f.write(data[:int(len(data) * keep)])
    return target


# --- pickles that try to run code ------------------------------------------------------

class RunsCommand(object):
    """Unpickled, this would run ``touch <marker>``: the file appears only if it ran."""

    def __init__(self, marker):
        self.marker = str(marker)

    def __reduce__(self):
        return (os.system, ("touch '{}'".format(self.marker),))


def malicious_au_pickle(target, marker):
    """An ``aus_openface.pkl`` whose value runs a shell command when unpickled."""
    with open(target, "wb") as f:
        pickle.dump({"000000": RunsCommand(marker)}, f, protocol=2)
    return target


def _legacy_header():
    return (pickle.dumps(torch_checkpoint.LEGACY_MAGIC, protocol=2)
            + pickle.dumps(torch_checkpoint.LEGACY_PROTOCOL, protocol=2)
            + pickle.dumps({"protocol_version": 1001, "little_endian": True,
                            "type_sizes": {"short": 2, "int": 4, "long": 4}}, protocol=2))


def malicious_pth_legacy(target, marker):
    """A ``torch.save`` file of the legacy format whose state dict runs a shell command."""
    payload = pickle.dumps({"weight": RunsCommand(marker)}, protocol=2)
    with open(target, "wb") as f:
        f.write(_legacy_header() + payload + pickle.dumps([], protocol=2))
    return target


def malicious_pth_zip(target, marker):
    """A ``torch.save`` file of the zip format (torch >= 1.6) whose data.pkl runs a command."""
    with zipfile.ZipFile(target, "w") as archive:
        archive.writestr("archive/data.pkl", pickle.dumps({"weight": RunsCommand(marker)},
                                                          protocol=2))
        archive.writestr("archive/byteorder", "little")
    return target
