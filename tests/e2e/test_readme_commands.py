"""Every command in the README's examples runs as written, in order, on the real data.

The examples are the fenced blocks marked ``<!-- cli-examples ... -->`` (shell: each line that
starts with ``unet-desktop `` with its ``\\`` continuation lines) and ``<!-- python-example ...
-->`` (run with ``exec``). They run in a temp folder whose ``../shared`` links to the real
``shared/`` beside the checkout, so ``../shared/data/...`` resolves as it does from the repository
root and everything the examples write lands in the temp folder. The commands run in this process
(``cli.main``) so torch is imported once; the installed ``unet-desktop`` script itself is run by
``test_wheel_install.py``.
"""

from __future__ import annotations

import re
import shlex
import time
from pathlib import Path

import pytest
import torch

from unet_desktop.cli import main

README = Path(__file__).resolve().parents[2] / "README.md"
OUTPUT_OPTIONS = ("--out", "--onnx")


def fenced_block_after(text: str, marker: str, language: str) -> str:
    """The body of the first ```language block after the comment that starts with ``marker``."""
    at = text.find(f"<!-- {marker}")
    assert at >= 0, f"README.md: no '<!-- {marker}' comment"
    match = re.compile(rf"^```{language}\n(.*?)^```", re.DOTALL | re.MULTILINE).search(text, at)
    assert match is not None, f"README.md: no ```{language} block after '<!-- {marker}'"
    return match.group(1)


def cli_examples(text: str) -> list[str]:
    """The ``unet-desktop ...`` commands of the marked block, continuation lines joined."""
    commands: list[str] = []
    pending = ""
    for line in fenced_block_after(text, "cli-examples", "bash").splitlines():
        line = pending + " " + line.strip() if pending else line.strip()
        if line.endswith("\\"):
            pending = line[:-1].rstrip()
            continue
        pending = ""
        if line.startswith("unet-desktop "):
            commands.append(line)
    assert not pending, "README.md: the last example ends with a '\\'"
    return commands


def output_paths(argv: list[str]) -> list[str]:
    return [argv[i + 1] for i, arg in enumerate(argv[:-1]) if arg in OUTPUT_OPTIONS]


def test_the_examples_cover_every_scripted_command():
    commands = cli_examples(README.read_text(encoding="utf-8"))
    used = {shlex.split(c, comments=True)[1] for c in commands}
    assert used == {"train", "predict", "evaluate", "info", "export"}
    assert any("\\" in line for line in README.read_text(encoding="utf-8").splitlines()
               if line.startswith("unet-desktop train ../shared/data/camvid"))
    joined = [c for c in commands if "camvid/train" in c]
    assert joined and joined[0].endswith("--size 64 --epochs 1")  # continuation was joined
    for command in commands:  # nothing written outside the folder the examples run in
        for path in output_paths(shlex.split(command, comments=True)):
            assert not Path(path).is_absolute() and ".." not in Path(path).parts, command


@pytest.fixture
def beside_shared(tmp_path, shared_data, monkeypatch) -> Path:
    (tmp_path / "shared").symlink_to(shared_data.parent, target_is_directory=True)
    work = tmp_path / "work"
    work.mkdir()
    monkeypatch.chdir(work)
    threads = torch.get_num_threads()
    torch.set_num_threads(1)  # two cores shared with other jobs: one is faster than two
    yield work
    torch.set_num_threads(threads)


@pytest.mark.timeout(900)  # a dozen real trainings and predictions on a shared 2-core CPU
def test_readme_examples_run_as_written(beside_shared, shared_data, capsys):
    text = README.read_text(encoding="utf-8")
    timings = []
    for command in cli_examples(text):
        argv = shlex.split(command, comments=True)
        start = time.perf_counter()
        code = main(argv[1:])
        timings.append((time.perf_counter() - start, command))
        captured = capsys.readouterr()
        assert code == 0, f"{command}\nexit {code}\n{captured.err[-3000:]}"
        for path in output_paths(argv):
            assert (beside_shared / path).exists(), f"{command}: wrote no {path}"

    images = list((shared_data / "isbi2012" / "images").glob("*.png"))
    assert len(list((beside_shared / "isbi-masks").glob("*.png"))) == len(images) == 20

    namespace: dict = {}
    example = compile(fenced_block_after(text, "python-example", "python"), "README.md", "exec")
    exec(example, namespace)  # noqa: S102 - running the README's own example is the point
    result = namespace["result"]
    assert result.labels.shape == namespace["image"].shape == (512, 512)
    assert set(result.labels.flat) <= {0, 255} and result.probs.shape == (2, 512, 512)
    with capsys.disabled():
        print("\nREADME examples:", *(f"  {s:5.1f} s  {c}" for s, c in timings), sep="\n")
