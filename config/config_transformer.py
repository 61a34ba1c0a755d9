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
"""Defaults of reenactgan/train_transformer.py (boundary transformer, a CycleGAN).

The public NNabla port's one-to-one setting is the
default; the authors' features are options: ``extra_src_celeb_names``
(many-to-one), ``edge_filter`` (Sobel before the discriminators),
``train.augmentation`` and ``boundary_source: encoder``.
"""
from config.common import augmentation, boundary_preprocess, run_settings

config = {
    **run_settings(),
    "train_dir": "datasets/CelebV",
    "ref_dir": "",            # preprocess.py's CelebV caches (optional, faster)
    "src_celeb_name": "Kathleen",
    "trg_celeb_name": "Donald_Trump",
    # The authors' many-to-one transformer: more source persons, each with its
    # own target->source generator and discriminator, one shared source->target G.
    "extra_src_celeb_names": [],
    "dataset_mode": "transformer",
    # "train" reads train_98pt.txt (split_celebv.sh); the port's default "all"
    # also trained on the test frames.
    "mode": "train",
    "norm_type": "batch_norm",
    "model": {
        "ngf": 64,
        "n_blocks": 9,
        "ndf": 64,
    },
    # "drawn": heatmaps drawn from the landmark lists (the port); "encoder":
    # boundaries predicted by a trained encoder from the images (the authors),
    # which is what the reenactment chain feeds the transformer.
    "boundary_source": "drawn",
    "encoder": {
        "config": None,       # the encoder run's training_info.yaml
        "param_path": None,   # default: its best_model.h5 or newest model_epoch-*.h5
        "batch_stat": False,  # True: batch statistics, as the authors ran it
        # Boundaries of this many distinct frames are kept in memory (61 KB
        # each) instead of being encoded again every epoch; 0 turns it off.
        "cache_size": 0,
    },
    "edge_filter": False,     # the authors' Sobel filter before the discriminators
    "train": {
        "epochs": 200,
        "batch_size": 32,
        "lr": 5e-5,
        "lr_D_ratio": 0.5,    # D learns at half the G rate (both codes)
        # null: a constant rate (both codes).  An epoch number: from there the
        # rates fall linearly to 0 at the last iteration, as in CycleGAN.
        "lr_decay_start_at": None,
        "beta1": 0.5,
        "beta2": 0.999,
        "weight_decay": 1e-4,  # D only, as the authors
        # foreground_weight > 1 weights the pixels near a boundary in the cycle
        # L1 (1: the plain L1 of both codes); see reenactgan.losses.boundary_weights.
        "cycle_loss": {"lambda": 50.0, "foreground_weight": 1.0},
        # CycleGAN's identity term (0: off, as in both codes).
        "identity_loss": {"lambda": 0.0, "foreground_weight": 1.0},
        "shape_loss": {
            "lambda": 10.0,
            "align_param_path": "./Align_40000.h5",
            "PCA_param_path": "./PCA_weights.h5",
            "pca_dim": 3,
            "align_batch_stat": True,  # both codes ran Align with batch statistics
        },
        **augmentation(),
        "loader_threads": 2,
    },
    "test": {
        "logdir": "tmp.result",
    },
    "monitor": {
        "interval": 500,
        "save_interval": 10,        # epochs between netG/netD .h5 files
        "checkpoint_interval": 1000,
        "keep_last": 3,
        "image_interval": 500,      # iterations between result images
    },
    "preprocess": boundary_preprocess(),
}
