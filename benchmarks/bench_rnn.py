"""Seconds per training epoch of the surname classifier (hidden 128, batch 64) in four versions:
the naive loop (one name per step, our RNNCell), our batched `RNN`, torch's `nn.RNN` and `nn.GRU`.

Usage: LEARNKIT_DATA=... python benchmarks/bench_rnn.py [--threads N] [--naive-names 2000]
The naive loop is timed on a sample of names and scaled to a full epoch."""
import argparse, math, time
import torch, torch.nn.functional as F
from torch import nn
from learnkit.data import names_by_language, LANGUAGES
from learnkit.rnn import VOCAB, normalize_name, encode_name, pad_names, RNNCell, NameClassifier


def load():
    raw = names_by_language()
    pairs = sorted({(normalize_name(n), lang) for lang, v in raw.items() for n in v if '/' not in n})
    return [n for n, _ in pairs], torch.tensor([LANGUAGES.index(l) for _, l in pairs])


def naive_epoch(names, labels, n_sample, H=128):
    cell, head = RNNCell(len(VOCAB), H), nn.Linear(H, len(LANGUAGES))
    params = list(cell.parameters()) + list(head.parameters())
    idx = torch.randperm(len(names))[:n_sample].tolist()
    start = time.perf_counter()
    for i in idx:
        h = torch.zeros(1, H)
        for x in F.one_hot(encode_name(names[i]), len(VOCAB)).float(): h = cell(x[None], h)
        loss = F.cross_entropy(head(h), labels[i:i+1])
        for p in params: p.grad = None
        loss.backward()
        with torch.no_grad():
            for p in params: p -= 0.005 * p.grad
    return (time.perf_counter() - start) / n_sample * len(names)


def batched_epoch(X, L, y, kind, H=128, bs=64):
    model = NameClassifier(LANGUAGES, H, rnn=kind)
    opt = torch.optim.AdamW(model.parameters(), 3e-3)
    start = time.perf_counter()
    for idx in torch.randperm(X.shape[1]).split(bs):
        T = L[idx].max()
        loss = F.cross_entropy(model(X[:T, idx], L[idx]), y[idx])
        opt.zero_grad(); loss.backward()
        nn.utils.clip_grad_norm_(model.parameters(), 1.0); opt.step()
    return time.perf_counter() - start


if __name__ == '__main__':
    ap = argparse.ArgumentParser()
    ap.add_argument('--threads', type=int, default=1)
    ap.add_argument('--naive-names', type=int, default=2000)
    a = ap.parse_args()
    torch.set_num_threads(a.threads); torch.manual_seed(0)
    names, labels = load()
    X, L = pad_names(names)
    res = {'naive loop (ours)': naive_epoch(names, labels, a.naive_names)}
    for kind, label in (('rnn', 'batched RNN (ours)'), ('torch_rnn', 'nn.RNN'), ('gru', 'nn.GRU')):
        res[label] = batched_epoch(X, L, labels, kind)
    print(f"{len(names)} names, {a.threads} thread(s), torch {torch.__version__}")
    for k, v in res.items(): print(f"{k:22s} {v:8.2f} s/epoch   {res['naive loop (ours)'] / v:6.1f}x faster than naive")
