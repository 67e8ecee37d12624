"""PyTorch reference for bench/models.ts: ms per Adam training step of the same models.

    .venv/bin/python bench/pytorch_step.py --threads N --reps R [--warmup W] [--only SUBSTR]
        [--device cpu|cuda] [--batch-sizes 64,256,1024]

For each case: W warm-up steps (default 3), then R timed steps (time.perf_counter); one step is
zero_grad → forward → loss → backward → optimizer.step in model.train() mode, on random inputs.
stdout gets exactly one line, a JSON list of
{"model", "batchSize", "msPerStep", "params", "device", "error"?}, "model" being the name of the
case in bench/models.ts (BENCH_CASES); progress and the parameter-count check go to stderr.

`--device cuda` runs on the first CUDA GPU (the GPU run kit's anchor, scripts/gpu/README.md): the
timed region starts and ends with torch.cuda.synchronize(), since CUDA kernels run
asynchronously; cuDNN's autotuner stays at PyTorch's default (off). `--batch-sizes` times each
selected case at each of these B (ascending) instead of its own; after a B that runs out of GPU
memory the case's larger B are recorded as not run ("error": "skipped: B=… ran out of memory").

What each model mirrors (layer shapes and parameter counts as the tfjs models):

- "CNN conv32-pool-conv64-gap-dense 28x28x1", B 64: lib/models/small.ts `gapCnn`.
- "MLP 784-256-256-10", B 256: lib/models/small.ts `mlp` (hidden [256, 256]).
- "MBConv+SE block 32x32x16", B 64: lib/models/small.ts `mbconvBlockModel` (expand 6); its
  block is the same as an EfficientNet MBConv block (k 3, stride 1, SE 0.25, no drop-connect),
  so `MBConv` below serves both.
- "embedding LM vocab 65 dim 64 ctx 64", B 128: lib/models/small.ts `embeddingLm`.
- "EfficientNet-B0 32x32x3", B 64: lib/models/efficientnet.ts `efficientNetB0` (10 classes,
  no preprocessing stem — the TS default), Keras layout: drop-connect 0.2·b/16 on block b's
  residual branch (whole examples, as Keras's Dropout(noise_shape=(None, 1, 1, 1))) and
  dropout 0.2 before the classifier, both active in training; TensorFlow "same" padding,
  asymmetric for the stride-2 convs (see `Conv2dSame`).
- "GPT char LM ctx 128 (L4 h4 d128)", B 64: lib/models/gpt.ts `gptLm` (vocabulary 65, context
  128, 4 pre-LN blocks, 4 heads, width 128, dropout 0 as in the benchmark): learned position
  table, LayerNorm ε 1e-5, exact (erf) GELU, untied head with bias, attention as
  lib/models/layers.ts `CausalSelfAttention` (explicit T×T scores + additive −1e9 causal mask +
  softmax, not a fused attention kernel, so both do the same arithmetic).
- "main-job CNN (smallCnn) 28x28x1", B 64: lib/models/small.ts `smallCnn` (no tfjs case).

Loss: softmax cross-entropy on logits, mean over examples (LMs: mean over all tokens, which is
languageModelTask's per-example mean over positions averaged over the batch). Optimizer: Adam,
lr 1e-3, β (0.9, 0.999), ε 1e-7 (tfjs's default ε; PyTorch's is 1e-8).

Departures from the tfjs side:
- BatchNorm: Keras/tfjs momentum 0.99 (weight of the old moving average) is PyTorch momentum
  0.01 (weight of the new batch statistic); ε 1e-3 as tfjs. PyTorch updates the running
  variance with the unbiased batch variance, tfjs-layers with the biased one (no effect on the
  step's cost).
- NCHW layout instead of tfjs's NHWC.
- Weights use PyTorch's default initialisers (not he-normal / glorot / N(0, 0.02)); the step's
  cost does not depend on the values. The GPT position table is N(0, 0.02) as in the TS code.
- batchwise's trainStep also computes the gradient's squared norm each step; not done here.
- "params" is the trainable count. The TS `countParams` also counts BN moving statistics
  (EfficientNet-B0 4,062,374 in all, 4,020,358 trainable; MBConv block 5,806 / 5,390); the
  stderr check compares both.
"""

import argparse
import json
import math
import sys
import time
from dataclasses import dataclass
from typing import Callable

import torch
import torch.nn.functional as F
from torch import nn

BN_MOMENTUM = 0.01  # = Keras/tfjs momentum 0.99 (see the docstring)
BN_EPSILON = 1e-3  # Keras/tfjs default


def batch_norm(channels: int) -> nn.BatchNorm2d:
    return nn.BatchNorm2d(channels, eps=BN_EPSILON, momentum=BN_MOMENTUM)


# --- lib/models/small.ts -----------------------------------------------------------------


def small_cnn(in_channels: int, classes: int) -> nn.Module:
    """`smallCnn`: conv3×3-32 ReLU → maxpool 2 → conv3×3-64 ReLU → maxpool 2 → dense 128 ReLU
    → dense classes ("valid" convs; 28×28 → 26 → 13 → 11 → 5, so 5·5·64 features)."""
    return nn.Sequential(
        nn.Conv2d(in_channels, 32, 3),
        nn.ReLU(),
        nn.MaxPool2d(2),
        nn.Conv2d(32, 64, 3),
        nn.ReLU(),
        nn.MaxPool2d(2),
        nn.Flatten(),
        nn.Linear(5 * 5 * 64, 128),
        nn.ReLU(),
        nn.Linear(128, classes),
    )


def gap_cnn(in_channels: int, classes: int) -> nn.Module:
    """`gapCnn`: conv3×3-32 ReLU → maxpool 2 → conv3×3-64 ReLU → global average pool → dense."""
    return nn.Sequential(
        nn.Conv2d(in_channels, 32, 3),
        nn.ReLU(),
        nn.MaxPool2d(2),
        nn.Conv2d(32, 64, 3),
        nn.ReLU(),
        nn.AdaptiveAvgPool2d(1),
        nn.Flatten(),
        nn.Linear(64, classes),
    )


def mlp(in_features: int, classes: int, hidden: list[int]) -> nn.Module:
    """`mlp`: (dense h ReLU)* → dense classes."""
    layers: list[nn.Module] = []
    for h in hidden:
        layers += [nn.Linear(in_features, h), nn.ReLU()]
        in_features = h
    layers.append(nn.Linear(in_features, classes))
    return nn.Sequential(*layers)


def mbconv_block_model(channels: int, classes: int) -> nn.Module:
    """`mbconvBlockModel`: one MBConv+SE block (expand 6, k 3, stride 1, residual) → global
    average pool → dense classes."""
    return nn.Sequential(
        MBConv(channels, channels, kernel_size=3, stride=1, expand=6),
        nn.AdaptiveAvgPool2d(1),
        nn.Flatten(),
        nn.Linear(channels, classes),
    )


class EmbeddingLm(nn.Module):
    """`embeddingLm`: embedding [vocab, dim] → dense dim ReLU → dense vocab at every position;
    int64 [B, T] → logits [B, T, vocab]."""

    def __init__(self, vocab: int, dim: int):
        super().__init__()
        self.embedding = nn.Embedding(vocab, dim)
        self.hidden = nn.Linear(dim, dim)
        self.out = nn.Linear(dim, vocab)

    def forward(self, tokens: torch.Tensor) -> torch.Tensor:
        return self.out(F.relu(self.hidden(self.embedding(tokens))))


# --- lib/models/efficientnet.ts ----------------------------------------------------------


class Conv2dSame(nn.Conv2d):
    """Bias-free conv with TensorFlow's "same" padding. Stride 1 (odd k): the symmetric k//2,
    done by the conv itself. Stride 2: TF pads ⌊total/2⌋ before and the rest after (what Keras's
    `correct_pad` + "valid" gives), which PyTorch's symmetric padding cannot express, so
    `forward` pads explicitly."""

    def __init__(self, cin: int, cout: int, kernel_size: int, stride: int, groups: int = 1):
        padding = kernel_size // 2 if stride == 1 else 0
        super().__init__(cin, cout, kernel_size, stride, padding, groups=groups, bias=False)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        if self.stride[0] == 1:
            return super().forward(x)
        k, s = self.kernel_size[0], self.stride[0]
        pads: list[int] = []
        for size in (x.shape[-1], x.shape[-2]):  # F.pad takes the last dimension first
            total = max((math.ceil(size / s) - 1) * s + k - size, 0)
            pads += [total // 2, total - total // 2]
        return super().forward(F.pad(x, pads))


def drop_connect(x: torch.Tensor, rate: float, training: bool) -> torch.Tensor:
    """Keras's Dropout(rate, noise_shape=(None, 1, 1, 1)): drops whole examples of the residual
    branch and scales the rest by 1/(1 − rate), in training only."""
    if not training or rate == 0:
        return x
    keep = 1 - rate
    mask = torch.empty(x.shape[0], 1, 1, 1, dtype=x.dtype, device=x.device).bernoulli_(keep)
    return x * mask / keep


class MBConv(nn.Module):
    """EfficientNet's MBConv block with squeeze-and-excitation (ratio 0.25 of the input
    channels): [1×1 expand → BN → swish] → depthwise k×k/stride → BN → swish → SE → 1×1
    project → BN → [drop-connect → + input] (when stride 1 and cin = cout)."""

    def __init__(
        self,
        cin: int,
        cout: int,
        kernel_size: int,
        stride: int,
        expand: int,
        drop_rate: float = 0.0,
    ):
        super().__init__()
        c = cin * expand
        se = max(1, math.floor(cin * 0.25))
        self.expand = (
            nn.Sequential(nn.Conv2d(cin, c, 1, bias=False), batch_norm(c), nn.SiLU())
            if expand != 1
            else nn.Identity()
        )
        self.depthwise = nn.Sequential(
            Conv2dSame(c, c, kernel_size, stride, groups=c), batch_norm(c), nn.SiLU()
        )
        self.squeeze_excite = nn.Sequential(
            nn.AdaptiveAvgPool2d(1),
            nn.Conv2d(c, se, 1),
            nn.SiLU(),
            nn.Conv2d(se, c, 1),
            nn.Sigmoid(),
        )
        self.project = nn.Sequential(nn.Conv2d(c, cout, 1, bias=False), batch_norm(cout))
        self.residual = stride == 1 and cin == cout
        self.drop_rate = drop_rate

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        h = self.depthwise(self.expand(x))
        h = self.project(h * self.squeeze_excite(h))
        if self.residual:
            h = drop_connect(h, self.drop_rate, self.training) + x
        return h


# EfficientNet-B0's stages (efficientnet.ts EFFICIENTNET_B0_STAGES; SE ratio 0.25 in all):
# (kernel size, repeats, channels in, channels out, expand ratio, first block's stride).
# B0's width and depth multipliers are 1, so roundFilters / roundRepeats leave them unchanged.
B0_STAGES = [
    (3, 1, 32, 16, 1, 1),
    (3, 2, 16, 24, 6, 2),
    (5, 2, 24, 40, 6, 2),
    (3, 3, 40, 80, 6, 2),
    (5, 3, 80, 112, 6, 1),
    (5, 4, 112, 192, 6, 2),
    (3, 1, 192, 320, 6, 1),
]


def efficientnet_b0(
    in_channels: int, classes: int, dropout: float = 0.2, drop_connect_rate: float = 0.2
) -> nn.Module:
    """`efficientNetB0`: stem conv3×3/2-32 → BN → swish; 16 MBConv blocks (block b of n gets
    drop-connect rate·b/n); top 1×1 conv 1280 → BN → swish → GAP → dropout → dense classes."""
    total = sum(stage[1] for stage in B0_STAGES)
    blocks: list[nn.Module] = []
    for k, repeats, cin, cout, expand, stride in B0_STAGES:
        for j in range(repeats):
            blocks.append(
                MBConv(
                    cin if j == 0 else cout,
                    cout,
                    k,
                    stride if j == 0 else 1,
                    expand,
                    drop_connect_rate * len(blocks) / total,
                )
            )
    return nn.Sequential(
        Conv2dSame(in_channels, 32, 3, 2),
        batch_norm(32),
        nn.SiLU(),
        *blocks,
        nn.Conv2d(320, 1280, 1, bias=False),
        batch_norm(1280),
        nn.SiLU(),
        nn.AdaptiveAvgPool2d(1),
        nn.Flatten(),
        nn.Dropout(dropout),
        nn.Linear(1280, classes),
    )


# --- lib/models/gpt.ts, lib/models/layers.ts ---------------------------------------------


class CausalSelfAttention(nn.Module):
    """layers.ts `CausalSelfAttention`: [Q K V] = x W_qkv + b; A = softmax(Q Kᵀ/√d_h + M) with
    M = −1e9 above the diagonal; y = concat_heads(A V) W_o + b_o (4d² + 4d parameters)."""

    def __init__(self, width: int, heads: int, context: int):
        super().__init__()
        self.heads = heads
        self.qkv = nn.Linear(width, 3 * width)
        self.proj = nn.Linear(width, width)
        mask = torch.full((context, context), -1e9).triu(1)
        self.register_buffer("mask", mask, persistent=False)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        b, t, d = x.shape
        dh = d // self.heads
        # [B, T, 3, h, d_h] → three [B, h, T, d_h]
        q, k, v = self.qkv(x).view(b, t, 3, self.heads, dh).permute(2, 0, 3, 1, 4)
        scores = q @ k.transpose(-2, -1) * (1 / math.sqrt(dh)) + self.mask[:t, :t]
        y = torch.softmax(scores, dim=-1) @ v
        return self.proj(y.transpose(1, 2).reshape(b, t, d))


class GptBlock(nn.Module):
    """Pre-LN block: x ← x + Attn(LN(x)); x ← x + W₂ GELU(W₁ LN(x) + b₁) + b₂ (4d hidden)."""

    def __init__(self, width: int, heads: int, context: int):
        super().__init__()
        self.ln1 = nn.LayerNorm(width, eps=1e-5)
        self.attn = CausalSelfAttention(width, heads, context)
        self.ln2 = nn.LayerNorm(width, eps=1e-5)
        self.mlp = nn.Sequential(
            nn.Linear(width, 4 * width), nn.GELU(approximate="none"), nn.Linear(4 * width, width)
        )

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        x = x + self.attn(self.ln1(x))
        return x + self.mlp(self.ln2(x))


class GptLm(nn.Module):
    """`gptLm`: token embedding + learned position table → L pre-LN blocks → LN → untied dense
    head with bias; int64 [B, T] → logits [B, T, V]."""

    def __init__(self, vocab: int, context: int, layers: int, heads: int, width: int):
        super().__init__()
        self.tok_emb = nn.Embedding(vocab, width)
        self.pos_emb = nn.Parameter(torch.randn(context, width) * 0.02)
        self.blocks = nn.Sequential(*(GptBlock(width, heads, context) for _ in range(layers)))
        self.ln_f = nn.LayerNorm(width, eps=1e-5)
        self.head = nn.Linear(width, vocab)

    def forward(self, tokens: torch.Tensor) -> torch.Tensor:
        x = self.tok_emb(tokens) + self.pos_emb[: tokens.shape[1]]
        return self.head(self.ln_f(self.blocks(x)))


# --- the cases ---------------------------------------------------------------------------


@dataclass
class Case:
    name: str  # exactly the name in bench/models.ts BENCH_CASES
    batch_size: int
    build: Callable[[], nn.Module]
    inputs: Callable[[int], tuple[torch.Tensor, torch.Tensor]]  # batch size → (x, labels)
    ts_trainable: int  # the tfjs model's trainable parameters (model.trainableWeights)
    ts_total: int  # countParams(model): trainable + BN moving statistics


def images(shape: tuple[int, ...], classes: int):
    """Uniform [0, 1) inputs of `shape` per example (as models.ts randomImages) and labels."""
    return lambda b: (torch.rand(b, *shape), torch.randint(classes, (b,)))


def tokens(context: int, vocab: int):
    """Random token ids and next-token labels, [B, context] each."""
    return lambda b: (torch.randint(vocab, (b, context)), torch.randint(vocab, (b, context)))


# ts_trainable / ts_total: printed by building each BENCH_CASES model (and smallCnn) under tsx
# and summing the shapes of model.trainableWeights / calling countParams.
CASES = [
    Case(
        "CNN conv32-pool-conv64-gap-dense 28x28x1",
        64,
        lambda: gap_cnn(1, 10),
        images((1, 28, 28), 10),
        19_466,
        19_466,
    ),
    Case(
        "MLP 784-256-256-10",
        256,
        lambda: mlp(784, 10, [256, 256]),
        images((784,), 10),
        269_322,
        269_322,
    ),
    Case(
        "MBConv+SE block 32x32x16",
        64,
        lambda: mbconv_block_model(16, 10),
        images((16, 32, 32), 10),
        5_390,
        5_806,
    ),
    Case(
        "embedding LM vocab 65 dim 64 ctx 64",
        128,
        lambda: EmbeddingLm(65, 64),
        tokens(64, 65),
        12_545,
        12_545,
    ),
    Case(
        "EfficientNet-B0 32x32x3",
        64,
        lambda: efficientnet_b0(3, 10),
        images((3, 32, 32), 10),
        4_020_358,
        4_062_374,
    ),
    Case(
        "GPT char LM ctx 128 (L4 h4 d128)",
        64,
        lambda: GptLm(vocab=65, context=128, layers=4, heads=4, width=128),
        tokens(128, 65),
        826_433,
        826_433,
    ),
    Case(
        "main-job CNN (smallCnn) 28x28x1",
        64,
        lambda: small_cnn(1, 10),
        images((1, 28, 28), 10),
        225_034,
        225_034,
    ),
]


def param_counts(model: nn.Module) -> tuple[int, int]:
    """(trainable, trainable + BN running mean/variance) — the latter is what tfjs counts."""
    trainable = sum(p.numel() for p in model.parameters() if p.requires_grad)
    stats = sum(
        b.numel()
        for name, b in model.named_buffers()
        if name.endswith(("running_mean", "running_var"))
    )
    return trainable, trainable + stats


def train_step(model: nn.Module, opt: torch.optim.Optimizer, x: torch.Tensor, y: torch.Tensor):
    """One Adam step; cross-entropy averaged over examples (LMs: over all B·T tokens)."""
    opt.zero_grad()
    logits = model(x)
    loss = F.cross_entropy(logits.flatten(0, -2), y.flatten())
    loss.backward()
    opt.step()


def synchronize(device: torch.device) -> None:
    if device.type == "cuda":
        torch.cuda.synchronize(device)


def measure(
    case: Case, warmup: int, reps: int, device: torch.device, batch_size: int | None = None
) -> dict:
    b = batch_size if batch_size is not None else case.batch_size
    result: dict = {
        "model": case.name,
        "batchSize": b,
        "msPerStep": None,
        "params": None,
        "device": str(device),
    }
    try:
        model = case.build().to(device)
        model.train()
        trainable, total = param_counts(model)
        result["params"] = trainable
        ok = trainable == case.ts_trainable and total == case.ts_total
        print(
            f"{case.name}: params torch {trainable:,} trainable / {total:,} with BN stats;"
            f" tfjs {case.ts_trainable:,} / {case.ts_total:,}"
            f" {'(match)' if ok else '(MISMATCH)'}",
            file=sys.stderr,
        )
        opt = torch.optim.Adam(model.parameters(), lr=1e-3, betas=(0.9, 0.999), eps=1e-7)
        x, y = (t.to(device) for t in case.inputs(b))
        for _ in range(warmup):
            train_step(model, opt, x, y)
        synchronize(device)
        t0 = time.perf_counter()
        for _ in range(reps):
            train_step(model, opt, x, y)
        synchronize(device)
        result["msPerStep"] = (time.perf_counter() - t0) * 1000 / reps
        print(
            f"{case.name}: B {b}, {result['msPerStep']:.1f} ms/step"
            f" ({reps} steps after {warmup} warm-up, {device})",
            file=sys.stderr,
        )
    except Exception as e:  # recorded per case, the other cases still run
        result["error"] = f"{type(e).__name__}: {e}".split("\n")[0]
        print(f"{case.name}: B {b}: error {result['error']}", file=sys.stderr)
    finally:
        if device.type == "cuda":
            torch.cuda.empty_cache()
    return result


def batch_sizes_arg(text: str) -> list[int]:
    """`--batch-sizes`: comma-separated integers >= 1, ascending."""
    try:
        sizes = [int(s) for s in text.split(",")]
    except ValueError:
        raise argparse.ArgumentTypeError(f"--batch-sizes: integers expected, got {text!r}")
    if not sizes or any(b < 1 for b in sizes) or sizes != sorted(set(sizes)):
        raise argparse.ArgumentTypeError(
            f"--batch-sizes: distinct ascending integers >= 1 expected, got {text!r}"
        )
    return sizes


def measure_sizes(case: Case, sizes: list[int], warmup: int, reps: int, device) -> list[dict]:
    """`case` at each B in `sizes`; B above one that ran out of memory is not run."""
    out: list[dict] = []
    for b in sizes:
        if out and "out of memory" in (out[-1].get("error") or ""):
            out.append(
                {
                    "model": case.name,
                    "batchSize": b,
                    "msPerStep": None,
                    "params": None,
                    "device": str(device),
                    "error": f"skipped: B={out[-1]['batchSize']} ran out of memory",
                }
            )
            continue
        if out and out[-1].get("error", "").startswith("skipped"):
            out.append({**out[-1], "batchSize": b})
            continue
        out.append(measure(case, warmup, reps, device, b))
    return out


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--threads", type=int, required=True, help="torch.set_num_threads")
    parser.add_argument("--reps", type=int, required=True, help="timed steps per case")
    parser.add_argument("--warmup", type=int, default=3, help="untimed steps first")
    parser.add_argument("--only", default=None, help="run the cases whose name contains this (alternatives separated by |)")
    parser.add_argument("--device", default="cpu", choices=["cpu", "cuda"], help="where to run")
    parser.add_argument(
        "--batch-sizes",
        type=batch_sizes_arg,
        default=None,
        help="time every selected case at each of these B (comma-separated, ascending)",
    )
    args = parser.parse_args()
    if args.device == "cuda" and not torch.cuda.is_available():
        parser.error("--device cuda: torch.cuda.is_available() is False on this machine")
    device = torch.device(args.device)

    torch.set_num_threads(args.threads)
    try:
        torch.set_num_interop_threads(1)
    except RuntimeError as e:  # only allowed before any inter-op parallel work
        print(f"set_num_interop_threads(1) failed: {e}", file=sys.stderr)
    torch.manual_seed(0)
    gpu = f", {torch.cuda.get_device_name(device)}" if device.type == "cuda" else ""
    print(
        f"torch {torch.__version__}, {torch.get_num_threads()} threads, {device}{gpu}",
        file=sys.stderr,
    )

    cases = [c for c in CASES if args.only is None or any(o in c.name for o in args.only.split("|"))]
    if args.batch_sizes is None:
        results = [measure(c, args.warmup, args.reps, device) for c in cases]
    else:
        results = [
            r for c in cases for r in measure_sizes(c, args.batch_sizes, args.warmup, args.reps, device)
        ]
    print(json.dumps(results))


if __name__ == "__main__":
    main()
