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
"""Write the demo's report: ``<demo_output>/report.html`` and ``metrics.json``.

    python demo_report.py demo_output

Reads the metrics written by the evaluation stage, the training runs' loss
series, result pictures and videos, and lays them out in one HTML page whose
links are relative (the folder can be moved or zipped as it is).
"""
import argparse
import glob
import html
import json
import os

from matplotlib.figure import Figure  # drawn without pyplot: no GUI backend involved

from utils.atomic_files import atomic_path, atomic_write_text
from utils.user_errors import UserError, run_main

CURVES = {
    "encoder": ("tmp.monitor/encoder/demo", ["loss_total", "val_loss_total",
                                             "val_boundary_distance"]),
    "transformer": ("tmp.monitor/transformer/Person_A2Person_B/demo",
                    ["loss_netG", "loss_netD", "loss_cycle_A", "loss_cycle_B"]),
    "decoder": ("tmp.monitor/decoder/Person_B/demo", ["loss_netG", "loss_netD", "L1_loss"]),
    "ganimation": ("tmp.monitor/ganimation/demo",
                   ["D_au_mse", "G_au_mse", "G_cycle_l1", "G_attention_mean"]),
}


def read_series(path):
    steps, values = [], []
    with open(path) as f:
        for line in f:
            fields = line.split()
            if len(fields) >= 2:
                steps.append(int(fields[0]))
                values.append(float(fields[1]))
    return steps, values


def plot_curves(out, module):
    """One PNG with the module's loss curves (each normalised to its own axis)."""
    folder, names = CURVES[module]
    found = [(name, read_series(os.path.join(out, folder, name + ".series.txt")))
             for name in names if os.path.isfile(os.path.join(out, folder, name + ".series.txt"))]
    found = [(name, data) for name, data in found if data[0]]
    if not found:
        return None
    figure = Figure(figsize=(3.2 * len(found), 2.6))
    axes = figure.subplots(1, len(found))
    axes = axes if len(found) > 1 else [axes]
    for axis, (name, (steps, values)) in zip(axes, found):
        axis.plot(steps, values, linewidth=1.2)
        axis.set_title(name, fontsize=9)
        axis.set_xlabel("epoch" if name.startswith("val_") else "iteration", fontsize=8)
        axis.tick_params(labelsize=7)
    figure.tight_layout()
    path = os.path.join(out, "plots", module + "_losses.png")
    os.makedirs(os.path.dirname(path), exist_ok=True)
    with atomic_path(path) as tmp:
        figure.savefig(tmp, dpi=90)
    return path


def load_json(path):
    if not os.path.isfile(path):
        raise UserError("{} not found: run the evaluation stage first".format(path))
    with open(path) as f:
        return json.load(f)


# GANimation's edits must remove at least this share of the input's AU error.
AU_ERROR_CUT = 0.3
# A mean attention outside this range is a collapsed mask (the edit copies the
# input, or ignores it).
ATTENTION_RANGE = (0.05, 0.95)


def comparisons(reenactgan, ganimation):
    """The comparisons the demo is expected to win: [(name, text, model, baseline, passed)]."""
    rows = []

    def add(name, text, model, baseline, passed):
        rows.append((name, text, model, baseline, bool(passed)))

    e = reenactgan["encoder"]
    add("encoder_beats_mean_map", "encoder boundary distance (px), WFLW test split, vs the mean "
        "training map", e["boundary_distance_px"], e["mean_map_baseline_px"],
        e["boundary_distance_px"] < e["mean_map_baseline_px"])
    if "reenactment" in reenactgan:
        r, t = reenactgan["reenactment"], reenactgan["transformer"]
        for key, label in (("no_transformer", "the chain without the transformer"),
                           ("mean_face", "the target's mean face")):
            add("reenactment_beats_{}_psnr".format(key),
                "reenacted frames' PSNR (dB) to the truth, vs " + label,
                r["psnr"], r[key + "_psnr"], r["psnr"] > r[key + "_psnr"])
            add("reenactment_beats_{}_boundary".format(key),
                "reenacted frames' boundary distance (px) to the truth, vs " + label,
                r["boundary_distance_px"], r[key + "_boundary_distance_px"],
                r["boundary_distance_px"] < r[key + "_boundary_distance_px"])
        add("transformer_closer_than_source_boundary",
            "transformed boundaries' distance (px) to the target's true ones, vs the "
            "untranslated source's", t["boundary_distance_px"], t["source_boundary_baseline_px"],
            t["boundary_distance_px"] < t["source_boundary_baseline_px"])
    g = ganimation
    add("edits_closer_to_target_aus", "edited faces' AU error to the target, vs the unedited "
        "input's", g["edited_au_error"], g["input_au_error"],
        g["edited_au_error"] < g["input_au_error"])
    add("edits_cut_au_error_by_30_percent", "the same, at least {:.0f} % lower".format(
        100 * AU_ERROR_CUT), g["edited_au_error"], (1.0 - AU_ERROR_CUT) * g["input_au_error"],
        g["edited_au_error"] <= (1.0 - AU_ERROR_CUT) * g["input_au_error"])
    if "edited_psnr" in g:
        add("edits_closer_to_truth_render_psnr", "edited faces' PSNR (dB) to the true render of "
            "the target expression, vs the unedited input's", g["edited_psnr"], g["input_psnr"],
            g["edited_psnr"] > g["input_psnr"])
    add("attention_not_collapsed", "mean attention, within ({}, {})".format(*ATTENTION_RANGE),
        g["mean_attention"], "", ATTENTION_RANGE[0] < g["mean_attention"] < ATTENTION_RANGE[1])
    return rows


def checks(reenactgan, ganimation):
    """name -> passed, for metrics.json."""
    return {row[0]: row[4] for row in comparisons(reenactgan, ganimation)}


def encoder_rows(reenactgan):
    e, frames = reenactgan["encoder"], reenactgan.get("encoder_on_source_frames")
    rows = [["encoder: boundary distance (px, 64x64), {}".format(e.get("data", "held-out")),
             e["boundary_distance_px"], e["mean_map_baseline_px"], "mean training map"]]
    if frames:
        rows.append(["encoder: boundary distance (px), the source's test frames",
                     frames["boundary_distance_px"], frames["mean_map_baseline_px"],
                     "mean training map"])
    return rows


def fmt(value, digits=3):
    return "{:.{}f}".format(value, digits) if isinstance(value, float) else html.escape(str(value))


def table(rows, header):
    cells = "".join("<th>{}</th>".format(html.escape(h)) for h in header)
    body = "".join("<tr>{}</tr>".format("".join("<td>{}</td>".format(fmt(c)) for c in row))
                   for row in rows)
    return "<table><tr>{}</tr>{}</table>".format(cells, body)


def relative(out, path):
    return html.escape(os.path.relpath(path, out))


def labelled_rows(out, kind, caption):
    """The evaluation's labelled pictures of ``kind`` under their caption, full width."""
    pictures = sorted(glob.glob(os.path.join(out, "panels", kind, "*.png")))
    return ["<p>{}</p>".format(html.escape(caption))] + [
        '<img src="{}" width="100%">'.format(relative(out, p)) for p in pictures]


def stage_times(out):
    times = {}
    for path in sorted(glob.glob(os.path.join(out, "stages", "*.done"))):
        with open(path) as f:
            times[os.path.basename(path)[:-5]] = f.read().strip()
    return times


def build(out):
    reenactgan = load_json(os.path.join(out, "metrics_reenactgan.json"))
    ganimation = load_json(os.path.join(out, "metrics_ganimation.json"))
    rows = comparisons(reenactgan, ganimation)
    verdict = {row[0]: row[4] for row in rows}
    metrics = {"reenactgan": reenactgan, "ganimation": ganimation, "checks": verdict,
               "stage_times": stage_times(out)}
    atomic_write_text(os.path.join(out, "metrics.json"), json.dumps(metrics, indent=2) + "\n")

    plots = {m: plot_curves(out, m) for m in CURVES}
    d = reenactgan["decoder"]
    parts = ["<h1>ReenactGAN and GANimation on synthetic faces</h1>",
             "<p>Reduced networks (config/demo/) trained for minutes on the CPU on synthetic faces "
             "whose ground truth is known. Every number below is measured on held-out frames.</p>",
             "<h2>Checks</h2>",
             table([[text, model, baseline, "yes" if passed else "NO"]
                    for _, text, model, baseline, passed in rows],
                   ["comparison (held-out data)", "model", "baseline", "passed"]),
             "<h2>ReenactGAN</h2>",
             table(encoder_rows(reenactgan) + [
                 ["decoder: PSNR (dB) / SSIM of {} decoded from its own {} boundaries".format(
                     "the target", d.get("boundaries", "drawn")),
                  "{:.2f} / {:.3f}".format(d["psnr"], d["ssim"]), "", ""]],
                 ["measure", "model", "baseline", "baseline is"])]
    if "reenactment" in reenactgan:
        r, t = reenactgan["reenactment"], reenactgan["transformer"]
        parts.append(table([
            ["PSNR (dB)", r["psnr"], r["no_transformer_psnr"], r["mean_face_psnr"]],
            ["SSIM", r["ssim"], r["no_transformer_ssim"], r["mean_face_ssim"]],
            ["boundary distance to the truth (px), read by the encoder",
             r["boundary_distance_px"], r["no_transformer_boundary_distance_px"],
             r["mean_face_boundary_distance_px"]]],
            ["reenactment vs the true target frames", "full chain", "without transformer",
             "target's mean face"]))
        parts.append(table([
            ["boundary distance to the target's true boundaries (px)",
             t["boundary_distance_px"], t["source_boundary_baseline_px"]]],
            ["transformer ({} boundaries)".format(t.get("boundaries", "drawn")),
             "translated", "untranslated source"]))
    parts += labelled_rows(out, "reenactment", (
        "Held-out frames, one per row: the source person A, the truth (person B making A's "
        "expression, which the models never saw), the full chain's face, the chain without the "
        "transformer, B's mean face; then A's boundaries read by the encoder, their translation "
        "to B, and B's true boundaries."))
    for name in ("reenactment.gif", "reenactment.mp4"):
        path = os.path.join(out, name)
        if os.path.isfile(path) and name.endswith(".gif"):
            parts.append('<p>The reenacted test sequence (source | boundaries | generated):'
                         '<br><img src="{}" width="100%"></p>'.format(relative(out, path)))
        elif os.path.isfile(path):
            parts.append('<p><video src="{}" controls width="100%"></video></p>'.format(
                relative(out, path)))
    g = ganimation
    parts.append("<h2>GANimation</h2>")
    rows = [["AU error to the target (a separate AU regressor reads the faces)",
             g["edited_au_error"], g["input_au_error"], "the unedited input"]]
    if "edited_psnr" in g:
        rows += [["PSNR (dB) to the true render of the target expression", g["edited_psnr"],
                  g["input_psnr"], "the unedited input"],
                 ["SSIM to the true render", g["edited_ssim"], g["input_ssim"],
                  "the unedited input"],
                 ["AU error of the true render (the least a perfect edit shows)",
                  g["truth_au_error"], "", ""]]
    rows += [["mean attention (1 copies the input, 0 paints everything)", g["mean_attention"],
              "", ""],
             ["AU regressor's own error on the test faces", g["regressor_au_error"],
              g.get("mean_au_baseline_error", ""), "predicting the mean AUs"]]
    parts.append(table(rows, ["measure", "edited faces", "baseline", "baseline is"]))
    parts += labelled_rows(out, "expressions", (
        "Held-out faces, one edit per row: the input, the interpolation steps towards another "
        "test face's AUs, the true render of the input person with those AUs, the face whose "
        "AUs are the target, and the final attention mask (white keeps the input pixel)."))
    gifs = sorted(glob.glob(os.path.join(out, "expressions", "*.gif")))
    if gifs:
        parts.append("<p>Interpolations as GIFs (input to target and back):</p><p>" + "".join(
            '<img src="{}" height="128" style="margin-right:6px">'.format(relative(out, p))
            for p in gifs[:4]) + "</p>")
    parts.append("<h2>Training curves</h2>")
    for module, path in plots.items():
        if path:
            parts.append("<h3>{}</h3><img src=\"{}\">".format(module, relative(out, path)))
    parts.append("<h2>Stage times</h2>")
    parts.append(table([[k, v] for k, v in metrics["stage_times"].items()], ["stage", "time"]))
    page = ("<!DOCTYPE html><html><head><meta charset=\"utf-8\"><title>Demo report</title>"
            "<style>body{font-family:sans-serif;max-width:1100px;margin:auto}"
            "table{border-collapse:collapse;margin:8px 0}td,th{border:1px solid #ccc;"
            "padding:4px 8px}</style></head><body>" + "\n".join(parts) + "</body></html>\n")
    atomic_write_text(os.path.join(out, "report.html"), page)
    print("report: {}".format(os.path.join(out, "report.html")))
    for name, passed in verdict.items():
        print("  {}: {}".format(name.replace("_", " "), "yes" if passed else "NO"))
    return metrics


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("out_dir", help="the demo's output folder")
    args = parser.parse_args(argv)
    build(os.path.abspath(args.out_dir))


if __name__ == "__main__":
    run_main(main)
