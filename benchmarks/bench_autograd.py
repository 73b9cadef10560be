"""Benchmark of learnkit.autograd on the CPU (a plain script, not a test).

1. One training step (forward, cross-entropy, backward, SGD update) of an MLP 64 -> 128 -> 128 -> 10 at batch 64,
   float32: our numpy `Tensor` against the same step in torch (aim: within 3x of torch).
2. `Value` forward+backward throughput on micrograd's demo network, an MLP 2 -> 16 -> 16 -> 1 (ReLU), with a
   squared-error loss summed over a batch of 32 points, against a micrograd-style closure engine written below
   (`_backward` closures per node, recursive topological sort as in micrograd; same network, same numbers).
   Aim: at least as fast as the closure design.
3. The cost of a backward pass in forward passes, as an MLP 64 -> w -> w -> 10 widens (batch 64, float32, one
   thread): (forward+backward - forward) / forward for our `Tensor` and for torch, in CPU time of the calling thread
   (`time.thread_time`, so waiting for other programs is not counted). Lesson 11 plots the same measurement; the
   course's figure is "a backward pass costs about two forward passes, so a training step costs about three".

Each figure is the median of several timed runs after warm-up (`learnkit.utils.timed`); ratios come from interleaved
rounds, so load from other processes hits both sides alike.
usage: python benchmarks/bench_autograd.py [--threads N] [--rounds R]
"""
import argparse, gc, random, statistics, sys, time
from threadpoolctl import threadpool_limits
import numpy as np, torch, torch.nn.functional as F
from torch import nn
from learnkit.utils import timed
from learnkit.autograd import Value, Tensor, MLP, SGD, cross_entropy


# ------------------------------------------------------------------ a micrograd-style closure engine, for comparison
class CValue:
    "micrograd's design: each op stores a closure `_backward` that pushes out.grad into its inputs."
    def __init__(self, data, _children=(), _op=''):
        self.data, self.grad = data, 0.0
        self._backward = lambda: None
        self._prev, self._op = set(_children), _op

    def __add__(self, other):
        other = other if isinstance(other, CValue) else CValue(other)
        out = CValue(self.data + other.data, (self, other), '+')
        def _backward():
            self.grad += out.grad; other.grad += out.grad
        out._backward = _backward
        return out

    def __mul__(self, other):
        other = other if isinstance(other, CValue) else CValue(other)
        out = CValue(self.data * other.data, (self, other), '*')
        def _backward():
            self.grad += other.data * out.grad; other.grad += self.data * out.grad
        out._backward = _backward
        return out

    def __pow__(self, k):
        out = CValue(self.data ** k, (self,), f'**{k}')
        def _backward(): self.grad += k * self.data ** (k - 1) * out.grad
        out._backward = _backward
        return out

    def relu(self):
        out = CValue(0.0 if self.data < 0 else self.data, (self,), 'relu')
        def _backward(): self.grad += (out.data > 0) * out.grad
        out._backward = _backward
        return out

    def __neg__(self): return self * -1
    def __sub__(self, other): return self + (-other)
    def __radd__(self, other): return self + other
    def __rmul__(self, other): return self * other

    def backward(self):
        topo, visited = [], set()
        def build(v):
            if v not in visited:
                visited.add(v)
                for c in v._prev: build(c)
                topo.append(v)
        build(self)
        self.grad = 1.0
        for v in reversed(topo): v._backward()


def make_mlp(V, sizes, rng):
    "Weights as lists of V (Value or CValue): one (w, b) per neuron per layer, like micrograd's MLP."
    return [[([V(rng.uniform(-1, 1)) for _ in range(n_in)], V(0.0)) for _ in range(n_out)] for n_in, n_out in zip(sizes, sizes[1:])]


def mlp_forward(layers, x):
    for i, layer in enumerate(layers):
        x = [sum((wi * xi for wi, xi in zip(w, x)), b) for w, b in layer]
        if i < len(layers) - 1: x = [v.relu() for v in x]
    return x[0]


def value_step(V, layers, X, y):
    "Forward over the batch, squared-error loss, zero grads, backward."
    loss = sum(((mlp_forward(layers, [V(a) for a in xi]) - yi) ** 2 for xi, yi in zip(X, y)), V(0.0))
    for layer in layers:
        for w, b in layer:
            b.grad = 0.0
            for wi in w: wi.grad = 0.0
    loss.backward()
    return loss


# ------------------------------------------------------------------ Tensor MLP step vs torch
def tensor_case(batch=64):
    rng = np.random.default_rng(0)
    X = rng.random((batch, 64), dtype=np.float32); y = rng.integers(0, 10, batch)
    model = MLP([64, 128, 128, 10]); opt = SGD(model.parameters(), lr=0.01)
    tmodel = nn.Sequential(nn.Linear(64, 128), nn.ReLU(), nn.Linear(128, 128), nn.ReLU(), nn.Linear(128, 10))
    with torch.no_grad():
        for tp, p in zip(tmodel.parameters(), model.parameters()): tp.copy_(torch.from_numpy(p.data))
    topt = torch.optim.SGD(tmodel.parameters(), lr=0.01)
    Xt, yt = torch.from_numpy(X), torch.from_numpy(y)
    def ours():
        loss = cross_entropy(model(Tensor(X)), y)
        opt.zero_grad(); loss.backward(); opt.step()
    def theirs():
        loss = F.cross_entropy(tmodel(Xt), yt)
        topt.zero_grad(); loss.backward(); topt.step()
    return ours, theirs


# ------------------------------------------------------------------ backward/forward cost ratio
def _least_cpu(fns, rounds):
    "Least CPU time of this thread over `rounds` interleaved calls of each function."
    ts = [[] for _ in fns]
    for _ in range(rounds):
        for t, f in zip(ts, fns): s = time.thread_time(); f(); t.append(time.thread_time() - s)
    return [min(t) for t in ts]


def bwd_fwd_ratio(w, rounds=10, batch=64):
    "(parameters, ours, torch): backward/forward time ratios of an MLP 64 -> w -> w -> 10, one thread."
    rng = np.random.default_rng(0)
    X = rng.random((batch, 64), dtype=np.float32); y = rng.integers(0, 10, batch)
    model, xo = MLP([64, w, w, 10]), Tensor(X)
    tm = nn.Sequential(nn.Linear(64, w), nn.ReLU(), nn.Linear(w, w), nn.ReLU(), nn.Linear(w, 10)); Xt, yt = torch.from_numpy(X), torch.from_numpy(y)
    def o_fwd(): return cross_entropy(model(xo), y)
    def o_step(): l = o_fwd(); model.zero_grad(); l.backward()
    def t_fwd(): return F.cross_entropy(tm(Xt), yt)
    def t_step(): l = t_fwd(); tm.zero_grad(); l.backward()
    for f in (o_step, t_step): f()
    a, b, c, d = _least_cpu([o_fwd, o_step, t_fwd, t_step], rounds)
    return sum(p.data.size for p in model.parameters()), (b - a) / a, (d - c) / c


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument('--threads', type=int, default=None, help='torch threads (default: torch decides)')
    ap.add_argument('--rounds', type=int, default=7, help='interleaved rounds per comparison')
    a = ap.parse_args()
    if a.threads: torch.set_num_threads(a.threads)
    print(f"python {sys.version.split()[0]}, numpy {np.__version__}, torch {torch.__version__}, {torch.get_num_threads()} torch threads, CPU")

    ours, theirs = tensor_case()
    o, t = [], []
    for _ in range(a.rounds):
        o.append(timed(ours, repeat=50, warmup=5)); t.append(timed(theirs, repeat=50, warmup=5))
    ratios = sorted(x / y for x, y in zip(o, t))
    print("\none SGD training step, MLP 64-128-128-10, batch 64, float32")
    print(f"  learnkit Tensor {statistics.median(o)*1e6:8.0f} µs")
    print(f"  torch           {statistics.median(t)*1e6:8.0f} µs")
    print(f"  ratio           {statistics.median(o)/statistics.median(t):8.2f}x  (per round: {', '.join(f'{r:.2f}' for r in ratios)}; aim: <= 3x)")

    rng = random.Random(0)
    X = [[rng.uniform(-2, 2), rng.uniform(-2, 2)] for _ in range(32)]; y = [1.0 if a_ * b_ > 0 else -1.0 for a_, b_ in X]
    sizes = [2, 16, 16, 1]
    lv, lc = make_mlp(Value, sizes, random.Random(1)), make_mlp(CValue, sizes, random.Random(1))
    assert abs(value_step(Value, lv, X, y).data - value_step(CValue, lc, X, y).data) < 1e-9  # same network, same loss
    assert abs(lv[0][0][0][0].grad - lc[0][0][0][0].grad) < 1e-9                             # and the same gradients
    def compare(gc_on):
        (gc.enable if gc_on else gc.disable)(); gc.collect()
        vo, vc = [], []
        for _ in range(a.rounds):
            vo.append(timed(lambda: value_step(Value, lv, X, y), repeat=5, warmup=1))
            vc.append(timed(lambda: value_step(CValue, lc, X, y), repeat=5, warmup=1))
        gc.enable(); return vo, vc
    nodes = 0; seen = set(); stack = [value_step(Value, lv, X, y)]
    while stack:
        v = stack.pop()
        if v in seen: continue
        seen.add(v); stack.extend(v._prev)
    nodes = len(seen)
    print(f"\nValue forward+backward, MLP 2-16-16-1 (ReLU), squared error over a batch of 32 ({nodes} nodes per step)")
    for gc_on in (True, False):
        vo, vc = compare(gc_on)
        ratios = sorted(x / y for x, y in zip(vc, vo))
        print(f" Python's cyclic garbage collector {'on (the default)' if gc_on else 'off (gc.disable())'}:")
        print(f"  learnkit Value (local derivatives, iterative topo) {statistics.median(vo)*1e3:7.1f} ms = {len(X)/statistics.median(vo):6.0f} samples/s, {nodes/statistics.median(vo)/1e6:.2f} M nodes/s")
        print(f"  micrograd-style closures, recursive topo          {statistics.median(vc)*1e3:7.1f} ms = {len(X)/statistics.median(vc):6.0f} samples/s")
        print(f"  speed-up of Value over closures: {statistics.median(vc)/statistics.median(vo):.2f}x (per round: {', '.join(f'{r:.2f}' for r in ratios)}; aim: >= 1x)")
    print("  (closures refer to their own output node, so every node is in a reference cycle that only the cyclic collector"
          "\n   frees; Value nodes hold plain numbers and are freed by reference counting as soon as the graph is dropped)")

    print("\nbackward / forward time, MLP 64-w-w-10, batch 64, float32, one thread (CPU time; about 2 once matmuls dominate)")
    n_threads = torch.get_num_threads(); torch.set_num_threads(1)
    with threadpool_limits(1):
        for w in (16, 64, 256, 1024, 2048):
            P, o_r, t_r = bwd_fwd_ratio(w, rounds=a.rounds + 3)
            print(f"  w = {w:5d} ({P:9,d} parameters): learnkit Tensor {o_r:5.2f}   torch {t_r:5.2f}")
    torch.set_num_threads(n_threads)

if __name__ == '__main__': main()
