"""ResNet-18 for 1x28x28 input: a 3x3 stem without max pooling, then four stages of two residual blocks."""

from torch import nn

from core.models.registry import register_model, width_setting


class BasicBlock(nn.Module):
    def __init__(self, cin, cout, stride):
        super().__init__()
        self.conv1 = nn.Conv2d(cin, cout, 3, stride, 1, bias=False)
        self.bn1 = nn.BatchNorm2d(cout)
        self.conv2 = nn.Conv2d(cout, cout, 3, 1, 1, bias=False)
        self.bn2 = nn.BatchNorm2d(cout)
        self.relu = nn.ReLU()
        self.shortcut = nn.Sequential()
        if stride != 1 or cin != cout:
            self.shortcut = nn.Sequential(nn.Conv2d(cin, cout, 1, stride, bias=False), nn.BatchNorm2d(cout))

    def forward(self, x):
        out = self.relu(self.bn1(self.conv1(x)))
        out = self.bn2(self.conv2(out))
        return self.relu(out + self.shortcut(x))


@register_model(
    "resnet18",
    "ResNet-18",
    "Eighteen layers in four stages of residual blocks: each block adds its input back to its output, so "
    "gradients flow through deep networks. Adapted to 28x28 (3x3 stem, no initial pooling). "
    "`width` scales the channels (1.0 = the standard 64-512; 0.25 trains on a CPU).",
    settings=[width_setting(0.25, suggested=(0.125, 0.25, 0.5, 1.0), whole=False, cap=1.0)],
    cpu_bf16=True,
)
class ResNet18(nn.Module):
    def __init__(self, width=0.25):
        super().__init__()
        c = [max(1, round(64 * width * m)) for m in (1, 2, 4, 8)]
        self.stem = nn.Sequential(nn.Conv2d(1, c[0], 3, 1, 1, bias=False), nn.BatchNorm2d(c[0]), nn.ReLU())
        self.layer1 = nn.Sequential(BasicBlock(c[0], c[0], 1), BasicBlock(c[0], c[0], 1))  # 28x28
        self.layer2 = nn.Sequential(BasicBlock(c[0], c[1], 2), BasicBlock(c[1], c[1], 1))  # 14x14
        self.layer3 = nn.Sequential(BasicBlock(c[1], c[2], 2), BasicBlock(c[2], c[2], 1))  # 7x7
        self.layer4 = nn.Sequential(BasicBlock(c[2], c[3], 2), BasicBlock(c[3], c[3], 1))  # 4x4
        self.pool = nn.AdaptiveAvgPool2d(1)
        self.fc = nn.Linear(c[3], 10)

    def forward(self, x):
        x = self.layer4(self.layer3(self.layer2(self.layer1(self.stem(x)))))
        return self.fc(self.pool(x).flatten(1))
