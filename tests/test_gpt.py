"""learnkit.gpt: the character-level GPT, its sampler and helpers."""
import pytest, torch, torch.nn.functional as F
from torch import nn
from learnkit import utils
from learnkit.gpt import (GPT, GPTConfig, CausalSelfAttention, Block, MLP, CharTokenizer, get_batch, top_k_logits,
                          configure_optimizer, warmup_cosine)

@pytest.fixture(autouse=True, scope='module')
def one_thread():
    "Tiny matrices: one thread avoids the cost of threads waiting for each other on a busy machine."
    n = torch.get_num_threads(); torch.set_num_threads(1)
    yield
    torch.set_num_threads(n)

SMALL = GPTConfig(block_size=16, vocab_size=11, n_layer=2, n_head=2, n_embd=32)

def _model(**kw):
    utils.set_seed(0)
    return GPT(GPTConfig(**{**SMALL.__dict__, **kw})).eval()

def test_forward_shapes_and_loss_is_cross_entropy():
    m = _model()
    idx, tgt = torch.randint(11, (3, 16)), torch.randint(11, (3, 16))
    logits, loss = m(idx, tgt)
    assert logits.shape == (3, 16, 11)
    torch.testing.assert_close(loss, F.cross_entropy(logits.reshape(-1, 11), tgt.reshape(-1)))
    logits2, none = m(idx[:, :5])
    assert none is None and logits2.shape == (3, 5, 11)
    torch.testing.assert_close(logits2, logits[:, :5], atol=1e-5, rtol=1e-5)

def test_backward_reaches_every_parameter():
    m = _model(bias=True).train()
    idx = torch.randint(11, (2, 16))
    m(idx, idx)[1].backward()
    assert all(p.grad is not None and p.grad.abs().sum() > 0 for p in m.parameters())

def test_init_loss_near_log_vocab_and_weight_tying():
    m = _model()
    idx, tgt = torch.randint(11, (8, 16)), torch.randint(11, (8, 16))
    assert abs(m(idx, tgt)[1].item() - torch.log(torch.tensor(11.)).item()) < 0.1
    assert m.lm_head.weight is m.transformer.wte.weight

@pytest.mark.parametrize('fused', [True, False])
def test_future_tokens_never_change_earlier_logits(fused):
    m = _model(fused=fused)
    gen = torch.Generator().manual_seed(1)
    for t in range(1, 16):
        a = torch.randint(11, (2, 16), generator=gen); b = a.clone()
        b[:, t:] = torch.randint(11, (2, 16 - t), generator=gen)
        with torch.no_grad(): la, lb = m(a)[0], m(b)[0]
        torch.testing.assert_close(la[:, :t], lb[:, :t], atol=1e-5, rtol=1e-5)

def test_manual_and_fused_attention_agree_forward_and_backward():
    utils.set_seed(0)
    att = CausalSelfAttention(32, 4, bias=True)
    x = torch.randn(2, 10, 32, requires_grad=True)
    y1 = att(x); g1 = torch.autograd.grad(y1.square().sum(), (x, att.in_proj_weight))
    att.fused = False
    y2 = att(x); g2 = torch.autograd.grad(y2.square().sum(), (x, att.in_proj_weight))
    torch.testing.assert_close(y1, y2, atol=1e-5, rtol=1e-5)
    for a, b in zip(g1, g2): torch.testing.assert_close(a, b, atol=1e-4, rtol=1e-4)

def test_causal_attention_matches_torch_multihead_with_weights_copied():
    utils.set_seed(0)
    ref = nn.MultiheadAttention(32, 4, batch_first=True)
    att = CausalSelfAttention(32, 4, bias=True).copy_from_torch(ref)
    x = torch.randn(2, 9, 32)
    mask = torch.ones(9, 9, dtype=torch.bool).triu(1)  # torch's bool attn_mask: True = may NOT attend
    torch.testing.assert_close(att(x), ref(x, x, x, attn_mask=mask, need_weights=False)[0], atol=1e-5, rtol=1e-5)

def test_generate_reproducible_under_set_seed_and_crops_context():
    m = _model()
    prompt = torch.zeros(2, 1, dtype=torch.long)
    utils.set_seed(3); a = m.generate(prompt, 40)
    utils.set_seed(3); b = m.generate(prompt, 40)
    assert torch.equal(a, b) and a.shape == (2, 41)  # 41 > block_size 16: the context was cropped
    assert torch.equal(a[:, :1], prompt)

def test_generate_respects_top_k_and_greedy():
    m = _model()
    idx = torch.randint(11, (1, 5))
    with torch.no_grad(): allowed = set(m(idx)[0][0, -1].topk(3).indices.tolist())
    utils.set_seed(0)
    draws = {m.generate(idx, 1, temperature=5.0, top_k=3)[0, -1].item() for _ in range(60)}
    assert draws <= allowed and len(draws) > 1
    greedy = m.generate(idx, 1, top_k=1)[0, -1].item()
    assert greedy == m(idx)[0][0, -1].argmax().item()

def test_generate_keeps_training_mode_and_rejects_bad_temperature():
    m = _model().train()
    m.generate(torch.zeros(1, 1, dtype=torch.long), 2)
    assert m.training
    with pytest.raises(ValueError, match=r'temperature must be >= 0 \(0 = greedy\)'): m.generate(torch.zeros(1, 1, dtype=torch.long), 2, temperature=-0.5)
    with pytest.raises(ValueError, match='temperature'): m.generate(torch.zeros(1, 1, dtype=torch.long), 2, temperature=float('nan'))

def test_generate_temperature_zero_is_greedy_as_transformer_generate():
    "One convention with Transformer.generate: temperature 0 means argmax (no sampling, no random draws)."
    import inspect
    from learnkit.transformer import Transformer
    m = _model()
    idx = torch.randint(11, (3, 4), generator=torch.Generator().manual_seed(0))
    state = torch.get_rng_state()
    out = m.generate(idx, 20, temperature=0)
    assert torch.equal(torch.get_rng_state(), state)  # greedy draws nothing
    ref = idx
    with torch.no_grad():
        for _ in range(20): ref = torch.cat([ref, m(ref[:, -16:])[0][:, -1].argmax(-1, keepdim=True)], 1)
    assert torch.equal(out, ref)
    assert torch.equal(m.generate(idx, 5, temperature=0, top_k=3), m.generate(idx, 5, top_k=1))  # top_k=1 is greedy too
    assert inspect.signature(m.generate).parameters['temperature'].default == 1.0
    assert 'temperature' in inspect.signature(Transformer.generate).parameters  # the same argument name there (0 = greedy)

def test_too_long_input_and_bad_shapes_raise():
    m = _model()
    with pytest.raises(ValueError, match='length 17 is longer than block_size=16'): m(torch.zeros(1, 17, dtype=torch.long))
    with pytest.raises(ValueError, match=r'\(batch, time\)'): m(torch.zeros(17, dtype=torch.long))
    with pytest.raises(ValueError, match='divisible'): GPT(GPTConfig(n_embd=30, n_head=4))
    with pytest.raises(ValueError, match='expected'): CausalSelfAttention(32, 4)(torch.zeros(2, 5, 31))

def test_top_k_logits():
    z = torch.tensor([[1., 3., -2., 0.5, 2.], [0., 0., 1., 0., 0.]])
    out = top_k_logits(z, 3)
    assert torch.equal(out[0], torch.tensor([1., 3., float('-inf'), float('-inf'), 2.]))
    assert torch.equal(out[1], z[1])  # ties with the 3rd largest are kept
    assert torch.equal(top_k_logits(z, 99), z)
    with pytest.raises(ValueError, match='at least 1'): top_k_logits(z, 0)

def test_tokenizer_and_batches():
    from learnkit.transformer import CharTokenizer as Shared
    assert CharTokenizer is Shared  # one tokenizer for the library; learnkit.gpt.CharTokenizer still imports
    tok = CharTokenizer('hello world', specials=())
    assert tok.vocab_size == 8 and tok.encode('hold') == [3, 5, 4, 1] and tok.decode(tok.encode('hold')) == 'hold'
    assert tok.decode(torch.tensor(tok.encode('hold'))) == 'hold'
    with pytest.raises(ValueError, match='unknown characters'): tok.encode('hex')
    data = torch.arange(100)
    x, y = get_batch(data, 8, 5, generator=torch.Generator().manual_seed(0))
    assert x.shape == y.shape == (5, 8) and torch.equal(y, x + 1) and x.is_contiguous()
    with pytest.raises(ValueError, match='block_size'): get_batch(torch.arange(8), 8, 2)

def test_optimizer_groups_and_schedule():
    m = _model(bias=True)
    opt = configure_optimizer(m, lr=2e-3)
    decay, no_decay = opt.param_groups
    assert decay['weight_decay'] == 0.1 and no_decay['weight_decay'] == 0.0
    assert all(p.dim() >= 2 for p in decay['params']) and all(p.dim() < 2 for p in no_decay['params'])
    assert sum(p.numel() for g in opt.param_groups for p in g['params']) == sum(p.numel() for p in m.parameters())
    f = warmup_cosine(opt, 10, 100).lr_lambdas[0]
    assert f(0) == pytest.approx(1 / 11) and f(10) == pytest.approx(1.0) and f(100) == pytest.approx(0.1) and f(500) == pytest.approx(0.1)

def test_warmup_cosine_has_one_home():
    "learnkit.gpt re-exports the optimisers lesson's schedule instead of defining its own."
    import learnkit.gpt, learnkit.optim
    assert learnkit.gpt.warmup_cosine is learnkit.optim.warmup_cosine

# --- issue 13: torch's numbers or a loud error ------------------------------------------------------------------

def test_token_id_out_of_range_is_named():
    "torch's Embedding fails deep inside with 'index out of range in self'; GPT names the token and the vocabulary."
    m = GPT(GPTConfig(vocab_size=65, block_size=8, n_layer=1, n_head=2, n_embd=16))
    with pytest.raises(IndexError, match='index out of range'): nn.Embedding(65, 4)(torch.tensor([[70]]))  # torch's own message
    with pytest.raises(ValueError, match='token id 70 >= vocab_size 65'): m(torch.tensor([[1, 70, 2]]))
    with pytest.raises(ValueError, match='token id -1 < 0'): m(torch.tensor([[1, -1]]))
    with pytest.raises(ValueError, match='token id 65 >= vocab_size 65'): m.generate(torch.tensor([[65]]), 2)
    with pytest.raises(ValueError, match='integer token ids'): m(torch.zeros(1, 3))  # float ids: torch's Embedding refuses too
    m(torch.tensor([[0, 64]]))  # the ends of the range are fine

@pytest.mark.parametrize('field,value', [('n_layer', -1), ('n_layer', 0), ('n_head', 0), ('n_embd', 0), ('block_size', 0),
                                         ('vocab_size', 0), ('vocab_size', -5), ('dropout', -0.1), ('dropout', 1.5),
                                         ('n_layer', 2.5), ('n_layer', True), ('bias', 1), ('fused', 'yes'), ('block_size', None)])
def test_config_rejects_every_bad_field(field, value):
    with pytest.raises((ValueError, TypeError), match=field): GPTConfig(**{field: value})

def test_config_divisibility_named_at_construction():
    with pytest.raises(ValueError, match='n_embd=30 must be divisible by n_head=4'): GPTConfig(n_embd=30, n_head=4)
    GPTConfig(n_layer=1, dropout=0.0); GPTConfig(dropout=1.0)  # nn.Dropout accepts p in [0, 1]
    with pytest.raises(ValueError): nn.Dropout(1.5)  # torch refuses what GPTConfig refuses

def test_config_checked_again_when_changed_after_construction():
    cfg = GPTConfig(); cfg.n_layer = -1
    with pytest.raises(ValueError, match='n_layer'): GPT(cfg)

def test_generate_rejects_empty_prompt_and_bad_arguments():
    m = _model()
    with pytest.raises(ValueError, match='empty prompt'): m.generate(torch.zeros(1, 0, dtype=torch.long), 3)
    with pytest.raises(ValueError, match=r'\(batch, time\)'): m.generate(torch.zeros(3, dtype=torch.long), 3)
    with pytest.raises(ValueError, match='max_new_tokens'): m.generate(torch.zeros(1, 1, dtype=torch.long), -1)
    assert m.generate(torch.zeros(1, 2, dtype=torch.long), 0).shape == (1, 2)  # nothing to add: the prompt back

@pytest.mark.parametrize('kw,msg', [(dict(block_size=0), 'block_size'), (dict(block_size=-3), 'block_size'),
                                    (dict(batch_size=0), 'batch_size'), (dict(block_size=2.0), 'block_size')])
def test_get_batch_rejects_bad_sizes(kw, msg):
    with pytest.raises((ValueError, TypeError), match=msg): get_batch(torch.arange(100), **{**dict(block_size=8, batch_size=4), **kw})

def test_get_batch_rejects_non_1d_data_and_covers_every_window():
    with pytest.raises(ValueError, match='1-D'): get_batch(torch.arange(100).view(10, 10), 4, 2)
    g = torch.Generator().manual_seed(0)
    x, y = get_batch(torch.arange(10), 8, 200, generator=g)  # 10 tokens, windows of 8 + 1 target: starts 0 and 1
    assert set(x[:, 0].tolist()) == {0, 1} and torch.equal(y, x + 1)
    x, y = get_batch(torch.arange(9), 8, 3)  # exactly one window
    assert torch.equal(x, torch.arange(8).expand(3, 8)) and torch.equal(y, x + 1)

def test_get_batch_same_draws_as_torch_randint_with_a_seeded_generator():
    data = torch.randperm(500)
    x, y = get_batch(data, 16, 7, generator=torch.Generator().manual_seed(3))
    ix = torch.randint(500 - 16, (7,), generator=torch.Generator().manual_seed(3))
    assert torch.equal(x, torch.stack([data[i:i+16] for i in ix])) and torch.equal(y, torch.stack([data[i+1:i+17] for i in ix]))

def test_causal_attention_loads_torch_state_dict_and_matches_with_torch_mask():
    "CausalSelfAttention keeps nn.MultiheadAttention's parameter layout: torch's state_dict loads as it is."
    utils.set_seed(1)
    ref = nn.MultiheadAttention(32, 4, batch_first=True, bias=False)
    att = CausalSelfAttention(32, 4, bias=False)
    att.load_state_dict(ref.state_dict())
    assert set(att.state_dict()) == set(ref.state_dict())
    x = torch.randn(3, 7, 32, dtype=torch.float64)
    ref, att = ref.double(), att.double()
    mask = torch.ones(7, 7, dtype=torch.bool).triu(1)  # torch's polarity: True = masked
    for fused in (True, False):
        att.fused = fused
        torch.testing.assert_close(att(x), ref(x, x, x, attn_mask=mask, need_weights=False)[0])

def test_gpt_init_of_packed_projection_is_nanogpt_std():
    m = GPT(GPTConfig(n_layer=2, n_embd=64, n_head=4))
    w = m.transformer.h[0].attn.in_proj_weight
    assert abs(w.std().item() - 0.02) < 0.002  # N(0, 0.02), not torch's Xavier-uniform

def test_token_id_check_adds_no_graph_break():
    "The range check runs in eager mode only (skipped while torch.compile traces), so GPT compiles as one graph."
    import torch._dynamo
    m = GPT(GPTConfig(block_size=8, vocab_size=11, n_layer=1, n_head=2, n_embd=16))
    assert torch._dynamo.explain(m)(torch.randint(11, (2, 8))).graph_break_count == 0

def test_block_is_torch_encoder_layer_with_norm_first_gelu_no_bias():
    "The lesson says: nn.TransformerEncoderLayer(norm_first, gelu, dropout 0, bias False) with a causal mask is our Block, renamed."
    utils.set_seed(2)
    blk = Block(GPTConfig(n_embd=32, n_head=4)).double()
    ref = nn.TransformerEncoderLayer(32, 4, 128, dropout=0.0, activation='gelu', batch_first=True, norm_first=True,
                                     bias=False, dtype=torch.float64)
    names = {'attn.': 'self_attn.', 'mlp.c_fc.': 'linear1.', 'mlp.c_proj.': 'linear2.', 'ln_1.': 'norm1.', 'ln_2.': 'norm2.'}
    sd = {next(v + k[len(a):] for a, v in names.items() if k.startswith(a)): t for k, t in blk.state_dict().items()}
    ref.load_state_dict(sd)  # strict: the same parameters, nothing missing or left over
    x = torch.randn(3, 10, 32, dtype=torch.float64)
    mask = nn.Transformer.generate_square_subsequent_mask(10, dtype=torch.float64)
    torch.testing.assert_close(blk(x), ref(x, src_mask=mask, is_causal=True))

def test_causal_attention_is_batch_first_like_nanogpt():
    "CausalSelfAttention takes (B, T, C); run as plain MultiHeadAttention (no mask) it is torch's batch_first module."
    utils.set_seed(3)
    att = CausalSelfAttention(32, 4, bias=True).double()
    assert att.batch_first
    ref = nn.MultiheadAttention(32, 4, batch_first=True, dtype=torch.float64); ref.load_state_dict(att.state_dict())
    x = torch.randn(2, 6, 32, dtype=torch.float64)
    from learnkit.attention import MultiHeadAttention
    torch.testing.assert_close(MultiHeadAttention.forward(att, x, x, x, need_weights=False)[0], ref(x, x, x, need_weights=False)[0])

# --- nanoGPT checkpoints ------------------------------------------------------------------------------------------

def _nano_state_dict(L=2, H=2, C=16, T=8, V=11, bias=True, seed=0):
    "A state dict in nanoGPT's layout, written by hand (names and shapes of nanoGPT's model.py), random float64 values."
    g = torch.Generator().manual_seed(seed)
    r = lambda *s: torch.randn(*s, generator=g, dtype=torch.float64) * 0.3
    wte = r(V, C)
    sd = {'transformer.wte.weight': wte, 'transformer.wpe.weight': r(T, C)}
    for i in range(L):
        p = f'transformer.h.{i}.'
        sd.update({p + 'ln_1.weight': 1 + r(C), p + 'attn.c_attn.weight': r(3 * C, C), p + 'attn.c_proj.weight': r(C, C),
                   p + 'ln_2.weight': 1 + r(C), p + 'mlp.c_fc.weight': r(4 * C, C), p + 'mlp.c_proj.weight': r(C, 4 * C)})
        if bias: sd.update({p + 'ln_1.bias': r(C), p + 'attn.c_attn.bias': r(3 * C), p + 'attn.c_proj.bias': r(C),
                            p + 'ln_2.bias': r(C), p + 'mlp.c_fc.bias': r(4 * C), p + 'mlp.c_proj.bias': r(C)})
    sd['transformer.ln_f.weight'] = 1 + r(C)
    if bias: sd['transformer.ln_f.bias'] = r(C)
    sd['lm_head.weight'] = wte  # tied, as nanoGPT saves it: both names, one tensor
    return sd

def _nano_logits(sd, idx, H):
    "nanoGPT's forward computed directly from the packed weights: c_attn rows are q, k, v; attention by hand."
    w = lambda k: sd.get(k)
    C = sd['transformer.wte.weight'].shape[1]; B, T = idx.shape; D = C // H
    L = 1 + max(int(k.split('.')[2]) for k in sd if k.startswith('transformer.h.'))
    x = sd['transformer.wte.weight'][idx] + sd['transformer.wpe.weight'][:T]
    future = torch.ones(T, T, dtype=torch.bool).triu(1)
    for i in range(L):
        p = f'transformer.h.{i}.'
        h = F.layer_norm(x, (C,), w(p + 'ln_1.weight'), w(p + 'ln_1.bias'), 1e-5)
        q, k, v = (t.view(B, T, H, D).transpose(1, 2) for t in F.linear(h, w(p + 'attn.c_attn.weight'), w(p + 'attn.c_attn.bias')).split(C, -1))
        att = (q @ k.transpose(-2, -1) / D ** 0.5).masked_fill(future, float('-inf')).softmax(-1)
        y = (att @ v).transpose(1, 2).reshape(B, T, C)
        x = x + F.linear(y, w(p + 'attn.c_proj.weight'), w(p + 'attn.c_proj.bias'))
        h = F.layer_norm(x, (C,), w(p + 'ln_2.weight'), w(p + 'ln_2.bias'), 1e-5)
        x = x + F.linear(F.gelu(F.linear(h, w(p + 'mlp.c_fc.weight'), w(p + 'mlp.c_fc.bias'))), w(p + 'mlp.c_proj.weight'), w(p + 'mlp.c_proj.bias'))
    return F.layer_norm(x, (C,), w('transformer.ln_f.weight'), w('transformer.ln_f.bias'), 1e-5) @ sd['lm_head.weight'].T

@pytest.mark.parametrize('bias', [True, False])
def test_from_nanogpt_gives_nanogpt_logits(bias):
    sd = _nano_state_dict(bias=bias)
    m = GPT.from_nanogpt(sd, n_head=2).double().eval()
    assert (m.config.n_layer, m.config.n_head, m.config.n_embd, m.config.block_size, m.config.vocab_size, m.config.bias) == (2, 2, 16, 8, 11, bias)
    idx = torch.randint(11, (3, 8), generator=torch.Generator().manual_seed(1))
    torch.testing.assert_close(m(idx)[0], _nano_logits(sd, idx, 2))
    assert m.lm_head.weight is m.transformer.wte.weight  # still tied after loading
    with pytest.raises(AssertionError): torch.testing.assert_close(m(idx)[0], _nano_logits(sd, idx, 4))  # the heads matter

def test_from_nanogpt_compiled_prefix_old_mask_buffer_and_checkpoint():
    sd = _nano_state_dict()
    old = {'_orig_mod.' + k: v for k, v in sd.items()}  # saved from a torch.compile'd model
    for i in range(2): old[f'_orig_mod.transformer.h.{i}.attn.bias'] = torch.ones(8, 8).tril().view(1, 1, 8, 8)  # torch < 2.0 mask buffer
    ckpt = {'model': old, 'model_args': dict(n_layer=2, n_head=2, n_embd=16, block_size=8, bias=True, vocab_size=11, dropout=0.0),
            'iter_num': 5, 'best_val_loss': 1.0}
    m = GPT.from_nanogpt(ckpt).double()  # n_head from model_args
    idx = torch.randint(11, (2, 8), generator=torch.Generator().manual_seed(2))
    torch.testing.assert_close(m(idx)[0], _nano_logits(sd, idx, 2))

def test_to_nanogpt_round_trip_and_names():
    m = _model(bias=True).double()
    sd = m.to_nanogpt()
    assert 'transformer.h.0.attn.c_attn.weight' in sd and 'transformer.h.1.attn.c_proj.bias' in sd and 'lm_head.weight' in sd
    assert not any('in_proj' in k or 'out_proj' in k for k in sd)
    assert set(sd) == set(_nano_state_dict(L=2, bias=True))  # exactly nanoGPT's names
    assert sd['transformer.h.0.attn.c_attn.weight'].shape == (96, 32)  # (3C, C), no transpose
    idx = torch.randint(11, (2, 16), generator=torch.Generator().manual_seed(3))
    with torch.no_grad(): torch.testing.assert_close(_nano_logits(sd, idx, 2), m(idx)[0])
    back = GPT.from_nanogpt(m.to_nanogpt(checkpoint=True)).double().eval()
    with torch.no_grad(): torch.testing.assert_close(back(idx)[0], m(idx)[0])

def test_from_nanogpt_errors_are_named():
    sd = _nano_state_dict()
    with pytest.raises(ValueError, match='n_head'): GPT.from_nanogpt(sd)
    bad = dict(sd); bad['lm_head.weight'] = bad['lm_head.weight'] + 1
    with pytest.raises(ValueError, match='ties'): GPT.from_nanogpt(bad, n_head=2)
    bad = dict(sd); del bad['transformer.h.1.mlp.c_fc.weight']
    with pytest.raises(ValueError, match='missing'): GPT.from_nanogpt(bad, n_head=2)
    with pytest.raises(ValueError, match='shape mismatch'): GPT.from_nanogpt(sd, GPTConfig(block_size=9, vocab_size=11, n_layer=2, n_head=2, n_embd=16, bias=True))
    with pytest.raises(ValueError, match='not a nanoGPT state dict'): GPT.from_nanogpt({'foo': torch.zeros(1)}, n_head=2)

def test_loads_into_nanogpt_model_when_its_source_is_available(tmp_path):
    "With NANOGPT_MODEL_PY pointing at nanoGPT's model.py (not part of this repository), both directions agree with nanoGPT itself."
    import os, importlib.util
    path = os.environ.get('NANOGPT_MODEL_PY')
    if not path or not os.path.exists(path): pytest.skip('set NANOGPT_MODEL_PY to nanoGPT\'s model.py to run against nanoGPT itself')
    spec = importlib.util.spec_from_file_location('nanogpt_model', path); nano = importlib.util.module_from_spec(spec); spec.loader.exec_module(nano)
    for bias in (True, False):
        utils.set_seed(4)
        ref = nano.GPT(nano.GPTConfig(block_size=16, vocab_size=11, n_layer=2, n_head=2, n_embd=32, dropout=0.0, bias=bias)).double().eval()
        ours = GPT.from_nanogpt(ref.state_dict(), n_head=2).double().eval()
        idx = torch.randint(11, (3, 16))
        with torch.no_grad():
            torch.testing.assert_close(ours(idx)[0], ref(idx, idx)[0])  # with targets nanoGPT returns every position's logits
            ref2 = nano.GPT(ref.config).double().eval(); ref2.load_state_dict(ours.to_nanogpt())
            torch.testing.assert_close(ref2(idx, idx)[0], ours(idx)[0])
