"""``ember.backends``: the switches PyTorch programs flip on ``torch.backends``.

ember's CPU ops are deterministic and it has no cuDNN, MKL-DNN or TF32 kernels, so these
attributes are accepted and remembered (programs that set ``cudnn.deterministic = True`` or
read ``mps.is_available()`` run unchanged) and change nothing.
"""

from types import SimpleNamespace

cudnn = SimpleNamespace(enabled=True, benchmark=False, deterministic=False, allow_tf32=True,
                        is_available=lambda: False, version=lambda: None)
mkldnn = SimpleNamespace(enabled=True, is_available=lambda: False)
mps = SimpleNamespace(is_available=lambda: False, is_built=lambda: False)
cuda = SimpleNamespace(matmul=SimpleNamespace(allow_tf32=False,
                                              allow_fp16_reduced_precision_reduction=True),
                       is_built=lambda: False)
openmp = SimpleNamespace(is_available=lambda: False)

__all__ = ["cudnn", "mkldnn", "mps", "cuda", "openmp"]
