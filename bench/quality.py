"""Segmentation quality on the real data in ../shared/data, beside published figures (issue #4).

    python bench/quality.py                                  # all four sets, default budgets
    python bench/quality.py --only isbi --minutes 0.3 --json # a quick check

- isbi: a from-scratch UNet (1 input channel) trained on slices 00-14 only, with flips in both
  directions; ``val_fraction=0`` and no early stopping, so slices 15-19 are never seen and never
  choose the model (the loop validates on the training slices). Evaluated on slices 15-19.
  Native scale throughout, so that the thin membranes are never blurred by a resize: the
  training slices are cached at their own 512 px, training crops cover 20-31% of a slice and
  are resized to 256 px (0.9x-1.1x native scale, plus rotations up to 15 degrees), and
  prediction runs in "tile" mode, which works at native resolution (one 512 px tile). Each
  slice appears 4 times per epoch with fresh random crops. ISBI pixel error = 1 - the F-score
  of the cell pixels (the challenge's definition, at the model's decision); wrong pixels =
  1 - pixel accuracy.
- camvid: a from-scratch UNet trained on ``camvid/train`` (class weights from the pixel
  counts; 10% of the 367 images held out to pick the best epoch, so validating costs little),
  evaluated on the 101 ``camvid/val`` images; 11 classes, "Unlabelled" ignored in loss and
  metrics.
- pets, carvana: the shipped starter models (``models/<name>.safetensors``) on the validation
  images recorded in each model file; ``--retrain`` first retrains them with the recipe of
  ``scripts/train_starter_models.py`` into a temporary folder (``--minutes`` then scales the
  recipe's stage budgets to that total).

All evaluation is at full resolution with ``commands.evaluate.evaluate_workspace``; trained
models live in a temporary folder and are deleted afterwards. Training progress goes to stderr.
Published anchors are on other splits (ISBI: the challenge's 30 test slices; CamVid: the
233-image test split), so they are context, not a like-for-like comparison.
"""

from __future__ import annotations

import argparse
import contextlib
import dataclasses
import importlib.util
import json
import sys
import tempfile
import time
from dataclasses import dataclass, field
from pathlib import Path
from types import ModuleType

import torch
from machine_info import cpu_name

from unet_desktop.commands.evaluate import evaluate_workspace
from unet_desktop.core.folder.workspace import ImageEntry, Workspace
from unet_desktop.core.labels import binary_scheme, camvid_scheme
from unet_desktop.ml.device import pick_device
from unet_desktop.ml.inference.predictor import Predictor
from unet_desktop.ml.models.architecture import unet_arch
from unet_desktop.ml.models.modelfile import read_meta
from unet_desktop.ml.reports import EpochReport, FinalReport
from unet_desktop.ml.training.augment import AugmentOptions
from unet_desktop.ml.training.dataset import SampleSet, load_workspace_sample
from unet_desktop.ml.training.train import TrainConfig, train

ROOT = Path(__file__).resolve().parents[1]
DATA = ROOT.parent / "shared" / "data"
SETS = ("isbi", "camvid", "pets", "carvana")
DEFAULT_MINUTES = {"isbi": 10.0, "camvid": 25.0}  # pets/carvana --retrain: the recipe's own
DEFAULT_EPOCHS = {"isbi": 400, "camvid": 100}  # caps; the time budget normally ends a run first
CAMVID_SELECT = 0.1  # of camvid/train, held out to pick the best epoch (never camvid/val)
ISBI_TRAIN, ISBI_SIDE, ISBI_CROP, ISBI_REPEAT = range(15), 512, 256, 4
STARTERS = {"pets": "pets-trimap", "carvana": "carvana-binary"}
STARTER_DATA = {"pets": "Oxford-IIIT Pet trimaps", "carvana": "Carvana (binary)"}


@dataclass(frozen=True)
class Anchor:
    value: float
    source: str
    at_least: bool = False  # a target to reach rather than a published figure


@dataclass
class Row:
    dataset: str
    split: str
    model: str
    training: str
    metric: str
    ours: float | None
    anchors: list[Anchor] = field(default_factory=list)
    note: str = ""


@dataclass(frozen=True)
class Trained:
    path: Path
    minutes: float
    epochs: int

    @property
    def cell(self) -> str:
        return f"{self.minutes:.1f} min, {self.epochs} epoch{'s' * (self.epochs != 1)}"


# --- training and evaluation (the project's own code) ----------------------------------------
def train_model(tag: str, data: Workspace | SampleSet, config: TrainConfig) -> Trained:
    """Run the project's training loop; progress to stderr. Returns the saved (best) model."""
    start, final = time.monotonic(), None
    for report in train(data, config):
        if isinstance(report, EpochReport):
            print(f"{tag}: epoch {report.epoch}/{report.epochs} loss {report.train_loss:.4f} "
                  f"(model-selection mIoU {report.val.get('miou') or 0:.3f})", file=sys.stderr,
                  flush=True)
        elif isinstance(report, FinalReport):
            final = report
    if final is None or final.model_path is None:
        raise RuntimeError(f"{tag}: training saved no model")
    return Trained(final.model_path, (time.monotonic() - start) / 60, final.epochs_run)


def evaluate(model: Path, workspace: Workspace, entries: list[ImageEntry], device: str,
             **options) -> dict:
    """Full-resolution metrics of ``model`` ("resize" mode) on ``entries`` of ``workspace``."""
    if not entries:
        raise ValueError(f"{workspace.root}: no images to evaluate {model.name} on")
    predictor = Predictor.from_file(model, device=device, **options)
    return evaluate_workspace(predictor, workspace, entries)


def arch_cell(model: Path) -> str:
    arch = read_meta(model).arch
    if arch["name"] == "resnet_unet":
        net = f"{arch.get('encoder', 'resnet34')} UNet, width {arch.get('width', 64)}"
    else:
        net = f"UNet depth {arch['depth']} base {arch['base']}"
    return f"{net}, {arch['in_channels']} ch, from scratch"


def budget(args: argparse.Namespace, name: str) -> tuple[float, int]:
    minutes = args.minutes if args.minutes is not None else DEFAULT_MINUTES[name]
    return minutes, args.epochs or DEFAULT_EPOCHS[name]


# --- ISBI 2012 -------------------------------------------------------------------------------
def slice_number(entry: ImageEntry) -> int:
    return int(Path(entry.key).stem.rsplit("_", 1)[-1])


def run_isbi(args: argparse.Namespace, tmp: Path) -> list[Row]:
    ws = Workspace.open(DATA / "isbi2012", binary_scheme(("membrane", "cell")))
    entries = sorted(ws.entries, key=slice_number)
    train_entries = [e for e in entries if slice_number(e) in ISBI_TRAIN]
    test_entries = [e for e in entries if slice_number(e) not in ISBI_TRAIN]
    native = [load_workspace_sample(ws, e, in_channels=1) for e in train_entries]
    # Each slice several times per epoch (fresh random crops each time), so that an epoch is a
    # few optimisation steps rather than one validation per step.
    samples = [dataclasses.replace(sample, key=f"{sample.key}#{copy}")
               for copy in range(ISBI_REPEAT) for sample in native]
    minutes, epochs = budget(args, "isbi")
    side = (ISBI_CROP / ISBI_SIDE) ** 2  # crops of about 256 px of the 512 px slice: native scale
    config = TrainConfig(
        out=tmp / "isbi.safetensors", arch=unet_arch(1, 2, depth=4, base=16), size=ISBI_CROP,
        epochs=epochs, max_minutes=minutes, batch_size=8, cache_side=ISBI_SIDE,
        val_fraction=0.0, patience=None, class_weights="auto", seed=args.seed,
        device=args.device, name="isbi-bench",
        augment=AugmentOptions(min_scale=0.8 * side, max_scale=1.25 * side, vflip=True,
                               max_rotation=15.0, saturation=0.0, hue=0.0),
    )
    trained = train_model("isbi", SampleSet(samples, ws.scheme, str(ws.root)), config)
    # Tile mode predicts at native resolution whatever the training scale (one 512 px tile).
    metrics = evaluate(trained.path, ws, test_entries, args.device, mode="tile",
                       tile_size=ISBI_SIDE)
    common = {"dataset": "ISBI 2012 EM", "model": arch_cell(trained.path),
              "training": trained.cell,
              "split": f"train slices 00-14, eval 15-19 ({len(test_entries)} x 512², native)"}
    paper = Anchor(0.0611, "U-Net paper (Ronneberger et al. 2015), challenge test set: "
                           "30 other slices")
    return [
        Row(**common, metric="ISBI pixel error: 1 - cell F-score (lower is better)",
            ours=metrics["isbi_pixel_error"], anchors=[paper]),
        Row(**common, metric="wrong pixels (lower is better)", ours=1 - metrics["pixel_accuracy"]),
        Row(**common, metric="membrane IoU", ours=metrics["iou"]["membrane"]),
        Row(**common, metric="mean Dice (membrane, cell)", ours=metrics["mdice"]),
    ]


# --- CamVid ----------------------------------------------------------------------------------
def run_camvid(args: argparse.Namespace, tmp: Path) -> list[Row]:
    train_ws = Workspace.open(DATA / "camvid" / "train", camvid_scheme())
    val_ws = Workspace.open(DATA / "camvid" / "val", camvid_scheme())
    minutes, epochs = budget(args, "camvid")
    config = TrainConfig(
        out=tmp / "camvid.safetensors", arch=unet_arch(3, 11, depth=4, base=16), size=256,
        epochs=epochs, max_minutes=minutes, batch_size=8, val_fraction=CAMVID_SELECT,
        patience=None, class_weights="auto", all_masks=True, seed=args.seed, device=args.device,
        name="camvid-bench",
    )
    trained = train_model("camvid", train_ws, config)
    entries = [e for e in val_ws.entries if e.mask_path.is_file()]
    metrics = evaluate(trained.path, val_ws, entries, args.device)
    test_split = "CamVid test split (233 images), 360x480"
    return [Row(
        "CamVid (11 classes)",
        f"train {len(train_ws)} (10% of it picks the epoch) / val {len(entries)}",
        arch_cell(trained.path) + ", 256 px", trained.cell, "mIoU (Unlabelled ignored)",
        metrics["miou"],
        [Anchor(0.502, f"SegNet (Badrinarayanan et al., TPAMI 2017), {test_split}"),
         Anchor(0.498, f"from-scratch U-Net (issue #4), {test_split}")],
    )]


# --- starter models (pets, carvana) ----------------------------------------------------------
def starter_script() -> ModuleType:
    """``scripts/train_starter_models.py`` as a module (for its recipes and training)."""
    path = ROOT / "scripts" / "train_starter_models.py"
    spec = importlib.util.spec_from_file_location("train_starter_models", path)
    if spec is None or spec.loader is None:
        raise ImportError(f"{path}: cannot load the starter-model script")
    module = importlib.util.module_from_spec(spec)
    sys.modules[spec.name] = module  # dataclasses look their module up while being defined
    spec.loader.exec_module(module)
    return module


def retrain_starter(script: ModuleType, name: str, args: argparse.Namespace,
                    tmp: Path) -> Trained:
    """The recipe's stages (budgets scaled to ``--minutes`` if given) into ``tmp``."""
    recipe = script.RECIPES[name]
    if args.minutes is not None:
        total = sum(stage.max_minutes for stage in recipe.stages)
        recipe = dataclasses.replace(recipe, stages=[
            dataclasses.replace(stage, max_minutes=stage.max_minutes * args.minutes / total)
            for stage in recipe.stages])
    out = tmp / f"{name}.safetensors"
    start = time.monotonic()
    with contextlib.redirect_stdout(sys.stderr):  # the script prints its progress
        script.train_recipe(name, recipe, out, args.device, args.seed)
    stage_files = [out.with_name(f"{out.stem}.stage{n}{out.suffix}")
                   for n in range(1, len(recipe.stages))] + [out]
    epochs = sum(len(read_meta(f).metrics.get("history") or []) for f in stage_files)
    return Trained(out, (time.monotonic() - start) / 60, epochs)


def starter_anchors(dataset: str) -> dict[str, list[Anchor]]:
    founders = ("classic from-scratch UNet (base 16, 128 px, Adam, flips, 20 CPU-minutes), "
                "measured by the project's founders on this machine, on pets of unseen breeds")
    if dataset == "pets":
        return {
            "miou": [Anchor(0.70, "target (issue #4)", at_least=True), Anchor(0.64, founders),
                     Anchor(0.68, "from-scratch UNet at 128 px (data README)")],
            "pet_iou": [Anchor(0.85, "target (issue #4)", at_least=True),
                        Anchor(0.76, founders),
                        Anchor(0.91, "ImageNet-pretrained FPN/ResNet34, 256 px (data README)")],
        }
    return {"foreground_dice": [Anchor(0.98, "target (issue #4)", at_least=True)]}


METRIC_NAMES = {"miou": "mIoU (3 classes)", "pet_iou": "pet IoU (border ignored)",
                "foreground_dice": "foreground Dice"}


def run_starter(dataset: str, args: argparse.Namespace, tmp: Path, script: ModuleType
                ) -> list[Row]:
    name = STARTERS[dataset]
    recipe = script.RECIPES[name]
    anchors = starter_anchors(dataset)
    shipped = ROOT / "models" / f"{name}.safetensors"
    if args.retrain:
        trained = retrain_starter(script, name, args, tmp)
        model, training = trained.path, f"retrained: {trained.cell}"
    elif shipped.is_file():
        model = shipped
        history = read_meta(model).metrics.get("history") or []
        training = f"shipped model (last stage {len(history)} epochs)"
    else:
        note = (f"missing: make it with `python scripts/train_starter_models.py {name}`, "
                "or run this with --retrain")
        return [Row(STARTER_DATA[dataset], "-", f"models/{name}.safetensors", "-", METRIC_NAMES[key], None,
                    values, note) for key, values in anchors.items()]
    meta = read_meta(model)
    metrics = script.evaluate_full_resolution(model, recipe, args.device)
    figures = script.headline(metrics, meta.scheme)
    split = (f"val {metrics['images']} of {meta.data_summary.get('images', '?')} "
             f"({'by car' if recipe.group_by_prefix else 'seeded, by image'})")
    return [Row(STARTER_DATA[dataset], split, f"{name} ({arch_cell(model)})", training, METRIC_NAMES[key],
                figures[key], values) for key, values in anchors.items()]


# --- output ----------------------------------------------------------------------------------
def header(device: torch.device, seed: int) -> dict:
    gpu = torch.cuda.get_device_name(device) if device.type == "cuda" else None
    return {"device": gpu or str(device), "threads": torch.get_num_threads(),
            "torch": torch.__version__, "cpu": cpu_name(), "seed": seed}


def _value(value: float | None) -> str:
    return "-" if value is None else f"{value:.3f}"


def _anchor(anchor: Anchor) -> str:
    return f"≥ {anchor.value:.3f}" if anchor.at_least else f"{anchor.value:.4g}"


COLUMNS = ("data set", "split", "model", "training (min, epochs)", "metric", "ours", "anchor",
           "anchor source")


def markdown(rows: list[Row]) -> str:
    """One line per anchor. A metric's first line carries its own cells; split, model and
    training are left blank where they repeat the line above."""
    lines = ["| " + " | ".join(COLUMNS) + " |", "|" + "---|" * len(COLUMNS)]
    previous: list[str] = []
    for row in rows:
        own = [row.dataset, row.split, row.model, row.training, row.metric, _value(row.ours)]
        shown = list(own)
        if previous[:4] == own[:4]:
            shown[1:4] = ["", "", ""]
        previous = own
        for i, anchor in enumerate(row.anchors or [None]):
            cells = shown if i == 0 else [""] * len(own)
            source = anchor.source if anchor else ""
            if row.note and i == 0:
                source = f"{source} ({row.note})" if source else row.note
            cells = [*cells, _anchor(anchor) if anchor else "-", source]
            lines.append("| " + " | ".join(cells) + " |")
    return "\n".join(lines)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--only", nargs="+", choices=SETS, default=list(SETS))
    parser.add_argument("--minutes", type=float, help="training budget per trained set "
                        f"(default: {DEFAULT_MINUTES}; the recipe's own for --retrain)")
    parser.add_argument("--epochs", type=int, help=f"epoch cap (default: {DEFAULT_EPOCHS})")
    parser.add_argument("--device", default="auto", help="auto, cpu, cuda, cuda:N or mps")
    parser.add_argument("--threads", type=int, help="torch CPU threads (default: torch's)")
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument("--retrain", action="store_true",
                        help="retrain the pets/carvana starter models instead of evaluating "
                             "the shipped ones")
    parser.add_argument("--json", action="store_true")
    args = parser.parse_args(argv)
    if args.minutes is not None and args.minutes <= 0:
        parser.error("--minutes must be > 0")
    if args.threads:
        torch.set_num_threads(args.threads)
    torch.manual_seed(args.seed)
    device = pick_device(args.device)
    args.device = str(device)
    script = starter_script()
    rows: list[Row] = []
    with tempfile.TemporaryDirectory(prefix="unet-quality-") as tmp:
        for name in [s for s in SETS if s in args.only]:
            if name == "isbi":
                rows += run_isbi(args, Path(tmp))
            elif name == "camvid":
                rows += run_camvid(args, Path(tmp))
            else:
                rows += run_starter(name, args, Path(tmp), script)
    info = header(device, args.seed)
    if args.json:
        print(json.dumps({**info, "rows": [dataclasses.asdict(r) for r in rows]}, indent=2))
    else:
        print(f"device {info['device']}, {info['threads']} threads, torch {info['torch']}, "
              f"CPU {info['cpu']}, seed {info['seed']}")
        print(markdown(rows))
    return 0


if __name__ == "__main__":
    sys.exit(main())
