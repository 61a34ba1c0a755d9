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
"""Train the decoder: boundary heatmaps -> the target person's face.

    python reenactgan/train_decoder.py --conf my.yaml [--info name] [--context cpu]
    python reenactgan/train_decoder.py --resume tmp.monitor/decoder/<trg>/<experiment>

pix2pix-style: the generator turns 15x64x64 boundaries into a 256x256 face;
the discriminator sees cat(boundaries at 256, face).  Losses: BCE GAN +
``weight_L1`` x L1 + ``feature_loss.lambda`` x the MSE of VGG16 relu2_2 and
relu3_3 features (the authors' layers).  The learning rate is constant, then
decays linearly to 0 from ``lr_decay_start_at`` to the last epoch.

Writes ``tmp.monitor/decoder/<trg>/<experiment>/``: training_info.yaml, the
loss series, result images (boundary | fake | real), ``netG_decoder_<e>.h5``
and ``netD_decoder_<e>.h5`` every ``save_interval`` epochs and at the end, and
resumable checkpoints.
"""
import argparse
import os

import cv2
import nnabla as nn
import nnabla.functions as F
import nnabla.solvers as S
import numpy as np

from config.config_decoder import config as DEFAULTS
from reenactgan.data import Augmentation, CelebVSource, denormalize_image
from reenactgan.losses import bce_gan_loss, l1_loss, linear_decay_lr
from reenactgan.models import DECODER_SCOPE, netD_decoder, netG_decoder
from reenactgan.run_files import RunBoundaries, run_folder
from reenactgan.vgg16 import VGG16_SCOPE, vgg16_features
from utils.checkpoint import load_network_parameters
from utils.boundary_heatmaps import heatmaps_to_image
from utils.config import add_config_arguments
from utils.dropout_masks import DropoutMasks
from utils.monitoring import progress, tile_images
from utils.training_run import TrainingRun, make_loader, training_setup
from utils.user_errors import UserError, run_main

G_SCOPE = DECODER_SCOPE
D_SCOPE = "netD_decoder"
SERIES = ["loss_netG", "loss_gan", "L1_loss", "vgg_feature_loss", "loss_netD"]


def upsample_heatmaps(maps, size=256):
    """Per-channel bicubic upsampling of (N, C, h, w) maps, as the authors' D condition."""
    out = np.empty(maps.shape[:2] + (size, size), dtype=np.float32)
    for n in range(maps.shape[0]):
        resized = cv2.resize(np.ascontiguousarray(maps[n].transpose(1, 2, 0)), (size, size),
                             interpolation=cv2.INTER_CUBIC)
        out[n] = resized.reshape(size, size, -1).transpose(2, 0, 1)
    return out


def vgg16_weights(feature_cfg):
    """The VGG16 parameter file of the feature loss, None when the loss is off."""
    if not feature_cfg or feature_cfg.get("lambda", 0) <= 0:
        return None
    path = feature_cfg.get("vgg16_param_path")
    if not path or not os.path.isfile(path):
        raise UserError(
            "the VGG16 feature loss needs {}: convert torchvision's VGG16 weights "
            "(vgg16-397923af.pth) with `python reenactgan/convert_weights.py vgg16 "
            "vgg16-397923af.pth -o vgg16.h5` and set train.feature_loss.vgg16_param_path, or "
            "turn the loss off with `train: {{feature_loss: {{lambda: 0}}}}`".format(
                path or "a weight file"))
    return path


def feature_loss(fake, real, feature_cfg):
    """Sum of the MSEs of the VGG16 features of fake and real faces, or None when off."""
    path = vgg16_weights(feature_cfg)
    if path is None:
        return None
    layers = tuple(feature_cfg["layers"])
    with nn.parameter_scope(VGG16_SCOPE):
        fake_features = vgg16_features(fake, layers)
        real_features = vgg16_features(real, layers)
    load_network_parameters(path, VGG16_SCOPE)
    terms = [F.mean(F.squared_error(fake_features[k], real_features[k].get_unlinked_variable(
        need_grad=False))) for k in layers]
    return sum(terms[1:], terms[0])


def result_rows(boundary, fake, real, count):
    rows = []
    for i in range(min(count, fake.shape[0])):
        face = np.rint(denormalize_image(fake[i]).transpose(1, 2, 0) * 255).astype(np.uint8)
        truth = np.rint(denormalize_image(real[i]).transpose(1, 2, 0) * 255).astype(np.uint8)
        rows.append(tile_images([heatmaps_to_image(boundary[i], (256, 256)), face, truth]))
    return np.concatenate(rows, axis=0)


def main(argv=None):
    parser = add_config_arguments(argparse.ArgumentParser(description=__doc__.split("\n\n")[0]))
    args = parser.parse_args(argv)
    config, resume_dir, comm = training_setup(DEFAULTS, args)
    train_cfg, model = config["train"], config["model"]
    batch_size = train_cfg["batch_size"]
    run_dir = resume_dir or run_folder(config, "decoder")

    vgg16_weights(train_cfg["feature_loss"])  # a missing file stops before any work
    # Drawn maps come with their 256-px version (the critic's condition).
    boundaries = RunBoundaries(config, batch_size, with_image=True, extra=("heatmap256",))
    source = CelebVSource(config["train_dir"], config["trg_celeb_name"], config["mode"],
                          config["preprocess"], outputs=boundaries.outputs,
                          ref_dir=config["ref_dir"] or None,
                          augmentation=Augmentation.from_config(train_cfg))
    loader = make_loader(source, batch_size, config["seed"], train=True, comm=comm,
                         threads=train_cfg["loader_threads"])

    heatmap_size = tuple(config["preprocess"]["resize_size"])
    dropout = DropoutMasks(0.5, config["seed"] + 1)
    real = nn.Variable((batch_size, 3, 256, 256))
    boundary = nn.Variable((batch_size, 15) + heatmap_size)
    boundary256 = nn.Variable((batch_size, 15, 256, 256))
    with nn.parameter_scope(G_SCOPE):
        fake = netG_decoder(boundary, ngf=model["ngf"], test=False, dropout=dropout)
    with nn.parameter_scope(D_SCOPE):
        d_fake_for_G = netD_decoder(F.concatenate(boundary256, fake, axis=1), ndf=model["ndf"])
    loss_gan = bce_gan_loss(d_fake_for_G, True)
    loss_l1 = l1_loss(fake, real)
    loss_vgg = feature_loss(fake, real, train_cfg["feature_loss"])
    loss_G = loss_gan + train_cfg["weight_L1"] * loss_l1
    if loss_vgg is not None:
        loss_G = loss_G + train_cfg["feature_loss"]["lambda"] * loss_vgg

    # Values read after loss_G.backward(clear_buffer=True) must keep their buffers.
    for variable in (fake, loss_gan, loss_l1, loss_vgg):
        if variable is not None:
            variable.persistent = True
    fake_fixed = fake.get_unlinked_variable(need_grad=False)
    with nn.parameter_scope(D_SCOPE):
        d_real = netD_decoder(F.concatenate(boundary256, real, axis=1), ndf=model["ndf"])
        d_fake = netD_decoder(F.concatenate(boundary256, fake_fixed, axis=1), ndf=model["ndf"])
    loss_D = 0.5 * (bce_gan_loss(d_real, True) + bce_gan_loss(d_fake, False))

    with nn.parameter_scope(G_SCOPE):
        params_G = nn.get_parameters()
    with nn.parameter_scope(D_SCOPE):
        params_D = nn.get_parameters()
    solver_G = S.Adam(train_cfg["lr"], train_cfg["beta1"], train_cfg["beta2"])
    solver_D = S.Adam(train_cfg["lr"], train_cfg["beta1"], train_cfg["beta2"])
    solver_G.set_parameters(params_G)
    solver_D.set_parameters(params_D)

    run = TrainingRun(run_dir, config, SERIES, config["monitor"]["interval"],
                      keep_last=config["monitor"]["keep_last"], comm=comm)
    start, _ = run.start({G_SCOPE: G_SCOPE, D_SCOPE: D_SCOPE},
                         {"netG": solver_G, "netD": solver_D}, {"train": loader},
                         {"dropout": dropout.rng}, resume=bool(args.resume))
    iterations_per_epoch = len(loader)
    epochs = train_cfg["epochs"]
    total = epochs * iterations_per_epoch

    for iteration in progress(range(start, total), total=total - start, desc="decoder"):
        epoch = iteration // iterations_per_epoch
        lr = linear_decay_lr(train_cfg["lr"], epoch, epochs, train_cfg["lr_decay_start_at"])
        solver_G.set_learning_rate(lr)
        solver_D.set_learning_rate(lr)
        batch = loader.next()
        real.d, boundary.d = batch[0], boundaries(batch)
        boundary256.d = batch[2] if boundaries.drawn else \
            upsample_heatmaps(boundary.d, boundary256.shape[-1])
        dropout.resample()

        run.update(iteration, "loss_netG", loss_G, solver_G)
        run.update(iteration, "loss_netD", loss_D, solver_D)

        values = {"loss_netG": loss_G.d, "loss_gan": loss_gan.d, "L1_loss": loss_l1.d,
                  "loss_netD": loss_D.d}
        if loss_vgg is not None:
            values["vgg_feature_loss"] = loss_vgg.d
        run.log(iteration, values)
        if iteration % config["monitor"]["image_interval"] == 0:
            run.images("result", iteration, result_rows(boundary.d, fake_fixed.d, real.d, 4))
        end_of_epoch = (iteration + 1) % iterations_per_epoch == 0
        if end_of_epoch and (epoch % config["monitor"]["save_interval"] == 0
                             or iteration + 1 == total):
            run.save_parameters("netG_decoder_{}.h5".format(epoch), G_SCOPE)
            run.save_parameters("netD_decoder_{}.h5".format(epoch), D_SCOPE)
        if end_of_epoch or (iteration + 1) % config["monitor"]["checkpoint_interval"] == 0:
            run.checkpoint(iteration + 1, epoch)
    loader.close()
    if run.is_main:
        print("decoder trained: {}".format(run_dir))


if __name__ == "__main__":
    run_main(main)
