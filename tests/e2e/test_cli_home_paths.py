"""``~`` in a path argument is the home folder for every command: a quoted ``"~/x"`` or
``--out=~/x`` (zsh, scripts) reached the commands unexpanded, so predict wrote into a folder
named ``~`` under the current one and an input ``~/data`` was "no such file or folder"."""

from __future__ import annotations

import argparse
from pathlib import Path

import numpy as np
import pytest
import torch
from PIL import Image

from unet_desktop import cli
from unet_desktop.core.labels import trimap_scheme
from unet_desktop.ml.models.architecture import build_model, unet_arch
from unet_desktop.ml.models.modelfile import ModelMeta, new_version_id, save_model


@pytest.fixture
def home(tmp_path, monkeypatch) -> Path:
    home = tmp_path / "home"
    home.mkdir()
    monkeypatch.setenv("HOME", str(home))
    monkeypatch.chdir(tmp_path)
    return home


def path_actions(parser: argparse.ArgumentParser) -> dict[str, list[argparse.Action]]:
    """Each command's arguments that take a path."""
    commands = parser._subparsers._group_actions[0].choices
    return {name: [a for a in sub._actions if a.type is Path] for name, sub in commands.items()}


def test_every_path_argument_of_every_command_expands_home(home, monkeypatch):
    seen: dict[str, argparse.Namespace] = {}
    build = cli.build_parser

    def record(args: argparse.Namespace) -> int:
        seen[args.command] = args
        return 0

    def parser_that_only_records() -> argparse.ArgumentParser:
        parser = build()
        for sub in parser._subparsers._group_actions[0].choices.values():
            sub.set_defaults(run=record)
        return parser

    monkeypatch.setattr(cli, "build_parser", parser_that_only_records)
    actions = path_actions(build())
    assert {"predict", "train", "evaluate", "info", "export"} <= set(actions)
    for name, paths in actions.items():
        argv = [name]
        for action in paths:
            given = f"~/{action.dest}"
            argv += [given] if not action.option_strings else [f"{action.option_strings[0]}={given}"]
        assert cli.main(argv) == 0
        assert {a.dest: getattr(seen[name], a.dest) for a in paths} == {
            a.dest: home / a.dest for a in paths}, name


def test_predict_out_in_quoted_home_lands_in_the_home_folder(home, tmp_path, capsys):
    torch.manual_seed(0)
    meta = ModelMeta(arch=unet_arch(3, 3, depth=2, base=4), scheme=trimap_scheme(),
                     normalization={"mean": [0.5] * 3, "std": [0.25] * 3}, train_size=32,
                     version=new_version_id(), name="home-test")
    save_model(home / "m.safetensors", build_model(meta.arch), meta)
    (home / "data").mkdir()
    image = np.random.default_rng(0).integers(0, 256, (32, 32, 3), dtype=np.uint8)
    Image.fromarray(image).save(home / "data" / "a.png")
    code = cli.main(["predict", "~/data", "--out=~/preds", "--model", "~/m.safetensors",
                     "--device", "cpu"])
    assert code == 0, capsys.readouterr().err
    assert (home / "preds" / "a.png").is_file()
    assert not (tmp_path / "~").exists()
