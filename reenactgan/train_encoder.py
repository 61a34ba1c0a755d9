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
"""Train the boundary encoder (stacked hourglass) on WFLW.

    python reenactgan/train_encoder.py --conf my.yaml [--info name] [--context cpu]
    python reenactgan/train_encoder.py --resume tmp.monitor/encoder/<experiment>

Data: preprocess.py's WFLW caches (or a raw WFLW folder) in ``path.data_dir``;
the ``train`` split trains, the ``test`` split validates after every epoch.
``path.celebv_persons`` adds those CelebV persons' training frames.
Loss: the MSE of every stack's heatmaps, summed (intermediate supervision).
Validation also reports the boundary distance in heatmap pixels.

Writes ``tmp.monitor/encoder/<experiment>/``: training_info.yaml, the loss
series, result images, ``model/model_epoch-<e>.h5`` every ``save_interval``
epochs and at the end, ``model/best_model.h5`` (lowest validation loss), and
resumable checkpoints.
"""
import argparse
import os

import nnabla as nn
import nnabla.functions as F
import nnabla.solvers as S
import numpy as np

from config.config_encoder import config as DEFAULTS
from reenactgan.data import Augmentation, CelebVSource, WFLWSource, denormalize_image
from reenactgan.losses import boundary_weights
from reenactgan.metrics import batch_boundary_distance
from reenactgan.models import stacked_hourglass_net
from reenactgan.run_files import run_folder
from utils.batching import ConcatSource
from utils.boundary_heatmaps import heatmaps_to_image
from utils.checkpoint import load_parameters_checked, save_parameters_atomic
from utils.config import add_config_arguments
from utils.monitoring import progress, tile_images
from utils.training_run import TrainingRun, make_loader, training_setup
from utils.user_errors import UserError, run_main


def heatmap_loss(preds, target, loss_name, foreground_weight=1.0):
    """Per-stack losses.  ``weighted_mse`` multiplies the squared error of the
    pixels near a boundary by ``foreground_weight`` (``boundary_weights``)."""
    if loss_name == "mse":
        terms = [F.mean(F.squared_error(p, target)) for p in preds]
    elif loss_name == "weighted_mse":
        weight = boundary_weights(target, foreground_weight)
        terms = [F.mean(weight * F.squared_error(p, target)) for p in preds]
    elif loss_name == "bce":
        terms = [F.mean(F.sigmoid_cross_entropy(p, target)) for p in preds]
    else:
        raise UserError("loss_name must be mse, weighted_mse or bce, got '{}'".format(loss_name))
    return terms


def result_strip(images, preds, targets, count):
    """Rows of image | prediction of each stack | ground truth, 256 px each."""
    rows = []
    for i in range(min(count, images.shape[0])):
        panels = [np.rint(denormalize_image(images[i]).transpose(1, 2, 0) * 255).astype(np.uint8)]
        panels += [heatmaps_to_image(p[i], (256, 256)) for p in preds]
        panels.append(heatmaps_to_image(targets[i], (256, 256)))
        rows.append(tile_images(panels))
    return np.concatenate(rows, axis=0)


def validate(graph, loader):
    """Mean loss per stack and mean boundary distance over the whole split."""
    x, t, preds, losses = graph
    totals = np.zeros(len(losses))
    distances = []
    count = 0
    last = None
    for images, targets in loader.epoch_batches():
        n = images.shape[0]
        if n < x.shape[0]:  # the last, short batch: pad, then count only the real ones
            pad = x.shape[0] - n
            images = np.concatenate([images, np.repeat(images[-1:], pad, 0)])
            targets = np.concatenate([targets, np.repeat(targets[-1:], pad, 0)])
        x.d, t.d = images, targets
        nn.forward_all(preds)
        for k, p in enumerate(preds):
            per_sample = ((p.d[:n] - targets[:n]) ** 2).mean(axis=(1, 2, 3))
            totals[k] += per_sample.sum()
        distances.extend(batch_boundary_distance(preds[-1].d[:n], targets[:n]))
        count += n
        last = (images[:n], [p.d[:n].copy() for p in preds], targets[:n])
    return totals / count, float(np.nanmean(distances)), last


def main(argv=None):
    parser = add_config_arguments(argparse.ArgumentParser(description=__doc__.split("\n\n")[0]))
    args = parser.parse_args(argv)
    config, resume_dir, comm = training_setup(DEFAULTS, args)
    train_cfg, model_cfg = config["train"], config["model"]
    run_dir = resume_dir or run_folder(config, "encoder")

    augmentation = Augmentation.from_config(train_cfg)
    train_source = WFLWSource(config["path"]["data_dir"], "train", config["preprocess"],
                              augmentation)
    if config["path"]["celebv_persons"]:
        train_source = ConcatSource([train_source] + [
            CelebVSource(config["path"]["celebv_dir"], person, "train", config["preprocess"],
                         outputs=("image", "heatmap"), augmentation=augmentation)
            for person in config["path"]["celebv_persons"]])
    val_source = WFLWSource(config["path"]["data_dir"], "test", config["preprocess"])
    loader = make_loader(train_source, train_cfg["batch_size"], config["seed"], train=True,
                         comm=comm, threads=train_cfg["loader_threads"])
    val_loader = make_loader(val_source, config["test"]["batch_size"], config["seed"],
                             train=False, threads=train_cfg["loader_threads"])

    scope = config["model_name"]
    model_kwargs = dict(planes=model_cfg["planes"], output_nc=model_cfg["output_nc"],
                        num_stacks=model_cfg["num_stacks"],
                        hourglass_depth=model_cfg["hourglass_depth"])
    heatmap_size = tuple(config["preprocess"]["resize_size"])
    x = nn.Variable((train_cfg["batch_size"], 3, 256, 256))
    t = nn.Variable((train_cfg["batch_size"], model_cfg["output_nc"]) + heatmap_size)
    with nn.parameter_scope(scope):
        preds = stacked_hourglass_net(x, test=False, **model_kwargs)
    if preds[-1].shape[2:] != heatmap_size:
        raise UserError("preprocess.resize_size {} does not match the encoder output {}".format(
            list(heatmap_size), list(preds[-1].shape[2:])))
    stack_losses = heatmap_loss(preds, t, config["loss_name"],
                                (config.get("loss") or {}).get("foreground_weight", 1.0))
    loss = sum(stack_losses[1:], stack_losses[0])
    for variable in preds + stack_losses:  # read after backward(clear_buffer=True)
        variable.persistent = True

    vx = nn.Variable((config["test"]["batch_size"], 3, 256, 256))
    vt = nn.Variable((config["test"]["batch_size"], model_cfg["output_nc"]) + heatmap_size)
    with nn.parameter_scope(scope):
        vpreds = stacked_hourglass_net(vx, test=True, **model_kwargs)
    val_graph = (vx, vt, vpreds, vpreds)

    finetune = (config.get("finetune") or {}).get("param_path")
    if finetune and not args.resume:
        load_parameters_checked(finetune, scope, strict=True)
        print("fine-tuning from {}".format(finetune))

    with nn.parameter_scope(scope):
        params = nn.get_parameters()
    solver = S.Adam(alpha=train_cfg["lr"])
    solver.set_parameters(params)

    num_stacks = model_cfg["num_stacks"]
    series = ["loss_total"] + ["loss_{}".format(k) for k in range(num_stacks)]
    series += ["val_loss_total"] + ["val_loss_{}".format(k) for k in range(num_stacks)]
    series += ["val_boundary_distance"]
    run = TrainingRun(run_dir, config, series, config["monitor"]["interval"],
                      keep_last=config["monitor"]["keep_last"], comm=comm,
                      series_intervals={name: 1 for name in series if name.startswith("val_")})
    start, state = run.start({scope: scope}, {scope: solver}, {"train": loader},
                             resume=bool(args.resume))
    best_val = state.get("best_val_loss", float("inf"))
    iterations_per_epoch = len(loader)
    total = train_cfg["epochs"] * iterations_per_epoch
    model_dir = os.path.join(run_dir, "model")

    for iteration in progress(range(start, total), total=total - start, desc="encoder"):
        epoch = iteration // iterations_per_epoch
        x.d, t.d = loader.next()
        run.update(iteration, "loss_total", loss, solver, train_cfg["weight_decay"])
        values = {"loss_total": loss.d}
        values.update({"loss_{}".format(k): l.d for k, l in enumerate(stack_losses)})
        run.log(iteration, values)

        end_of_epoch = (iteration + 1) % iterations_per_epoch == 0
        if end_of_epoch and run.is_main:
            val_losses, distance, last = validate(val_graph, val_loader)
            val_values = {"val_loss_total": val_losses.sum(), "val_boundary_distance": distance}
            val_values.update({"val_loss_{}".format(k): v for k, v in enumerate(val_losses)})
            run.log(epoch, val_values)
            count = config["monitor"]["num_images"]
            run.images("result", epoch, result_strip(x.d, [p.d for p in preds], t.d, count))
            run.images("result_val", epoch, result_strip(last[0], last[1], last[2], count))
            if val_losses.sum() < best_val:
                best_val = float(val_losses.sum())
                save_parameters_atomic(os.path.join(model_dir, "best_model.h5"), scope)
            if epoch % config["monitor"]["save_interval"] == 0 or iteration + 1 == total:
                save_parameters_atomic(
                    os.path.join(model_dir, "model_epoch-{}.h5".format(epoch)), scope)
        if end_of_epoch or (iteration + 1) % config["monitor"]["checkpoint_interval"] == 0:
            run.checkpoint(iteration + 1, epoch, {"best_val_loss": best_val})
    loader.close()
    if run.is_main:
        print("encoder trained: {} (best validation loss {:.5f})".format(run_dir, best_val))


if __name__ == "__main__":
    run_main(main)
