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
"""Defaults of reenactgan/train_encoder.py (the boundary encoder on WFLW).

The values are the public NNabla port's unless a comment
says otherwise.  Override any of them with ``--conf my.yaml``.
"""
from config.common import augmentation, boundary_preprocess, run_settings

config = {
    **run_settings(),
    "dataset_mode": "encoder",
    "model_name": "model",
    "path": {
        # preprocess.py --dataset WFLW output (npz caches), or a raw WFLW folder
        # (WFLW_images/ + WFLW_annotations/) cropped on the fly.
        "data_dir": "datasets/WFLW_heatmaps",
        # Optionally also train on CelebV frames (their train split), which
        # have landmarks too: the encoder then also sees faces framed as the
        # reenactment will show them.
        "celebv_dir": "datasets/CelebV",
        "celebv_persons": [],
    },
    "model": {
        "planes": 64,
        "output_nc": 15,
        "num_stacks": 2,
        "hourglass_depth": 4,
    },
    # Fine-tuning happens only when a parameter file is named (the port
    # fine-tuned by default from a file that had to be in the working folder).
    "finetune": {
        "param_path": None,
    },
    "loss_name": "mse",  # or "weighted_mse", "bce"
    "loss": {
        "foreground_weight": 10.0,  # weighted_mse: weight of pixels near a boundary
    },
    "train": {
        "epochs": 500,
        "batch_size": 32,
        "lr": 1e-3,
        "weight_decay": 1e-5,
        **augmentation(),
        "loader_threads": 2,
    },
    "test": {
        "batch_size": 32,
    },
    "monitor": {
        "interval": 10,           # iterations averaged per line of a series file
        "save_interval": 10,      # epochs between model/model_epoch-<e>.h5 files
        "checkpoint_interval": 500,  # iterations between resumable checkpoints
        "keep_last": 3,
        "num_images": 4,          # result images per epoch
    },
    "preprocess": boundary_preprocess(crop_margin=0.1),
}
