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
"""Defaults of ganimation/train_ganimation.py: the authors' recipe.

Loss weights are the *effective* ones of the authors' code: their AU weight
4000 was divided by the batch size 25 inside the loss, which is 160 on an
element-mean MSE here whatever the batch size; the attention TV weight 1e-5
is the paper's lambda_A x lambda_TV.
"""
import os

from config.common import run_settings

config = {
    **run_settings(),
    "data": {
        "data_dir": "datasets/celebA",
        "aus_file": "aus_openface.pkl",
        "image_size": 128,
        "flip": True,
        "target_noise": 0.1,       # U(-0.1, 0.1) added to each target AU (after / 5)
        "clamp_targets": False,    # the authors leave noisy targets unclipped
        "loader_threads": 4,
    },
    "model": {
        "g_conv_dim": 64,
        "g_repeat_num": 6,         # residual blocks
        "d_conv_dim": 64,
        "d_repeat_num": 6,         # stride-2 convolutions; image_size / 2^6 = 2x2 patches
        "instance_norm_affine": True,
        "do_saturate_mask": False,  # the authors' experiment, off in their runs
    },
    "train": {
        "batch_size": 25,
        "epochs_no_decay": 20,
        "epochs_decay": 10,        # then linear decay, reaching 0 after the last epoch
        "lr_G": 1e-4,
        "lr_D": 1e-4,
        "beta1": 0.5,
        "beta2": 0.999,
        "critic_iterations": 5,    # G is updated when (iteration + 1) % 5 == 0
        # Epochs at the start in which only the critic learns, to read the AUs
        # of the real faces (0: the authors' recipe).  A conditional generator
        # learns its AUs from the critic's AU head, which needs many more faces
        # than a short training shows it; its epochs are not counted in
        # epochs_no_decay / epochs_decay, and no .h5 files are written in them.
        "critic_au_warmup_epochs": 0,
        # The critic's learning rate in those epochs (null: lr_D).  Regressing
        # AUs alone takes a higher rate than the adversarial game tolerates.
        "critic_au_warmup_lr": None,
        # In the last that many warm-up epochs the generator learns too: its
        # colour mask, given a face's own AUs, must reproduce the face (L1).
        # The game then starts from colours that look like faces instead of
        # noise, which otherwise leaks into the edits wherever the attention
        # opens (0: off, as the authors).
        "color_warmup_epochs": 0,
        # "authors": one Adam step for adversarial + AU terms, a second for the
        # penalty; "merged": one step on their sum (every replication).
        "gradient_penalty_mode": "authors",
        "lambda_D_prob": 1.0,
        "lambda_au": 160.0,
        "lambda_cyc": 10.0,
        "lambda_gp": 10.0,
        "lambda_mask": 0.1,
        # L1 between the colour mask of the way back (the fake edited back to
        # the face's own AUs) and the whole face: the colour mask then learns
        # faces everywhere, not only where the attention opens (0: off, as
        # the authors; it costs no extra pass).
        "lambda_color_cycle": 0.0,
        "lambda_mask_smooth": 1e-5,
        # Warn when mean(A) stays outside [low, high] for this many G steps:
        # a saturated attention mask means the generator copies its input.
        "attention_low": 0.02,
        "attention_high": 0.98,
        "attention_patience": 200,
    },
    "test": {
        "logdir": "tmp.result",
        "num_steps": 5,
        "fps": 10,
    },
    "monitor": {
        "interval": 50,
        "image_interval": 500,
        "image_rows": 4,
        "save_interval": 1,        # epochs between netG/netD .h5 files
        "checkpoint_interval": 1000,
        "keep_last": 3,
    },
}


def run_folder(config):
    """Where train_ganimation.py writes a run of ``config``."""
    return os.path.join(config["logdir"], "ganimation", config["experiment_name"])
