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
    y1 = att(x); g1 = torch.autograd.grad(y1.square().sum(), (x, att.q_proj.weight))
    att.fused = False
    y2 = att(x); g2 = torch.autograd.grad(y2.square().sum(), (x, att.q_proj.weight))
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
    with pytest.raises(ValueError, match='temperature must be positive'): m.generate(torch.zeros(1, 1, dtype=torch.long), 2, temperature=0)

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
    tok = CharTokenizer('hello world')
    assert tok.vocab_size == 8 and tok.decode(tok.encode('hold')) == 'hold'
    with pytest.raises(ValueError, match='not in the vocabulary'): tok.encode('hex')
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
