"""The reference models: small networks written here and torchvision models with
random weights (num_classes=10), and how each is made from its seed.

MODELS maps a name to (constructor, per-example input shape, notes); model k
of MODELS is built under the seed SEED + 1000 k and its BatchNorm calibrated
with a generator seeded SEED + 1000 k + 1 (fixture_model), which is how the
backend-onnx fixtures and the benchmark make the same networks."""

import torch
import torch.nn as nn
import torchvision

SEED = 20240601


class MLP(nn.Module):
    """20 -> 32 -> 16 -> 5, ReLU between."""

    def __init__(self):
        super().__init__()
        self.net = nn.Sequential(
            nn.Linear(20, 32), nn.ReLU(),
            nn.Linear(32, 16), nn.ReLU(),
            nn.Linear(16, 5),
        )

    def forward(self, x):
        return self.net(x)


class CNN1d(nn.Module):
    """A small 1-D CNN for a 12-lead ECG-like series [B, 12, 128] -> 4 classes."""

    def __init__(self):
        super().__init__()
        self.features = nn.Sequential(
            nn.Conv1d(12, 16, kernel_size=7, padding=3),
            nn.BatchNorm1d(16),
            nn.ReLU(),
            nn.MaxPool1d(kernel_size=2),
            nn.Conv1d(16, 24, kernel_size=5, padding=4, dilation=2),
            nn.BatchNorm1d(24),
            nn.ReLU(),
            nn.AdaptiveAvgPool1d(1),
        )
        self.head = nn.Linear(24, 4)

    def forward(self, x):
        return self.head(torch.flatten(self.features(x), 1))


class Attention(nn.Module):
    """Multi-head self-attention with explicit MatMul / Softmax / Reshape / Transpose."""

    def __init__(self, dim, heads):
        super().__init__()
        self.heads = heads
        self.head_dim = dim // heads
        self.scale = self.head_dim ** -0.5
        self.qkv = nn.Linear(dim, 3 * dim)
        self.proj = nn.Linear(dim, dim)

    def forward(self, x):
        b, t, d = x.shape
        qkv = self.qkv(x).reshape(b, t, 3, self.heads, self.head_dim).permute(2, 0, 3, 1, 4)
        q, k, v = qkv[0], qkv[1], qkv[2]  # [b, heads, t, head_dim]
        attn = torch.softmax(torch.matmul(q, k.transpose(-2, -1)) * self.scale, dim=-1)
        out = torch.matmul(attn, v).transpose(1, 2).reshape(b, t, d)
        return self.proj(out)


class Block(nn.Module):
    """Pre-norm transformer encoder block with an exact (erf) GELU MLP."""

    def __init__(self, dim, heads, mlp_dim):
        super().__init__()
        self.norm1 = nn.LayerNorm(dim)
        self.attn = Attention(dim, heads)
        self.norm2 = nn.LayerNorm(dim)
        self.mlp = nn.Sequential(nn.Linear(dim, mlp_dim), nn.GELU(), nn.Linear(mlp_dim, dim))

    def forward(self, x):
        x = x + self.attn(self.norm1(x))
        return x + self.mlp(self.norm2(x))


class ViTTiny(nn.Module):
    """A small ViT: 32x32 input, 8x8 patches (16 tokens + class token), dim 48,
    3 heads, 2 blocks, 10 classes from the class token."""

    def __init__(self, image=32, patch=8, dim=48, heads=3, depth=2, mlp_dim=96, classes=10):
        super().__init__()
        tokens = (image // patch) ** 2
        self.patch_embed = nn.Conv2d(3, dim, kernel_size=patch, stride=patch)
        self.cls_token = nn.Parameter(torch.randn(1, 1, dim) * 0.5)
        self.pos_embed = nn.Parameter(torch.randn(1, tokens + 1, dim) * 0.5)
        self.blocks = nn.Sequential(*[Block(dim, heads, mlp_dim) for _ in range(depth)])
        self.norm = nn.LayerNorm(dim)
        self.head = nn.Linear(dim, classes)
        # LayerNorm affine parameters away from (1, 0), so they matter.
        for m in self.modules():
            if isinstance(m, nn.LayerNorm):
                with torch.no_grad():
                    m.weight.uniform_(0.75, 1.25)
                    m.bias.normal_(0.0, 0.1)

    def forward(self, x):
        x = self.patch_embed(x).flatten(2).transpose(1, 2)  # [b, tokens, dim]
        cls = self.cls_token.expand(x.shape[0], -1, -1)
        x = torch.cat([cls, x], dim=1) + self.pos_embed
        x = self.norm(self.blocks(x))
        return self.head(x[:, 0])


# ---------------------------------------------------------------------------
# torchvision models (random weights, num_classes=10)
# ---------------------------------------------------------------------------

def vgg11_bn_small():
    """torchvision vgg11_bn with its 4096-wide classifier replaced by a small one
    of the same kinds of layers (Linear, ReLU, Dropout), and its
    AdaptiveAvgPool2d((7, 7)) by AdaptiveAvgPool2d((1, 1)): on a 48x48 input the
    features are 512x1x1, and PyTorch 1.13 cannot export an adaptive pool whose
    output size is not a divisor of its input size."""
    m = torchvision.models.vgg11_bn(weights=None, num_classes=10)
    m.avgpool = nn.AdaptiveAvgPool2d((1, 1))
    m.classifier = nn.Sequential(
        nn.Linear(512, 64), nn.ReLU(True), nn.Dropout(),
        nn.Linear(64, 64), nn.ReLU(True), nn.Dropout(),
        nn.Linear(64, 10),
    )
    for l in m.classifier:
        if isinstance(l, nn.Linear):
            nn.init.normal_(l.weight, 0, 0.05)
            nn.init.constant_(l.bias, 0)
    return m


IMAGE = [3, 48, 48]
IMAGE_NOTE = ('input 3x48x48 (not 64x64): with a batch of 2, N = 4 noise samples '
              'and 9-digit values, 64x64 would make this file over 1.5 MB')

# name -> (constructor, per-example input shape, notes)
MODELS = {
    'mlp': (MLP, [20], ''),
    'cnn1d': (CNN1d, [12, 128], ''),
    'resnet18': (lambda: torchvision.models.resnet18(weights=None, num_classes=10), IMAGE, IMAGE_NOTE),
    'vgg11_bn': (vgg11_bn_small, IMAGE, IMAGE_NOTE + '; classifier replaced by Linear(512, 64), ReLU, Dropout, '
                 'Linear(64, 64), ReLU, Dropout, Linear(64, 10) and avgpool by AdaptiveAvgPool2d((1, 1))'),
    'mobilenet_v2': (lambda: torchvision.models.mobilenet_v2(weights=None, num_classes=10), IMAGE, IMAGE_NOTE),
    'mobilenet_v3_small': (lambda: torchvision.models.mobilenet_v3_small(weights=None, num_classes=10), IMAGE,
                           IMAGE_NOTE),
    'efficientnet_b0': (lambda: torchvision.models.efficientnet_b0(weights=None, num_classes=10), IMAGE, IMAGE_NOTE),
    'vit_tiny': (ViTTiny, [3, 32, 32], 'written in make-fixtures.py: 8x8 patches, dim 48, 3 heads, 2 blocks'),
}


def calibrate_batchnorm(model, example_shape, generator):
    """Gives every BatchNorm random affine parameters and the running statistics
    of a few random batches, so that eval-mode BatchNorm is neither the identity
    nor blows the activations up."""
    bns = [m for m in model.modules() if isinstance(m, nn.modules.batchnorm._BatchNorm)]
    if not bns:
        return
    with torch.no_grad():
        for bn in bns:
            bn.weight.copy_(torch.rand(bn.weight.shape, generator=generator) * 0.5 + 0.75)
            bn.bias.copy_(torch.randn(bn.bias.shape, generator=generator) * 0.1)
            bn.reset_running_stats()
            bn.momentum = None  # cumulative average over the calibration batches
        model.train()
        for _ in range(4):
            model(torch.randn([8] + example_shape, generator=generator))
    for bn in bns:
        bn.momentum = 0.1
    model.eval()


def fixture_model(name):
    """Model `name` of MODELS with its weights and BatchNorm statistics as the
    fixtures have them, in eval mode; also its seed (SEED + 1000 k, k its index
    in MODELS), from which the fixtures' draws take theirs."""
    make_model, example_shape, _ = MODELS[name]
    seed = SEED + 1000 * list(MODELS).index(name)
    torch.manual_seed(seed)
    generator = torch.Generator().manual_seed(seed + 1)
    model = make_model()
    calibrate_batchnorm(model, example_shape, generator)
    model.eval()
    return model, seed
