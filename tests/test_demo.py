"""A miniature `make demo`: tiny data, one or two iterations per stage, every artefact."""
import json
import os
import subprocess
import sys

import pytest

from tests.conftest import REPO_ROOT


@pytest.fixture(scope="module")
def mini_demo(tmp_path_factory):
    out = tmp_path_factory.mktemp("demo")
    result = subprocess.run([sys.executable, "demo.py", "--mini", "--out-dir", str(out)],
                            cwd=REPO_ROOT, capture_output=True, text=True, timeout=900)
    assert result.returncode == 0, result.stdout[-2000:] + result.stderr[-2000:]
    return out, result.stdout


def test_mini_demo_writes_every_report_artefact(mini_demo):
    out, stdout = mini_demo
    for name in ("report.html", "metrics.json", "reenactment.mp4", "reenactment.gif",
                 "plots/encoder_losses.png", "plots/decoder_losses.png",
                 "plots/transformer_losses.png", "plots/ganimation_losses.png"):
        assert os.path.getsize(str(out / name)) > 0, name
    metrics = json.loads((out / "metrics.json").read_text())
    assert set(metrics) >= {"reenactgan", "ganimation", "checks", "stage_times"}
    assert set(metrics["reenactgan"]) >= {"encoder", "decoder", "reenactment", "transformer"}
    assert set(metrics["ganimation"]) >= {"edited_au_error", "input_au_error", "mean_attention",
                                          "edited_psnr", "input_psnr", "truth_au_error"}
    # Every check is there (the tiny networks of --mini need not pass them).
    assert set(metrics["checks"]) == {
        "encoder_beats_mean_map", "reenactment_beats_no_transformer_psnr",
        "reenactment_beats_mean_face_psnr", "reenactment_beats_no_transformer_boundary",
        "reenactment_beats_mean_face_boundary", "transformer_closer_than_source_boundary",
        "edits_closer_to_target_aus", "edits_cut_au_error_by_30_percent",
        "edits_closer_to_truth_render_psnr", "attention_not_collapsed"}
    html = (out / "report.html").read_text()
    assert "reenactment.mp4" in html and "plots/encoder_losses.png" in html
    # Labelled rows: one per reenacted frame, one per expression edit, GIFs in their own row.
    rows = sorted((out / "panels" / "reenactment").glob("frame_*.png"))
    strips = sorted((out / "panels" / "expressions").glob("edit_*.png"))
    assert rows and strips
    for picture in rows + strips:
        assert "panels/{}/{}".format(picture.parent.name, picture.name) in html
    gifs = list((out / "expressions").glob("*.gif"))
    assert gifs
    assert "Interpolations as GIFs" in html
    for stage in range(1, 11):
        assert "[{}/10]".format(stage) in stdout


def test_demo_skips_finished_stages(mini_demo):
    out, _ = mini_demo
    before = (out / "metrics.json").stat().st_mtime
    result = subprocess.run([sys.executable, "demo.py", "--mini", "--out-dir", str(out)],
                            cwd=REPO_ROOT, capture_output=True, text=True, timeout=300)
    assert result.returncode == 0, result.stderr[-2000:]
    assert result.stdout.count("done earlier") == 10
    assert (out / "metrics.json").stat().st_mtime == before
