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
"""Defaults of reenactgan/train_decoder.py (boundaries -> the target's face).

The public NNabla port's setting, with the authors' VGG16
layers (relu2_2 and relu3_3) for the feature loss and a learning-rate decay
that is correct for any number of epochs.
"""
from config.common import augmentation, boundary_preprocess, run_settings

config = {
    **run_settings(),
    "train_dir": "datasets/CelebV",
    "ref_dir": "",
    "trg_celeb_name": "Donald_Trump",
    "dataset_mode": "decoder",
    "mode": "train",          # train_98pt.txt; the port's "all" trained on the test frames
    "model": {
        "ngf": 64,
        "ndf": 64,
    },
    "boundary_source": "drawn",  # or "encoder" (see config_transformer.py)
    "encoder": {
        "config": None,
        "param_path": None,
        "batch_stat": False,
        # Boundaries of this many distinct frames are kept in memory (61 KB
        # each) instead of being encoded again every epoch; 0 turns it off.
        "cache_size": 0,
    },
    "train": {
        "epochs": 150,
        "lr_decay_start_at": 100,   # linear decay to 0 from this epoch to the last
        "batch_size": 32,
        "lr": 2e-4,
        "beta1": 0.5,
        "beta2": 0.999,
        "weight_L1": 100.0,
        "feature_loss": {
            "lambda": 10.0,
            # torchvision's VGG16 converted with
            # `python reenactgan/convert_weights.py vgg16 vgg16-397923af.pth -o vgg16.h5`
            "vgg16_param_path": "./vgg16.h5",
            "layers": ["relu2_2", "relu3_3"],
        },
        **augmentation(),
        "loader_threads": 2,
    },
    "test": {
        "logdir": "tmp.result",
    },
    "monitor": {
        "interval": 500,
        "save_interval": 10,
        "checkpoint_interval": 1000,
        "keep_last": 3,
        "image_interval": 500,
    },
    "preprocess": boundary_preprocess(),
}
