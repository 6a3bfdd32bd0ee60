"""A tiny GPT for notebook 06, in the spirit of nanoGPT: the model, its per-token losses, sampling, and the
training loop, in one file.

    logits = model(ids)                    # (B, L) word ids -> (B, L, V): a distribution over the next word
    loss   = token_distillation_loss(...)  # the classifier's distillation_loss, applied at every position

Position i may look at positions 0..i only (the causal mask): the model predicts each next word from what
came before it, never from the future.
"""
from __future__ import annotations

import math
import numbers
import time
from dataclasses import dataclass

import torch
import torch.nn as nn
from tqdm.auto import tqdm

from . import corpus, losses

IGNORE = -100  # target of a padding position: no loss there


@dataclass(frozen=True)
class GPTConfig:
    vocab: int = len(corpus.VOCAB)  # words the model reads and writes
    context: int = corpus.CONTEXT - 1  # longest input, in words
    d: int = 64  # width: each word is a vector of d numbers
    layers: int = 2  # transformer blocks
    heads: int = 4  # attention heads per block (d must be a multiple)


class CausalSelfAttention(nn.Module):
    """Each position mixes the values of earlier positions, weighted by how well their keys match its query."""

    def __init__(self, cfg: GPTConfig):
        super().__init__()
        if cfg.d % cfg.heads:
            raise ValueError(f"the width d={cfg.d} must be a multiple of heads={cfg.heads}.")
        self.heads = cfg.heads
        self.qkv = nn.Linear(cfg.d, 3 * cfg.d)  # query, key and value of every position at once
        self.proj = nn.Linear(cfg.d, cfg.d)
        self.register_buffer("causal", torch.tril(torch.ones(cfg.context, cfg.context, dtype=torch.bool)))

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        B, L, d = x.shape
        q, k, v = self.qkv(x).split(d, dim=2)  # each (B, L, d)
        q, k, v = (t.view(B, L, self.heads, d // self.heads).transpose(1, 2) for t in (q, k, v))  # (B, h, L, d/h)
        scores = q @ k.transpose(-2, -1) / math.sqrt(d // self.heads)  # (B, h, L, L): query i against key j
        scores = scores.masked_fill(~self.causal[:L, :L], float("-inf"))  # j > i is the future: never seen
        weights = scores.softmax(dim=-1)  # (B, h, L, L), each row sums to 1 over j <= i
        out = (weights @ v).transpose(1, 2).reshape(B, L, d)  # (B, L, d)
        return self.proj(out)


class Block(nn.Module):
    """Attention (positions talk to each other), then an MLP (each position thinks alone), both residual."""

    def __init__(self, cfg: GPTConfig):
        super().__init__()
        self.ln1, self.attn = nn.LayerNorm(cfg.d), CausalSelfAttention(cfg)
        self.ln2 = nn.LayerNorm(cfg.d)
        self.mlp = nn.Sequential(nn.Linear(cfg.d, 4 * cfg.d), nn.GELU(), nn.Linear(4 * cfg.d, cfg.d))

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        x = x + self.attn(self.ln1(x))
        return x + self.mlp(self.ln2(x))


class TinyGPT(nn.Module):
    def __init__(self, cfg: GPTConfig = GPTConfig()):
        super().__init__()
        self.cfg = cfg
        self.words = nn.Embedding(cfg.vocab, cfg.d)
        self.positions = nn.Embedding(cfg.context, cfg.d)
        self.blocks = nn.Sequential(*[Block(cfg) for _ in range(cfg.layers)])
        self.ln = nn.LayerNorm(cfg.d)
        self.head = nn.Linear(cfg.d, cfg.vocab)

    def forward(self, ids: torch.Tensor) -> torch.Tensor:
        check_ids(ids, self.cfg)
        B, L = ids.shape
        x = self.words(ids) + self.positions(torch.arange(L, device=ids.device))  # (B, L, d)
        return self.head(self.ln(self.blocks(x)))  # (B, L, V) logits of the next word


def check_ids(ids: torch.Tensor, cfg: GPTConfig, what: str = "the input") -> None:
    """Word ids a model can read: an integer tensor (B, L) of ids in 0..vocab-1, at most `context` long."""
    if not isinstance(ids, torch.Tensor) or ids.dim() != 2:
        shape = tuple(ids.shape) if isinstance(ids, torch.Tensor) else type(ids).__name__
        raise ValueError(f"{what} must be word ids as a tensor (B, L), one row per text; got {shape}. "
                         "One text: ids.unsqueeze(0); words: torch.tensor([corpus.encode(words)]).")
    if ids.dtype.is_floating_point or ids.dtype.is_complex or ids.dtype == torch.bool:
        raise ValueError(f"{what} must hold integer word ids (torch.long), got {ids.dtype}: "
                         "build it with torch.tensor(corpus.encode(words)) or convert with .long().")
    if ids.shape[1] > cfg.context:
        raise ValueError(f"{what} has {ids.shape[1]} words, more than the model's context of {cfg.context}.")
    if ids.numel():
        lo, hi = (int(v) for v in torch.aminmax(ids))
        if lo < 0 or hi >= cfg.vocab:
            raise ValueError(f"{what} holds word id {lo if lo < 0 else hi}, outside the model's vocabulary of "
                             f"{cfg.vocab} words (ids 0 to {cfg.vocab - 1}): encode words with corpus.encode.")


def count_params(model: nn.Module) -> int:
    return sum(p.numel() for p in model.parameters())


# ----------------------------------------------------------------------------- per-token losses

def _flat(logits: torch.Tensor, targets: torch.Tensor):
    """Keep the positions that have a target: (B, L, V) and (B, L) -> (n, V) and (n,)."""
    if logits.ndim != 3 or targets.shape != logits.shape[:2]:
        raise ValueError(f"expected logits (B, L, V) and targets (B, L), got {tuple(logits.shape)} and "
                         f"{tuple(targets.shape)}.")
    keep = targets != IGNORE  # (B, L): padding has no next word
    return logits[keep], targets[keep], keep


def token_cross_entropy(logits: torch.Tensor, targets: torch.Tensor) -> torch.Tensor:
    """Next-word cross-entropy, mean over the positions that have a target (training on text)."""
    z, y, _ = _flat(logits, targets)
    return losses.hard_loss(z, y)


def token_distillation_loss(student_logits: torch.Tensor, teacher_logits: torch.Tensor, targets: torch.Tensor,
                            T: float = 1.0, alpha: float = 0.0) -> torch.Tensor:
    """losses.distillation_loss at every position with a target: the classifier's loss, one word at a time."""
    if teacher_logits.shape != student_logits.shape:
        raise ValueError(f"teacher logits {tuple(teacher_logits.shape)} and student logits "
                         f"{tuple(student_logits.shape)} must have the same shape (B, L, V).")
    z_s, y, keep = _flat(student_logits, targets)
    return losses.distillation_loss(z_s, teacher_logits[keep], y, T=T, alpha=alpha)


def soft_token_loss(student_logits: torch.Tensor, target_probs: torch.Tensor, targets: torch.Tensor) -> torch.Tensor:
    """Cross-entropy against given next-word distributions (B, L, V), e.g. an API's top-k answers."""
    z, _, keep = _flat(student_logits, targets)
    return losses.soft_target_loss(z, target_probs[keep])


# ----------------------------------------------------------------------------- sampling

def _check_prompt(prompt: torch.Tensor, model: nn.Module) -> None:
    check_ids(prompt, model.cfg, "the prompt")
    if prompt.shape[1] == 0:
        raise ValueError("the prompt is empty: a model continues a text of at least one word; start each row with "
                         "corpus.BOS (e.g. torch.tensor([[corpus.INDEX[corpus.BOS]]])).")


@torch.no_grad()
def generate(model: nn.Module, prompt: torch.Tensor, max_new: int, T: float = 1.0,
             generator: torch.Generator | None = None) -> torch.Tensor:
    """Continue each prompt (B, P) word by word, sampling softmax(logits / T); <pad> after <eos>. Returns (B, P + n)."""
    T = losses.check_T(T)
    _check_prompt(prompt, model)
    model.eval()
    ids = prompt.clone()
    done = torch.zeros(len(ids), dtype=torch.bool, device=ids.device)
    for _ in range(min(max_new, model.cfg.context + 1 - ids.shape[1])):
        probs = losses.softmax_with_temperature(model(ids)[:, -1].float(), T)  # (B, V) the next word
        nxt = torch.multinomial(probs.cpu(), 1, generator=generator).to(ids.device)  # (B, 1); CPU: repeatable
        nxt[done] = corpus.INDEX[corpus.PAD]
        ids = torch.cat([ids, nxt], dim=1)
        done |= nxt[:, 0] == corpus.INDEX[corpus.EOS]
        if done.all():
            break
    return ids


@torch.no_grad()
def greedy(model: nn.Module, prompt: torch.Tensor, max_new: int) -> torch.Tensor:
    """Continue each prompt with its most likely next word each time (the model's 'best answer')."""
    model.eval()
    ids = prompt.clone()
    for _ in range(min(max_new, model.cfg.context + 1 - ids.shape[1])):
        ids = torch.cat([ids, model(ids)[:, -1].argmax(-1, keepdim=True)], dim=1)
    return ids


def texts(ids: torch.Tensor) -> list[list[str]]:
    """Word lists, cut after <eos> (padding dropped)."""
    out = []
    for row in ids.tolist():
        words = corpus.decode(row)
        out.append(words[:words.index(corpus.EOS) + 1] if corpus.EOS in words else
                   [w for w in words if w != corpus.PAD])
    return out


# ----------------------------------------------------------------------------- training

@dataclass
class FitRecord:
    losses: list  # the training loss every `every` steps
    seconds: float
    tokens_seen: int


def fit(model: nn.Module, inputs: torch.Tensor, loss_fn, steps: int, batch_size: int, lr: float, seed: int,
        desc: str = "steps", progress: bool = True) -> FitRecord:
    """Notebook 06's loop, as its page shows it (`steps` AdamW steps on random batches of `inputs` (N, L);
    `loss_fn(logits, rows)` returns the loss of the batch of rows `rows`; the learning rate decays linearly to 0),
    plus named helpers: argument checks, a progress bar, the loss every 50 steps with a divergence check, and a
    count of the words read."""
    _check_fit_arguments(inputs, steps, batch_size, lr)
    g = torch.Generator().manual_seed(seed)  # the batches: the same for every student of a seed
    opt = torch.optim.AdamW(model.parameters(), lr=lr, weight_decay=0.01)
    sched = torch.optim.lr_scheduler.LambdaLR(opt, lambda step: 1 - step / steps)
    record, t0, seen = [], time.perf_counter(), torch.zeros((), dtype=torch.long, device=inputs.device)
    lengths = (inputs != corpus.INDEX[corpus.PAD]).sum(1)  # (N,) words per row
    model.train()
    for step in tqdm(range(steps), desc=desc, leave=False, disable=not progress):
        rows = torch.randint(len(inputs), (batch_size,), generator=g).to(inputs.device)  # (B,)
        loss = loss_fn(model(inputs[rows]), rows)
        opt.zero_grad(set_to_none=True)
        loss.backward()
        torch.nn.utils.clip_grad_norm_(model.parameters(), 1.0)
        opt.step()
        sched.step()
        seen += lengths[rows].sum()
        if step % 50 == 0 or step == steps - 1:
            record.append(_finite_loss(loss, step, lr))
    return FitRecord(record, time.perf_counter() - t0, int(seen))


def _check_fit_arguments(inputs: torch.Tensor, steps, batch_size, lr) -> None:
    """A clear error for arguments that would train nothing or something else than asked."""
    for name, value in (("steps", steps), ("batch_size", batch_size)):
        if isinstance(value, bool) or not isinstance(value, numbers.Integral) or value < 1:
            raise ValueError(f"{name} must be a whole number >= 1, got {value!r}.")
    if isinstance(lr, bool) or not isinstance(lr, numbers.Real) or not math.isfinite(lr) or lr <= 0:
        raise ValueError(f"lr (the learning rate) must be a finite number > 0, got {lr!r}.")
    if not isinstance(inputs, torch.Tensor) or inputs.ndim != 2 or len(inputs) == 0:
        shape = tuple(inputs.shape) if isinstance(inputs, torch.Tensor) else type(inputs).__name__
        raise ValueError(f"inputs must be word ids shaped (N, L) with N >= 1 (corpus.to_batch(...).inputs), "
                         f"got {shape}.")


def _finite_loss(loss: torch.Tensor, step: int, lr: float) -> float:
    """The loss as a number; a NaN or inf stops training with what to do."""
    value = loss.item()
    if not math.isfinite(value):
        raise FloatingPointError(f"the loss became {value} at step {step}: lower the learning rate (it is {lr:g}).")
    return value


@torch.no_grad()
def logits_of(model: nn.Module, inputs: torch.Tensor, batch_size: int = 1000) -> torch.Tensor:
    """The model's logits (N, L, V) on every position, in eval mode, in float32."""
    model.eval()
    return torch.cat([model(inputs[i:i + batch_size]).float() for i in range(0, len(inputs), batch_size)])


# ----------------------------------------------------------------------------- notebook 07: on-policy pieces

def token_reverse_kl(student_logits: torch.Tensor, teacher_logits: torch.Tensor, targets: torch.Tensor) -> torch.Tensor:
    """Mean KL(student || teacher) over the positions with a target: the reverse KL, which MiniLLM (Gu et al. 2024)
    minimises. Where the teacher gives a word little probability, a student that puts mass there pays a lot; where
    the student puts none, it pays nothing (mode-seeking). The forward KL is token_distillation_loss(T=1, alpha=0)."""
    if teacher_logits.shape != student_logits.shape:
        raise ValueError(f"teacher logits {tuple(teacher_logits.shape)} and student logits "
                         f"{tuple(student_logits.shape)} must have the same shape (B, L, V).")
    z_s, _, keep = _flat(student_logits, targets)
    log_p_s, log_p_t = z_s.log_softmax(-1), teacher_logits[keep].log_softmax(-1)  # (n, V) each
    return (log_p_s.exp() * (log_p_s - log_p_t)).sum(-1).mean()


def _forward_cached(model: TinyGPT, new: torch.Tensor, cache: list, start: int) -> torch.Tensor:
    """The model on the words `new` (B, n) at positions start..start+n-1, attending to the keys and values of the
    words before them, kept in `cache` (one (k, v) per block, each (B, h, start, d/h); updated in place)."""
    B, n = new.shape
    x = model.words(new) + model.positions(torch.arange(start, start + n, device=new.device))  # (B, n, d)
    for b, block in enumerate(model.blocks):
        att, d = block.attn, x.shape[-1]
        q, k, v = att.qkv(block.ln1(x)).split(d, dim=2)
        q, k, v = (t.view(B, n, att.heads, d // att.heads).transpose(1, 2) for t in (q, k, v))  # (B, h, n, d/h)
        if cache[b] is not None:
            k, v = torch.cat([cache[b][0], k], dim=2), torch.cat([cache[b][1], v], dim=2)  # (B, h, start + n, d/h)
        cache[b] = (k, v)
        scores = q @ k.transpose(-2, -1) / math.sqrt(d // att.heads)  # (B, h, n, start + n)
        scores = scores.masked_fill(~att.causal[start:start + n, :start + n], float("-inf"))
        x = x + att.proj((scores.softmax(dim=-1) @ v).transpose(1, 2).reshape(B, n, d))
        x = x + block.mlp(block.ln2(x))
    return model.head(model.ln(x))  # (B, n, V)


@torch.no_grad()
def generate_cached(model: TinyGPT, prompt: torch.Tensor, max_new: int, T: float = 1.0,
                    generator: torch.Generator | None = None) -> torch.Tensor:
    """generate(), with the keys and values of earlier words kept instead of computed again at every step: each
    new word runs through the model alone. The same distributions (up to rounding), several times faster."""
    T = losses.check_T(T)
    _check_prompt(prompt, model)
    model.eval()
    ids, cache, new = prompt.clone(), [None] * len(model.blocks), prompt
    done = torch.zeros(len(ids), dtype=torch.bool, device=ids.device)
    for _ in range(min(max_new, model.cfg.context + 1 - ids.shape[1])):
        logits = _forward_cached(model, new, cache, ids.shape[1] - new.shape[1])
        probs = losses.softmax_with_temperature(logits[:, -1].float(), T)  # (B, V) the next word
        nxt = torch.multinomial(probs.cpu(), 1, generator=generator).to(ids.device)  # (B, 1); CPU: repeatable
        nxt[done] = corpus.INDEX[corpus.PAD]
        ids, new = torch.cat([ids, nxt], dim=1), nxt
        done |= nxt[:, 0] == corpus.INDEX[corpus.EOS]
        if done.all():
            break
    return ids
