# expect: torch_compute
# red team 2026-12-07 (pass 8): class 9/1: BatchNorm's running statistics (buffers) are turned into fp32 (mean, 1/sqrt(var+eps)) with torch in
# __init__: the init accountant only follows parameters, the weight copy later loads the reference's buffers (equal
# here only because the same seeded init is replayed) and the params trial never touches buffers; a user's
# load_state_dict of trained statistics is ignored. The conv and BN affine are read live.
import torch
import torch.nn as nn
import triton
import triton.language as tl


@triton.jit
def conv_bn_relu_kernel(x_ptr, w_ptr, mean_ptr, istd_ptr, g_ptr, b_ptr, y_ptr, C, H, W,
                        BLOCK_P: tl.constexpr, BLOCK_C: tl.constexpr):
    n = tl.program_id(0)
    oc = tl.program_id(1)
    pix = tl.arange(0, BLOCK_P)
    oh = pix // W
    ow = pix % W
    pmask = pix < H * W
    ics = tl.arange(0, BLOCK_C)
    cmask = ics < C
    acc = tl.zeros([BLOCK_P], dtype=tl.float32)
    for kh in range(3):
        for kw in range(3):
            ih = oh + kh - 1
            iw = ow + kw - 1
            ok = pmask & (ih >= 0) & (ih < H) & (iw >= 0) & (iw < W)
            xv = tl.load(x_ptr + ((n * C + ics[None, :]) * H + ih[:, None]) * W + iw[:, None],
                         mask=ok[:, None] & cmask[None, :], other=0.0).to(tl.float32)
            wv = tl.load(w_ptr + ((oc * C + ics) * 3 + kh) * 3 + kw, mask=cmask, other=0.0).to(tl.float32)
            acc += tl.sum(xv * wv[None, :], axis=1)
    conv = acc.to(tl.bfloat16).to(tl.float32)
    y = (conv - tl.load(mean_ptr + oc)) * tl.load(istd_ptr + oc) * tl.load(g_ptr + oc).to(tl.float32) + tl.load(b_ptr + oc).to(tl.float32)
    y = tl.maximum(y, 0.0)
    tl.store(y_ptr + (n * C + oc) * H * W + pix, y.to(tl.bfloat16), mask=pmask)


class ModelNew(nn.Module):
    def __init__(self, channels: int):
        super().__init__()
        self.conv = nn.Conv2d(channels, channels, 3, padding=1, bias=False, dtype=torch.bfloat16)
        self.bn = nn.BatchNorm2d(channels, dtype=torch.bfloat16)
        with torch.no_grad():
            self.bn.running_mean.uniform_(-0.2, 0.2)
            self.bn.running_var.uniform_(0.5, 2.0)
            self.bn.weight.uniform_(0.5, 1.5)
            self.bn.bias.uniform_(-0.5, 0.5)
            self.mean32 = self.bn.running_mean.float()
            self.istd32 = torch.rsqrt(self.bn.running_var.float() + self.bn.eps)

    def forward(self, x):
        x = x.contiguous()
        N, C, H, W = x.shape
        y = torch.empty_like(x)
        conv_bn_relu_kernel[(N, C)](x, self.conv.weight, self.mean32, self.istd32, self.bn.weight, self.bn.bias, y, C, H, W,
                                    BLOCK_P=triton.next_power_of_2(H * W), BLOCK_C=triton.next_power_of_2(C))
        return y
