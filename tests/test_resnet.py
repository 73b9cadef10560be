"""learnkit.resnet against torch: the blocks against the same blocks written with torch's layers (weights copied through
the state dict), forward and backward, train and eval; torchvision's parameter names and counts computed from the
architecture; zero_init_residual; torch_layers; the errors."""
import copy, pytest, torch
from torch import nn
import torch.nn.functional as F
from learnkit.conv import Conv2d
from learnkit.norm import BatchNorm2d
from learnkit.resnet import BasicBlock, Bottleneck, ResNet, conv1x1, conv3x3, torch_layers
import learnkit.resnet as R

torch.manual_seed(0); torch.set_num_threads(1)

# --- the same blocks written with torch's layers (torchvision's code, without torchvision) ---
class TorchBasic(nn.Module):
    def __init__(self, cin, planes, stride=1, down=False):
        super().__init__()
        self.conv1, self.bn1 = nn.Conv2d(cin, planes, 3, stride, 1, bias=False), nn.BatchNorm2d(planes)
        self.conv2, self.bn2 = nn.Conv2d(planes, planes, 3, 1, 1, bias=False), nn.BatchNorm2d(planes)
        self.downsample = nn.Sequential(nn.Conv2d(cin, planes, 1, stride, bias=False), nn.BatchNorm2d(planes)) if down else None
    def forward(self, x):
        out = self.bn2(self.conv2(F.relu(self.bn1(self.conv1(x)))))
        return F.relu(out + (x if self.downsample is None else self.downsample(x)))

class TorchBottleneck(nn.Module):
    def __init__(self, cin, planes, stride=1, down=False, groups=1, base_width=64):
        super().__init__()
        w = int(planes * base_width / 64) * groups
        self.conv1, self.bn1 = nn.Conv2d(cin, w, 1, bias=False), nn.BatchNorm2d(w)
        self.conv2, self.bn2 = nn.Conv2d(w, w, 3, stride, 1, groups=groups, bias=False), nn.BatchNorm2d(w)
        self.conv3, self.bn3 = nn.Conv2d(w, planes * 4, 1, bias=False), nn.BatchNorm2d(planes * 4)
        self.downsample = nn.Sequential(nn.Conv2d(cin, planes * 4, 1, stride, bias=False), nn.BatchNorm2d(planes * 4)) if down else None
    def forward(self, x):
        out = F.relu(self.bn1(self.conv1(x)))
        out = F.relu(self.bn2(self.conv2(out)))
        out = self.bn3(self.conv3(out))
        return F.relu(out + (x if self.downsample is None else self.downsample(x)))

def _randomise(m):
    "Random weights and gains, so a copying mistake cannot hide behind ones and zeros."
    with torch.no_grad():
        for n, p in m.named_parameters(): p.copy_(torch.randn(p.shape, dtype=p.dtype) * (0.3 if p.dim() == 4 else 0.5) + (1 if n.endswith('weight') and p.dim() == 1 else 0))
    return m

def _compare(ours, ref, shape, steps=3):
    "Train-mode steps (outputs, input and parameter gradients, running statistics), then eval mode."
    ref.load_state_dict(ours.state_dict())
    for step in range(steps):
        x = torch.randn(shape, dtype=torch.float64) * (step + 1)
        g = torch.randn_like(copy.deepcopy(ours)(x))  # a copy: a training-mode call updates the running statistics
        outs = []
        for m in (ours, ref):
            xi = x.clone().requires_grad_(); m.zero_grad()
            out = m(xi); (out * g).sum().backward()
            outs.append((out.detach(), xi.grad, {n: p.grad.clone() for n, p in m.named_parameters()}))
        (o1, gx1, gp1), (o2, gx2, gp2) = outs
        torch.testing.assert_close(o1, o2); torch.testing.assert_close(gx1, gx2)
        assert gp1.keys() == gp2.keys()
        for k in gp1: torch.testing.assert_close(gp1[k], gp2[k], msg=k)
    for k, v in ref.state_dict().items(): torch.testing.assert_close(ours.state_dict()[k], v, msg=k)
    ours.eval(); ref.eval()
    x = torch.randn(shape, dtype=torch.float64).requires_grad_(); x2 = x.detach().clone().requires_grad_()
    o1, o2 = ours(x), ref(x2)
    torch.testing.assert_close(o1, o2)
    o1.square().sum().backward(); o2.square().sum().backward()
    torch.testing.assert_close(x.grad, x2.grad)

def _down(cin, cout, stride): return nn.Sequential(conv1x1(cin, cout, stride), BatchNorm2d(cout))

@pytest.mark.parametrize('cin,planes,stride', [(4, 4, 1), (4, 8, 2), (3, 6, 1)])
def test_basic_block_matches_torch_layers(cin, planes, stride):
    down = _down(cin, planes, stride) if stride != 1 or cin != planes else None
    ours = _randomise(BasicBlock(cin, planes, stride, down).double())
    ref = TorchBasic(cin, planes, stride, down is not None).double()
    _compare(ours, ref, (5, cin, 7, 7))

@pytest.mark.parametrize('cin,planes,stride,groups,base_width', [(16, 4, 1, 1, 64), (8, 4, 2, 1, 64), (16, 4, 2, 2, 64), (16, 4, 1, 1, 128)])
def test_bottleneck_matches_torch_layers(cin, planes, stride, groups, base_width):
    down = _down(cin, planes * 4, stride) if stride != 1 or cin != planes * 4 else None
    ours = _randomise(Bottleneck(cin, planes, stride, down, groups, base_width).double())
    ref = TorchBottleneck(cin, planes, stride, down is not None, groups, base_width).double()
    _compare(ours, ref, (4, cin, 6, 6))

def test_resnet_matches_torch_layers_and_torch_layers_copies():
    m = _randomise(ResNet(BasicBlock, [1, 2], num_classes=5, in_channels=1, widths=[4, 8], stem='small').double())
    t = torch_layers(m)
    assert not any(isinstance(x, (Conv2d, BatchNorm2d)) for x in t.modules())
    assert sum(isinstance(x, nn.Conv2d) for x in t.modules()) == sum(isinstance(x, Conv2d) for x in m.modules())
    assert list(t.state_dict()) == list(m.state_dict())
    _compare(m, t, (6, 1, 8, 8))

def test_torch_layers_keeps_mode_options_and_other_layers():
    "Eval mode, affine=False, track_running_stats=False and float32 survive the copy; other layers are kept; the original is untouched."
    from learnkit.conv import MaxPool2d
    m = nn.Sequential(Conv2d(2, 4, 3, padding=1), BatchNorm2d(4, affine=False), nn.ReLU(), MaxPool2d(2), Conv2d(4, 3, 1, bias=True),
                      BatchNorm2d(3, track_running_stats=False))
    with torch.no_grad(): m(torch.randn(8, 2, 6, 6))  # some running statistics to copy
    m.eval(); t = torch_layers(m)
    assert not t.training and not t[1].training
    assert type(t[0]) is nn.Conv2d and type(t[1]) is nn.BatchNorm2d and type(t[3]) is MaxPool2d and type(m[0]) is Conv2d
    assert t[1].weight is None and t[5].running_mean is None and t[4].bias is not None
    torch.testing.assert_close(t[1].running_var, m[1].running_var)
    x = torch.randn(3, 2, 6, 6)
    torch.testing.assert_close(t(x), m(x), atol=1e-5, rtol=1e-5)

# --- torchvision's names and counts, computed from the architecture ---
def _bn_keys(p): return [f'{p}.weight', f'{p}.bias', f'{p}.running_mean', f'{p}.running_var', f'{p}.num_batches_tracked']

def _expected_keys(layers, widths, expansion, in_w):
    "torchvision's state-dict keys for a ResNet with these stages, written out from its layout."
    keys, cin = ['conv1.weight', *_bn_keys('bn1')], in_w
    convs = ['conv1', 'conv2'] if expansion == 1 else ['conv1', 'conv2', 'conv3']
    for i, (n, w) in enumerate(zip(layers, widths)):
        for j in range(n):
            p = f'layer{i+1}.{j}'
            for c in convs: keys += [f'{p}.{c}.weight', *_bn_keys(f'{p}.bn{c[-1]}')]
            if j == 0 and (i > 0 or cin != w * expansion): keys += [f'{p}.downsample.0.weight', *_bn_keys(f'{p}.downsample.1')]
            cin = w * expansion
    return keys + ['fc.weight', 'fc.bias']


@pytest.mark.parametrize('block,layers,widths,stem', [(BasicBlock, [1, 2, 1], [4, 8, 16], 'small'), (Bottleneck, [2, 1], [4, 8], 'small'),
                                                      (BasicBlock, [2, 2, 2, 2], None, 'imagenet')])
def test_state_dict_keys_follow_torchvision(block, layers, widths, stem):
    m = ResNet(block, layers, num_classes=10, widths=widths, stem=stem)
    w = widths or [64 * 2**i for i in range(len(layers))]
    assert list(m.state_dict()) == _expected_keys(layers, w, block.expansion, w[0])

def _count(block, layers, widths, in_ch=3, classes=1000):
    "Parameters of a ResNet with the ImageNet stem, counted from the architecture: convs have no bias, BN has 2 per channel."
    n = in_ch * widths[0] * 7 * 7 + 2 * widths[0]
    cin = widths[0]
    for i, (blocks, w) in enumerate(zip(layers, widths)):
        for j in range(blocks):
            if block is BasicBlock: n += cin * w * 9 + 2 * w + w * w * 9 + 2 * w; out = w
            else: n += cin * w + 2 * w + w * w * 9 + 2 * w + w * 4 * w + 2 * 4 * w; out = 4 * w
            if j == 0 and (i > 0 or cin != out): n += cin * out + 2 * out
            cin = out
    return n + cin * classes + classes

def test_resnet18_and_50_parameter_counts():
    for block, layers in ((BasicBlock, [2, 2, 2, 2]), (Bottleneck, [3, 4, 6, 3])):
        m = ResNet(block, layers)
        assert sum(p.numel() for p in m.parameters()) == _count(block, layers, [64, 128, 256, 512])
    assert _count(BasicBlock, [2, 2, 2, 2], [64, 128, 256, 512]) == 11_689_512  # torchvision's documented resnet18 num_params
    assert _count(Bottleneck, [3, 4, 6, 3], [64, 128, 256, 512]) == 25_557_032  # and resnet50's

def test_imagenet_stem_shapes():
    m = ResNet(BasicBlock, [1, 1], num_classes=3, widths=[8, 16]).eval()
    with torch.no_grad():
        x = torch.randn(2, 3, 64, 64)
        s = m.maxpool(m.relu(m.bn1(m.conv1(x))))
        assert s.shape == (2, 8, 16, 16) and m(x).shape == (2, 3)
        assert m(torch.randn(1, 3, 37, 45)).shape == (1, 3)  # global average pooling: any size

def test_init_like_torchvision():
    m = ResNet(BasicBlock, [1, 1], widths=[32, 64])
    w = m.layer2[0].conv1.weight  # kaiming normal, fan_out, relu gain: std sqrt(2 / (64 * 9))
    assert abs(w.std().item() - (2 / (64 * 9)) ** 0.5) < 0.1 * (2 / (64 * 9)) ** 0.5
    for mod in m.modules():
        if isinstance(mod, BatchNorm2d): assert (mod.weight == 1).all() and (mod.bias == 0).all()

@pytest.mark.parametrize('block,last', [(BasicBlock, 'bn2'), (Bottleneck, 'bn3')])
def test_zero_init_residual(block, last):
    m = ResNet(block, [2, 2], num_classes=4, in_channels=1, widths=[4, 8], stem='small', zero_init_residual=True)
    blocks = [b for b in m.modules() if isinstance(b, block)]
    assert all((getattr(b, last).weight == 0).all() for b in blocks)
    assert all((b.bn1.weight == 1).all() for b in blocks)
    b = m.layer1[1]  # no downsample: the identity on a ReLU output
    x = torch.relu(torch.randn(3, b.conv1.in_channels, 5, 5))
    torch.testing.assert_close(b(x), x)
    m0 = ResNet(block, [2, 2], num_classes=4, in_channels=1, widths=[4, 8], stem='small')
    assert not any((getattr(b, last).weight == 0).all() for b in m0.modules() if isinstance(b, block))

def test_norm_layer_argument():
    m = ResNet(BasicBlock, [1, 1], num_classes=2, in_channels=1, widths=[4, 8], stem='small', norm_layer=nn.BatchNorm2d)
    assert isinstance(m.bn1, nn.BatchNorm2d) and isinstance(m.layer2[0].downsample[1], nn.BatchNorm2d)
    assert m(torch.randn(2, 1, 8, 8)).shape == (2, 2)

def test_errors():
    with pytest.raises(ValueError, match='groups=1 and base_width=64'): BasicBlock(4, 4, groups=2)
    with pytest.raises(NotImplementedError, match='Dilation'): BasicBlock(4, 4, dilation=2)
    with pytest.raises(ValueError, match='downsample'): BasicBlock(4, 8, stride=2)(torch.randn(1, 4, 8, 8))
    with pytest.raises(ValueError, match='downsample'): Bottleneck(8, 4)(torch.randn(1, 8, 4, 4))
    with pytest.raises(ValueError, match=r'\(N, 1, H, W\)'): ResNet(BasicBlock, [1], in_channels=1, widths=[4], stem='small')(torch.randn(2, 3, 8, 8))
    with pytest.raises(ValueError, match='widths'): ResNet(BasicBlock, [1, 1], widths=[4])
    with pytest.raises(ValueError, match='layers'): ResNet(BasicBlock, [])
    with pytest.raises(ValueError, match='stem'): ResNet(BasicBlock, [1], stem='tiny')
    with pytest.raises(ValueError, match='replace_stride_with_dilation'): ResNet(BasicBlock, [1, 1], replace_stride_with_dilation=[True, True])

def test_dilation_instead_of_stride():
    m = ResNet(Bottleneck, [1, 1, 2], num_classes=2, widths=[4, 8, 16], replace_stride_with_dilation=[False, True]).eval()
    assert m.layer3[0].conv2.stride == (1, 1) and m.layer3[0].conv2.dilation == (1, 1)  # torchvision: the first block keeps the previous dilation
    assert m.layer3[1].conv2.dilation == (2, 2) and m.layer2[0].conv2.stride == (2, 2)
    with torch.no_grad(): assert m(torch.randn(1, 3, 32, 32)).shape == (1, 2)

def test_docstrings():
    for name in R.__all__:
        obj = getattr(R, name)
        assert obj.__doc__ and obj.__doc__.strip(), name
        if isinstance(obj, type):
            for meth in ('__init__', 'forward'):
                if meth in vars(obj): assert vars(obj)[meth].__doc__, f'{name}.{meth}'

# --- the result the lesson rests on, in the short form CI can afford (the lesson's slow cells run 300 steps) ---
def _plain(n):
    "The lesson's plain CNN: the residual network's layers without the shortcuts (torch's layers)."
    def cbr(i, o, s=1): return [nn.Conv2d(i, o, 3, s, 1, bias=False), nn.BatchNorm2d(o), nn.ReLU()]
    layers, c = cbr(1, 16), 16
    for i, w in enumerate((16, 32, 64)):
        for j in range(2 * n): layers += cbr(c, w, 2 if i and j == 0 else 1); c = w
    net = nn.Sequential(*layers, nn.AdaptiveAvgPool2d(1), nn.Flatten(), nn.Linear(64, 10))
    for m in net.modules():
        if isinstance(m, nn.Conv2d): nn.init.kaiming_normal_(m.weight, mode='fan_out', nonlinearity='relu')
    return net

def _final_loss(model, X, y, steps=60):
    g = torch.Generator().manual_seed(1)
    opt = torch.optim.SGD(model.parameters(), lr=0.05, momentum=0.9, weight_decay=1e-4)
    losses = []
    for _ in range(steps):
        b = torch.randint(len(X), (64,), generator=g)
        loss = F.cross_entropy(model(X[b]), y[b]); opt.zero_grad(); loss.backward(); opt.step(); losses.append(loss.item())
    return sum(losses[-10:]) / 10

def test_deep_plain_degrades_and_residual_does_not():
    from sklearn.datasets import load_digits
    X, y = load_digits(return_X_y=True)
    X, y = torch.tensor(X, dtype=torch.float32).view(-1, 1, 8, 8) / 16, torch.tensor(y)
    torch.manual_seed(0)
    plain8, plain20 = _plain(1), _plain(3)
    res20 = torch_layers(ResNet(BasicBlock, [3, 3, 3], num_classes=10, in_channels=1, widths=[16, 32, 64], stem='small'))
    p8, p20, r20 = (_final_loss(m, X, y) for m in (plain8, plain20, res20))
    assert p20 > 1.5 * p8, (p8, p20)  # deeper plain: a higher training loss
    assert r20 < p20 / 1.5, (r20, p20)  # same depth with shortcuts: lower
