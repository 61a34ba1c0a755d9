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
"""Train the boundary transformer: source persons' boundaries -> the target's.

    python reenactgan/train_transformer.py --conf my.yaml [--info name] [--context cpu]
    python reenactgan/train_transformer.py --resume tmp.monitor/transformer/<src>2<trg>/<experiment>

A CycleGAN on 15x64x64 boundary heatmaps (A = source, B = target):
LSGAN + ``cycle_loss.lambda`` x L1 cycle + ``shape_loss.lambda`` x L1 between
the first ``pca_dim`` whitened PCA coefficients of the Align network's
landmarks of each input and its translation (the pose and position must
survive the change of identity).  ``identity_loss.lambda`` (0 in both original
codes) adds CycleGAN's identity term, L1(G_A2B(b), b) for target boundaries b
and the same for each B2A generator on its source's boundaries: it teaches
the generators early to draw sharp boundaries where their input has them,
which a short training (the demo) needs.  ``foreground_weight`` in the cycle
and identity sections weights the pixels near a boundary.  With ``lr_decay_start_at`` the rates fall
linearly to 0 from that epoch on.  netG_A2B is the network the reenactment
uses.  With ``extra_src_celeb_names`` it becomes the authors' many-to-one
model: one shared A2B generator and, per source person, a B2A generator and a
discriminator.

Each iteration updates the generators, then the discriminators on the same
(detached) fakes, as CycleGAN does.

Writes ``tmp.monitor/transformer/<src>2<trg>/<experiment>/``: training_info.yaml,
the loss series, result images (real_A | fake_B | real_B | recon_A | fake_A |
recon_B), ``netG_transformer_A2B_<e>.h5`` (and B2A, netD_A, netD_B) every
``save_interval`` epochs and at the end, and resumable checkpoints.
"""
import argparse
import os

import nnabla as nn
import nnabla.solvers as S
import numpy as np

from config.config_transformer import config as DEFAULTS
from reenactgan.data import Augmentation, CelebVSource
from reenactgan.losses import heatmap_l1_loss, l1_loss, linear_decay_lr, lsgan_loss, \
    sobel_edges
from reenactgan.models import TRANSFORMER_SCOPE, align_resnet, netD_transformer, \
    netG_transformer, pca_projection
from reenactgan.run_files import RunBoundaries, run_folder
from utils.checkpoint import load_network_parameters
from utils.boundary_heatmaps import heatmaps_to_image
from utils.config import add_config_arguments
from utils.monitoring import progress, tile_images
from utils.training_run import TrainingRun, make_loader, training_setup
from utils.user_errors import UserError, run_main

G_SCOPE = TRANSFORMER_SCOPE
D_SCOPE = "netD_transformer"
SERIES = ["loss_netG", "loss_gan_A", "loss_gan_B", "loss_cycle_A", "loss_cycle_B",
          "loss_shape_A", "loss_shape_B", "loss_identity_A", "loss_identity_B", "loss_netD",
          "loss_netD_A", "loss_netD_B"]


def numbered(name, index):
    """Scope names: the port's for the first source, a suffix for the others."""
    return name if index == 0 else "{}_{}".format(name, index)


def generator(x, name, model):
    with nn.parameter_scope(G_SCOPE), nn.parameter_scope(name):
        return netG_transformer(x, ngf=model["ngf"], n_blocks=model["n_blocks"], test=False)


def discriminator(x, name, model, edge_filter):
    if edge_filter:
        x = sobel_edges(x)
    with nn.parameter_scope(D_SCOPE), nn.parameter_scope(name):
        return netD_transformer(x, ndf=model["ndf"])


def lambda_of(section):
    """A loss weight, 0 when the section is null or its lambda is not positive."""
    return float(section["lambda"]) if section and section.get("lambda", 0) > 0 else 0.0


def foreground_weight_of(section):
    """The weight of the pixels near a boundary in a loss section (1: a plain L1)."""
    return float((section or {}).get("foreground_weight", 1.0))


class ShapeCode:
    """First ``pca_dim`` whitened PCA coefficients of Align's landmarks (fixed networks)."""

    def __init__(self, shape_cfg):
        missing = [p for p in (shape_cfg["align_param_path"], shape_cfg["PCA_param_path"])
                   if not p or not os.path.isfile(p)]
        if missing:
            raise UserError(
                "the shape loss needs {}: convert the authors' files with "
                "`python reenactgan/convert_weights.py align Align_40000.pth -o Align_40000.h5` "
                "and `python reenactgan/convert_weights.py pca pca_init/ -o PCA_weights.h5`, "
                "set train.shape_loss.align_param_path / PCA_param_path, or turn the loss "
                "off with `train: {{shape_loss: {{lambda: 0}}}}`".format(" and ".join(missing)))
        self.cfg = shape_cfg
        self.loaded = False

    def __call__(self, heatmaps):
        with nn.parameter_scope("Align"):
            # test=True: the fixed network's running averages are never updated.
            landmarks = align_resnet(heatmaps, test=True,
                                     batch_stat=self.cfg["align_batch_stat"],
                                     fix_parameters=True)
        with nn.parameter_scope("PCA"):
            code = pca_projection(landmarks)
        if not self.loaded:
            load_network_parameters(self.cfg["align_param_path"], "Align")
            load_network_parameters(self.cfg["PCA_param_path"], "PCA")
            self.loaded = True
        return code[:, :self.cfg["pca_dim"]]


def learning_rates(train_cfg, iteration, iterations_per_epoch):
    """(G, D) learning rates at an iteration: constant, or decaying from lr_decay_start_at."""
    lr = train_cfg["lr"]
    if train_cfg["lr_decay_start_at"] is not None:
        # By iteration, not by epoch, so that a short run decays smoothly too.
        lr = linear_decay_lr(lr, iteration / float(iterations_per_epoch), train_cfg["epochs"],
                             train_cfg["lr_decay_start_at"])
    return lr, lr * train_cfg["lr_D_ratio"]


def check_config(config):
    if config["norm_type"] != "batch_norm":
        raise UserError("norm_type: only 'batch_norm' is supported (the authors' setting), "
                        "got '{}'".format(config["norm_type"]))
    decay_start = config["train"]["lr_decay_start_at"]
    if decay_start is not None and (isinstance(decay_start, bool) or
                                    not isinstance(decay_start, (int, float)) or decay_start < 0):
        raise UserError("train.lr_decay_start_at must be null or an epoch number >= 0, got "
                        "{!r}".format(decay_start))
    for section in ("cycle_loss", "identity_loss"):
        weight = (config["train"][section] or {}).get("foreground_weight", 1.0)
        if isinstance(weight, bool) or not isinstance(weight, (int, float)) or weight <= 0:
            raise UserError("train.{}.foreground_weight must be a number > 0, got {!r}".format(
                section, weight))
    persons = [config["src_celeb_name"]] + list(config["extra_src_celeb_names"])
    if config["trg_celeb_name"] in persons or len(set(persons)) != len(persons):
        raise UserError("source persons {} and target '{}' must all differ".format(
            persons, config["trg_celeb_name"]))
    return persons


def panels(*heatmaps):
    return tile_images([heatmaps_to_image(h) for h in heatmaps])


def main(argv=None):
    parser = add_config_arguments(argparse.ArgumentParser(description=__doc__.split("\n\n")[0]))
    args = parser.parse_args(argv)
    config, resume_dir, comm = training_setup(DEFAULTS, args)
    sources_names = check_config(config)
    train_cfg, model = config["train"], config["model"]
    batch_size = train_cfg["batch_size"]
    target_name = config["trg_celeb_name"]
    run_dir = resume_dir or run_folder(config, "transformer")

    lambda_cycle = lambda_of(train_cfg["cycle_loss"])
    cycle_weight = foreground_weight_of(train_cfg["cycle_loss"])
    lambda_identity = lambda_of(train_cfg["identity_loss"])
    identity_weight = foreground_weight_of(train_cfg["identity_loss"])
    lambda_shape = lambda_of(train_cfg["shape_loss"])
    shape_code = ShapeCode(train_cfg["shape_loss"]) if lambda_shape > 0 else None  # fail early
    boundaries = RunBoundaries(config, batch_size)
    augmentation = Augmentation.from_config(train_cfg)

    def loader_for(person, offset):
        source = CelebVSource(config["train_dir"], person, config["mode"], config["preprocess"],
                              outputs=boundaries.outputs, ref_dir=config["ref_dir"] or None,
                              augmentation=augmentation)
        return make_loader(source, batch_size, config["seed"] + offset, train=True, comm=comm,
                           threads=train_cfg["loader_threads"])

    loaders_A = [loader_for(p, i) for i, p in enumerate(sources_names)]
    loader_B = loader_for(target_name, len(sources_names))

    # --- graph -----------------------------------------------------------------
    shape = (batch_size, 15) + tuple(config["preprocess"]["resize_size"])
    edge = config["edge_filter"]
    real_B = nn.Variable(shape)

    def cycle_gan(real_A, person):
        """The CycleGAN between source person number ``person`` (A) and the target (B).

        G_A2B and D_B are shared by all source persons; G_B2A and D_A are the
        person's own.
        Returns the fakes and the loss terms by name.
        """
        def G_A2B(x):
            return generator(x, "netG_A2B", model)

        def G_B2A(x):
            return generator(x, numbered("netG_B2A", person), model)

        def D_A(x):
            return discriminator(x, numbered("netD_A", person), model, edge)

        def D_B(x):
            return discriminator(x, "netD_B", model, edge)

        fake_B, fake_A = G_A2B(real_A), G_B2A(real_B)
        recon_A, recon_B = G_B2A(fake_B), G_A2B(fake_A)
        terms = {"gan_B": lsgan_loss(D_B(fake_B), True), "gan_A": lsgan_loss(D_A(fake_A), True)}
        if lambda_cycle > 0:
            terms["cycle_A"] = heatmap_l1_loss(recon_A, real_A, cycle_weight)
            terms["cycle_B"] = heatmap_l1_loss(recon_B, real_B, cycle_weight)
        if lambda_identity > 0:
            terms["identity_A"] = heatmap_l1_loss(G_B2A(real_A), real_A, identity_weight)
            if person == 0:  # G_A2B is shared: its identity term is counted once
                terms["identity_B"] = heatmap_l1_loss(G_A2B(real_B), real_B, identity_weight)
        if shape_code is not None:
            terms["shape_A"] = l1_loss(shape_code(fake_B), shape_code(real_A))
            terms["shape_B"] = l1_loss(shape_code(fake_A), shape_code(real_B))
        # The discriminators learn from the fakes without back-propagating into
        # the generators; D_B's real term is added once, after all persons.
        terms["netD_A"] = lsgan_loss(D_A(real_A), True) + \
            lsgan_loss(D_A(fake_A.get_unlinked_variable(need_grad=False)), False)
        terms["netD_B"] = lsgan_loss(D_B(fake_B.get_unlinked_variable(need_grad=False)), False)
        return (fake_B, fake_A, recon_A, recon_B), terms

    real_As = [nn.Variable(shape) for _ in sources_names]
    persons = [cycle_gan(real_A, i) for i, real_A in enumerate(real_As)]
    (fake_B, fake_A, recon_A, recon_B), _ = persons[0]
    visuals = (real_As[0], fake_B, real_B, recon_A, fake_A, recon_B)
    losses = {name: None for name in ("gan_A", "gan_B", "cycle_A", "cycle_B", "shape_A",
                                      "shape_B", "identity_A", "identity_B", "netD_A", "netD_B")}
    for _, terms in persons:
        for name, term in terms.items():
            losses[name] = term if losses[name] is None else losses[name] + term
    losses["netD_B"] = losses["netD_B"] + \
        lsgan_loss(discriminator(real_B, "netD_B", model, edge), True)

    loss_G = losses["gan_A"] + losses["gan_B"]
    if lambda_cycle > 0:
        loss_G = loss_G + lambda_cycle * (losses["cycle_A"] + losses["cycle_B"])
    if lambda_identity > 0:
        loss_G = loss_G + lambda_identity * (losses["identity_A"] + losses["identity_B"])
    if shape_code is not None:
        loss_G = loss_G + lambda_shape * (losses["shape_A"] + losses["shape_B"])
    loss_D = losses["netD_A"] + losses["netD_B"]
    # Values read after backward(clear_buffer=True) must keep their buffers:
    # the fakes feed the discriminators, the terms are logged.
    fakes = [fake for (fake_B, fake_A, _, _), _ in persons for fake in (fake_B, fake_A)]
    for variable in fakes + list(visuals) + [v for v in losses.values() if v]:
        variable.persistent = True

    with nn.parameter_scope(G_SCOPE):
        params_G = nn.get_parameters()
    with nn.parameter_scope(D_SCOPE):
        params_D = nn.get_parameters()
    solver_G = S.Adam(train_cfg["lr"], train_cfg["beta1"], train_cfg["beta2"])
    solver_D = S.Adam(train_cfg["lr"] * train_cfg["lr_D_ratio"], train_cfg["beta1"],
                      train_cfg["beta2"])
    solver_G.set_parameters(params_G)
    solver_D.set_parameters(params_D)

    run = TrainingRun(run_dir, config, SERIES, config["monitor"]["interval"],
                      keep_last=config["monitor"]["keep_last"], comm=comm)
    loaders = {"A{}".format(i): l for i, l in enumerate(loaders_A)}
    loaders["B"] = loader_B
    start, _ = run.start({G_SCOPE: G_SCOPE, D_SCOPE: D_SCOPE},
                         {"netG": solver_G, "netD": solver_D}, loaders, resume=bool(args.resume))
    iterations_per_epoch = len(loaders_A[0])
    total_iterations = train_cfg["epochs"] * iterations_per_epoch

    def save_networks(epoch):
        run.save_parameters("netG_transformer_A2B_{}.h5".format(epoch), G_SCOPE + "/netG_A2B")
        run.save_parameters("netD_transformer_B_{}.h5".format(epoch), D_SCOPE + "/netD_B")
        for i in range(len(sources_names)):
            run.save_parameters("{}_{}.h5".format(numbered("netG_transformer_B2A", i), epoch),
                                G_SCOPE + "/" + numbered("netG_B2A", i))
            run.save_parameters("{}_{}.h5".format(numbered("netD_transformer_A", i), epoch),
                                D_SCOPE + "/" + numbered("netD_A", i))

    for iteration in progress(range(start, total_iterations), total=total_iterations - start,
                              desc="transformer"):
        epoch = iteration // iterations_per_epoch
        for real_A, loader in zip(real_As, loaders_A):
            real_A.d = boundaries(loader.next())
        real_B.d = boundaries(loader_B.next())
        lr_G, lr_D = learning_rates(train_cfg, iteration, iterations_per_epoch)
        solver_G.set_learning_rate(lr_G)
        solver_D.set_learning_rate(lr_D)

        run.update(iteration, "loss_netG", loss_G, solver_G)
        run.update(iteration, "loss_netD", loss_D, solver_D, train_cfg["weight_decay"])

        values = {"loss_netG": loss_G.d, "loss_netD": loss_D.d}
        values.update({"loss_" + k: v.d for k, v in losses.items() if v is not None})
        run.log(iteration, values)
        if iteration % config["monitor"]["image_interval"] == 0:
            rows = [panels(*[v.d[j] for v in visuals]) for j in range(min(4, batch_size))]
            run.images("result", iteration, np.concatenate(rows, axis=0))
        end_of_epoch = (iteration + 1) % iterations_per_epoch == 0
        if end_of_epoch and (epoch % config["monitor"]["save_interval"] == 0
                             or iteration + 1 == total_iterations):
            save_networks(epoch)
        if end_of_epoch or (iteration + 1) % config["monitor"]["checkpoint_interval"] == 0:
            run.checkpoint(iteration + 1, epoch)
    for loader in loaders.values():
        loader.close()
    if run.is_main:
        print("transformer trained: {}".format(run_dir))


if __name__ == "__main__":
    run_main(main)
