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
import argparse
import importlib
import os

import pytest
import yaml

from utils.config import (add_config_arguments, load_config, load_yaml, merge_config,
                          read_training_info, save_training_info)
from utils.user_errors import UserError

DEFAULTS = {
    "experiment_name": "202601011200",
    "seed": 0,
    "debug": False,
    "train": {"batch_size": 16, "epochs": 100, "lr": 1e-4, "betas": [0.5, 0.999]},
    "finetune": {"steps": 1000, "target": "person.mp4"},
    "extra": None,
}


def write(tmp_path, text, name="my.yaml"):
    path = tmp_path / name
    path.write_text(text)
    return str(path)


def test_merge_nested_values_keeps_other_defaults():
    merged = merge_config(DEFAULTS, {"train": {"lr": 2e-4, "betas": (0.0, 0.9)}})
    assert merged["train"] == {"batch_size": 16, "epochs": 100, "lr": 2e-4,
                               "betas": [0.0, 0.9]}
    assert merged["finetune"] == DEFAULTS["finetune"]
    assert DEFAULTS["train"]["lr"] == 1e-4  # defaults untouched
    merged["finetune"]["steps"] = 1
    assert DEFAULTS["finetune"]["steps"] == 1000


def test_int_accepted_for_float_and_converted():
    merged = merge_config(DEFAULTS, {"train": {"lr": 1}})
    assert merged["train"]["lr"] == 1.0 and isinstance(merged["train"]["lr"], float)


def test_unknown_key_names_dotted_key_source_and_choices():
    with pytest.raises(UserError) as err:
        merge_config(DEFAULTS, {"train": {"lrr": 1.0}}, source="my.yaml")
    assert str(err.value) == ("my.yaml: unknown key 'train.lrr'; valid keys under "
                              "'train': batch_size, betas, epochs, lr")


def test_unknown_top_level_key():
    with pytest.raises(UserError, match=r"unknown key 'trian'.*top level.*finetune"):
        merge_config(DEFAULTS, {"trian": {}}, source="x.yaml")


def test_new_nested_section_is_an_error():
    with pytest.raises(UserError, match=r"unknown key 'train.schedule'"):
        merge_config(DEFAULTS, {"train": {"schedule": {"step": 10}}})


@pytest.mark.parametrize("override, expected", [
    ({"train": {"batch_size": 1.5}}, "an integer"),
    ({"train": {"batch_size": True}}, "an integer"),
    ({"debug": 1}, "a boolean"),
    ({"train": {"lr": "fast"}}, "a number"),
    ({"finetune": {"target": 3}}, "a string"),
    ({"train": {"betas": 0.5}}, "a list"),
    ({"finetune": 5}, "a mapping"),
])
def test_wrong_type_names_key_type_value_and_file(override, expected):
    with pytest.raises(UserError) as err:
        merge_config(DEFAULTS, override, source="bad.yaml")
    message = str(err.value)
    assert message.startswith("bad.yaml: key '")
    assert expected in message


def test_wrong_type_message_content():
    with pytest.raises(UserError) as err:
        merge_config(DEFAULTS, {"train": {"lr": "fast"}}, source="bad.yaml")
    assert str(err.value) == "bad.yaml: key 'train.lr' expects a number, got 'fast' (str)"


def test_null_disables_section_and_none_default_accepts_anything():
    merged = merge_config(DEFAULTS, {"finetune": None, "extra": {"anything": [1, 2]}})
    assert merged["finetune"] is None
    assert merged["extra"] == {"anything": [1, 2]}


def test_load_yaml_errors(tmp_path):
    with pytest.raises(UserError, match="config file .*nope.yaml not found"):
        load_yaml(str(tmp_path / "nope.yaml"))
    bad = write(tmp_path, "train:\n  lr: 1\n bad: [\n")
    with pytest.raises(UserError, match=r"my.yaml: invalid YAML at line \d+"):
        load_yaml(bad)
    with pytest.raises(UserError, match="top level must be a mapping"):
        load_yaml(write(tmp_path, "- 1\n- 2\n", "list.yaml"))
    assert load_yaml(write(tmp_path, "", "empty.yaml")) == {}


def test_load_config_merges_file_and_info(tmp_path):
    path = write(tmp_path, "train:\n  lr: 3.0e-4\nfinetune: null\n")
    config = load_config(DEFAULTS, path, info="test")
    assert config["train"]["lr"] == 3e-4
    assert config["finetune"] is None
    assert config["experiment_name"] == "202601011200_test"
    assert load_config(DEFAULTS)["experiment_name"] == "202601011200"


def test_load_config_error_names_file(tmp_path):
    path = write(tmp_path, "train:\n  epochz: 3\n")
    with pytest.raises(UserError, match=r"my.yaml: unknown key 'train.epochz'"):
        load_config(DEFAULTS, path)


def test_arguments_accept_config_alias():
    parser = add_config_arguments(argparse.ArgumentParser())
    args = parser.parse_args(["--config", "a.yaml", "--context", "cpu", "--device-id", "1",
                              "--resume", "--info", "run"])
    assert (args.conf, args.context, args.device_id, args.resume, args.info) == \
        ("a.yaml", "cpu", 1, True, "run")
    # Without the flags, the config's context and device_id apply.
    args = parser.parse_args(["--conf", "b.yaml"])
    assert (args.conf, args.context, args.device_id, args.resume) == \
        ("b.yaml", None, None, None)
    args = parser.parse_args(["--resume", "tmp.monitor/encoder/run1"])
    assert args.resume == "tmp.monitor/encoder/run1"


def test_training_info_round_trip(tmp_path):
    config = merge_config(DEFAULTS, {"train": {"betas": (0.1, 0.2)}})
    path = save_training_info(config, str(tmp_path / "run"))
    assert path == str(tmp_path / "run" / "training_info.yaml")
    assert read_training_info(path) == config
    text = open(path).read()
    assert text.index("debug") < text.index("experiment_name")  # sorted keys
    assert yaml.safe_load(text)["train"]["betas"] == [0.1, 0.2]
    assert [n for n in os.listdir(tmp_path / "run") if n.startswith(".tmp")] == []


def test_read_training_info_errors(tmp_path):
    with pytest.raises(UserError, match="not found"):
        read_training_info(str(tmp_path / "missing.yaml"))
    with pytest.raises(UserError, match="invalid YAML"):
        read_training_info(write(tmp_path, "a: [\n", "training_info.yaml"))


# ---------------------------------------------------------------- the public port's files

PORT_CONFIGS = os.path.join(os.path.dirname(os.path.abspath(__file__)), "data", "port_configs")


@pytest.mark.parametrize("name", ["encoder", "transformer", "decoder"])
def test_the_ports_training_info_files_load_with_one_notice(name, capsys):
    defaults = importlib.import_module("config.config_" + name).config
    path = os.path.join(PORT_CONFIGS, name + ".yaml")
    port = load_yaml(path)
    config = merge_config(defaults, port, source=path)
    notice = capsys.readouterr().out
    # The keys without effect are named once and left out of the config.
    assert notice.count("note:") == 1 and path in notice
    for key in ("train.with_memory_cache", "test.with_file_cache"):
        assert key in notice
        section, leaf = key.split(".")
        assert leaf not in config[section]
    assert "use_reference" in notice if name == "encoder" else "use_reference" not in notice
    # The keys that do something keep the port's values.
    assert (config["context"], config["device_id"]) == ("cudnn", 0)
    assert config["train"]["batch_size"] == port["train"]["batch_size"]
    if "preprocess" in port:  # the port's int form of a square size
        assert port["preprocess"]["gaussian_kernel"] == 5
        assert config["preprocess"]["gaussian_kernel"] == [5, 5]
        assert config["preprocess"]["resize_size"] == [64, 64]


def test_a_number_for_a_size_pair_means_both_sides_but_not_for_other_lists():
    defaults = {"size": [64, 64], "betas": [0.5, 0.999]}
    assert merge_config(defaults, {"size": 32})["size"] == [32, 32]
    with pytest.raises(UserError, match="key 'betas' expects a list"):
        merge_config(defaults, {"betas": 0.5})
    with pytest.raises(UserError, match="key 'size' expects a list"):
        merge_config(defaults, {"size": 32.5})


def test_port_keys_elsewhere_are_still_unknown():
    # Only the port's own places are accepted: a cache flag in a section the
    # port never had is a typo here as anywhere.
    with pytest.raises(UserError, match="unknown key 'finetune.with_memory_cache'"):
        merge_config(DEFAULTS, {"finetune": {"with_memory_cache": False}})


def test_context_comes_from_the_config_unless_a_flag_is_given(tmp_path):
    from utils.training_run import config_for_run
    defaults = dict(DEFAULTS, context="cudnn", device_id=0)
    conf = write(tmp_path, "context: cpu\ndevice_id: 2\n")
    parser = add_config_arguments(argparse.ArgumentParser())
    config, _ = config_for_run(defaults, parser.parse_args(["--conf", conf]))
    assert (config["context"], config["device_id"]) == ("cpu", 2)
    config, _ = config_for_run(defaults, parser.parse_args(
        ["--conf", conf, "--context", "cudnn", "--device-id", "1"]))
    assert (config["context"], config["device_id"]) == ("cudnn", 1)


def test_a_run_of_the_wrong_kind_is_named_with_both_kinds():
    from utils.config import check_run_kind
    with pytest.raises(UserError, match="run.yaml is the training info of an encoder run; "
                                        "this needs a decoder run"):
        check_run_kind({"dataset_mode": "encoder"}, "decoder", "run.yaml")
    with pytest.raises(UserError, match="of a ganimation run; this needs a transformer run"):
        check_run_kind({"model": {"g_conv_dim": 64}}, "transformer", "run.yaml")
    check_run_kind({"dataset_mode": "decoder"}, "decoder", "run.yaml")
    check_run_kind({}, "decoder", "run.yaml")  # unknown kind: the key check decides
