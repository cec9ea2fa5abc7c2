import torch
import torch.nn as nn


class Model(nn.Module):
    """y = LayerNorm(token_embedding[ids] + position_embedding): a BERT-style input layer, fp32;
    a gather by integer ids fused with a row norm."""

    def __init__(self, vocab: int, max_len: int, dim: int):
        super().__init__()
        self.tokens = nn.Embedding(vocab, dim)
        self.positions = nn.Parameter(torch.randn(max_len, dim) * 0.02)
        self.norm = nn.LayerNorm(dim)

    def forward(self, ids: torch.Tensor) -> torch.Tensor:
        return self.norm(self.tokens(ids) + self.positions[: ids.shape[1]])


batch_size = 32
seq_len = 512
vocab = 30522
dim = 768
CPU_SIZES = {"batch_size": 2, "seq_len": 24, "vocab": 500, "dim": 96}


def get_inputs():
    return [torch.randint(0, vocab, (batch_size, seq_len))]


def get_init_inputs():
    return [vocab, seq_len, dim]
