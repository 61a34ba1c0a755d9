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
"""A trained GANimation run as a function: its config, its final generator, the editor.

Shared by ``test_ganimation.py``, ``evaluate.py`` and ``export.py``.
"""
import collections

import nnabla as nn
import nnabla.functions as F
import numpy as np

from config.config_ganimation import config as DEFAULTS, run_folder
from ganimation.models import G_SCOPE, NUM_AUS, edit_faces
from utils.checkpoint import load_network_parameters, require_final_parameters
from utils.deploy import NnablaRunner, declare_network, onnx_runner
from utils.run_paths import load_run as load_checked_run
from utils.user_errors import UserError


def load_run(path):
    """The config of a GANimation run's training_info.yaml (or its folder); the folder
    is ``config["_run_dir"]``."""
    return load_checked_run(path, "ganimation", DEFAULTS, run_folder)


def generator_param_file(config, param_file=None):
    """``param_file``, or the run's final generator (the highest epoch)."""
    return param_file or require_final_parameters(
        config["_run_dir"], G_SCOPE + "_*.h5", "generator parameters", "--param-file")


def _generator_network(config, batch_size, batch_stat):
    size = config["data"]["image_size"]
    face = nn.Variable((batch_size, 3, size, size))
    aus = nn.Variable((batch_size, NUM_AUS))
    output, color, attention = edit_faces(face, aus, config["model"], portable=True)
    # The masks also feed the output; nnabla's NNP loader lists only variables
    # that nothing reads as a network's outputs, so they leave through copies.
    return (collections.OrderedDict(face=face, aus=aus),
            collections.OrderedDict(output=output, color=F.identity(color),
                                    attention=F.identity(attention)), G_SCOPE)


# What utils.deploy runs and exports of a GANimation run.
declare_network("ganimation", _generator_network)


def interpolation_alphas(num_steps):
    if num_steps < 1:
        raise UserError("--num-steps must be at least 1")
    return np.arange(1, num_steps + 1, dtype=np.float32) / num_steps


class ExpressionEditor:
    """A trained generator applied to one face for all interpolation steps at once.

    ``backend`` "nnabla" builds the generator in the current parameter scope;
    "onnxruntime" runs its ONNX export.  Both take the same inputs (the face
    repeated per step, the interpolated AUs) and give the same outputs.
    """

    def __init__(self, config, param_file, num_steps, backend="nnabla", threads=None):
        self.alphas = interpolation_alphas(num_steps)
        if backend == "onnxruntime":
            self.network = onnx_runner("ganimation", config, param_file, num_steps,
                                       threads=threads)
            return
        if backend != "nnabla":
            raise UserError("unknown backend '{}'; choose nnabla or onnxruntime".format(backend))
        size = config["data"]["image_size"]
        faces = nn.Variable((num_steps, 3, size, size))
        conditions = nn.Variable((num_steps, NUM_AUS))
        output, color, attention = edit_faces(faces, conditions, config["model"])
        load_network_parameters(param_file, G_SCOPE)
        self.network = NnablaRunner({"face": faces, "aus": conditions},
                                    {"output": output, "color": color, "attention": attention})

    def inputs(self, face, source_aus, target_aus):
        """The generator's inputs: the face once per step, and each step's AUs."""
        faces = np.broadcast_to(face, (len(self.alphas),) + face.shape)
        conditions = self.alphas[:, None] * target_aus[None] + \
            (1.0 - self.alphas[:, None]) * source_aus[None]
        return faces, conditions.astype(np.float32)

    def __call__(self, face, source_aus, target_aus):
        """face (3, S, S), AUs / 5 -> (outputs, colors, attentions), one per step."""
        return self.network(*self.inputs(face, source_aus, target_aus))
