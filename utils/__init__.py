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
"""Code shared by the ReenactGAN and GANimation scripts.

Each module is small and does one thing: ``face_layout`` (the WFLW 98-point
layout), ``boundary_heatmaps``, ``face_crop``, ``synthetic_faces``,
``image_io``, ``config``, ``checkpoint``, ``context``, ``monitoring``,
``atomic_files`` and ``user_errors``.
"""
import os

# Quiet nnabla's INFO logging (see nnabla.conf) however the scripts are started;
# this must happen before nnabla is first imported.
os.environ.setdefault("NNABLA_CONFIG_FILE_PATH",
                      os.path.join(os.path.dirname(os.path.dirname(os.path.abspath(__file__))),
                                   "nnabla.conf"))
