"""Every public name the SPEC and the issues promise resolves, accessed the way users write it
(``ember.autograd.gradcheck``, ``ember.nn.LSTM``, ``ember.callbacks.EarlyStopping`` ...)."""

import importlib

import numpy as np
import torch

import pytest

import ember

NAMES = {
    "ember": """tensor as_tensor from_numpy zeros ones full empty zeros_like ones_like full_like
        empty_like arange linspace eye rand randn randint randperm rand_like randn_like normal
        manual_seed Generator device float16 float32 float64 int32 int64 bool Tensor no_grad
        enable_grad set_grad_enabled is_grad_enabled add sub mul div pow neg exp log log1p sqrt
        rsqrt abs sign sin cos tanh sigmoid relu clamp maximum minimum where eq ne lt le gt ge
        logical_and logical_or logical_not sum mean prod max min argmax argmin var std logsumexp
        norm all any cumsum matmul bmm einsum outer dot reshape transpose permute squeeze
        unsqueeze flatten unflatten cat stack split chunk flip roll gather scatter index_select
        index_add masked_fill softmax log_softmax tril triu bernoulli multinomial save load Model
        History sort argsort topk kthvalue median mode quantile nansum nanmean unique searchsorted
        bucketize bincount histc scatter_reduce atan2 hypot logaddexp addmm baddbmm cross kron
        cdist trace diff meshgrid tensor_split hsplit vsplit block_diag cartesian_prod""",
    "ember.linalg": """norm vector_norm matrix_norm inv det slogdet solve cholesky qr eigh eigvalsh
        svd svdvals pinv matrix_power matrix_rank multi_dot vecdot LinAlgError""",
    "ember.autograd": "grad backward Function gradcheck gradgradcheck no_grad enable_grad",
    "ember.utils": "to_dot data",
    "ember.nn": """Module Parameter Sequential ModuleList ModuleDict Linear Conv1d Conv2d
        ConvTranspose2d MaxPool1d MaxPool2d AvgPool2d AdaptiveAvgPool2d BatchNorm1d BatchNorm2d
        InstanceNorm1d InstanceNorm2d LayerNorm Dropout Dropout2d Embedding RNN LSTM GRU
        MultiheadAttention Flatten Unflatten
        Identity ReLU LeakyReLU GELU SiLU ELU Softplus Sigmoid Tanh Softmax LogSoftmax
        CrossEntropyLoss NLLLoss MSELoss L1Loss HuberLoss SmoothL1Loss BCELoss BCEWithLogitsLoss
        KLDivLoss functional init utils""",
    "ember.nn.functional": """linear conv1d conv2d conv_transpose2d max_pool2d avg_pool2d
        adaptive_avg_pool2d batch_norm layer_norm embedding dropout dropout2d relu leaky_relu gelu
        silu elu softplus sigmoid tanh softmax log_softmax one_hot pad cross_entropy nll_loss
        mse_loss l1_loss huber_loss smooth_l1_loss binary_cross_entropy
        binary_cross_entropy_with_logits kl_div""",
    "ember.nn.init": """uniform_ normal_ constant_ zeros_ ones_ xavier_uniform_ xavier_normal_
        kaiming_uniform_ kaiming_normal_ orthogonal_""",
    "ember.nn.utils": "clip_grad_norm_ clip_grad_value_",
    "ember.optim": "Optimizer SGD Adam AdamW RMSprop Adagrad Adadelta lr_scheduler",
    "ember.optim.lr_scheduler": """StepLR MultiStepLR ExponentialLR CosineAnnealingLR OneCycleLR
        LambdaLR ReduceLROnPlateau""",
    "ember.utils.data": """Dataset TensorDataset Subset DataLoader random_split Sampler
        RandomSampler SequentialSampler BatchSampler DistributedSampler get_worker_info""",
    "ember.datasets": "Iris MNIST FashionMNIST",
    "ember.transforms": "Compose Normalize Lambda ToTensor",
    "ember.callbacks": """Callback EarlyStopping ModelCheckpoint ReduceLROnPlateau CSVLogger
        TerminateOnNaN LearningRateScheduler History""",
    "ember.metrics": """Accuracy TopKAccuracy Precision Recall F1Score ConfusionMatrix
        MeanAbsoluteError MeanSquaredError""",
    "ember.cuda": "is_available device_count synchronize manual_seed",
    "ember.distributed": """init_process_group get_rank get_world_size is_initialized barrier
        all_reduce broadcast all_gather destroy_process_group ReduceOp""",
    "ember.nn.parallel": "DistributedDataParallel",
}


@pytest.mark.parametrize("module", sorted(NAMES))
def test_public_names_resolve(module):
    parts = module.split(".")
    obj = ember
    for part in parts[1:]:
        obj = getattr(obj, part)  # attribute access, as users write it
    assert obj is importlib.import_module(module) or module == "ember.utils"
    missing = [n for n in NAMES[module].split() if not hasattr(obj, n)]
    assert not missing, f"{module} lacks {missing}"


def test_tensor_methods_exist():
    t = ember.zeros(2, 3)
    for name in """backward detach requires_grad_ register_hook retain_grad to cpu numpy item tolist
            size dim numel float double long int bool exp log sum mean max argmax reshape view
            transpose permute squeeze unsqueeze flatten expand repeat matmul softmax log_softmax
            clamp masked_fill gather scatter index_select add_ mul_ zero_ fill_ clamp_ copy_
            uniform_ normal_ relu sigmoid tanh t contiguous clone chunk split""".split():
        assert hasattr(t, name), name
    assert t.T.shape == (3, 2) and t.shape == (2, 3) and t.ndim == 2 and t.is_leaf


def test_tensor_new_methods_and_memory_queries_match_torch():
    x, t = ember.ones(3, 4, dtype=ember.float64), torch.ones(3, 4, dtype=torch.float64)
    makers = [lambda m: m.new_zeros(2, 3), lambda m: m.new_ones((2,)),
              lambda m: m.new_full((2, 2), 7), lambda m: m.new_tensor([1, 2]),
              lambda m: m.new_empty(5), lambda m: m.new_zeros(2, dtype=_int32_of(m)),
              lambda m: m.new_tensor([[1.5]], requires_grad=True)]
    for make in makers:
        a, b = make(x), make(t)
        assert tuple(a.shape) == tuple(b.shape) and a.dtype.name == str(b.dtype).split(".")[1]
        assert a.requires_grad == b.requires_grad and a.device == x.device
        if make is not makers[4]:  # new_empty: values undefined
            np.testing.assert_array_equal(a.detach().numpy(), b.detach().numpy())
    for view in (lambda m: m, lambda m: m.T, lambda m: m[:, 1:], lambda m: m[::2],
                 lambda m: m.unsqueeze(1)):
        assert view(x).stride() == view(t).stride()
        assert view(x).is_contiguous() == view(t).is_contiguous()
    assert x.stride(-1) == t.stride(-1) and x.nelement() == t.nelement() == 12
    assert x[1].data_ptr() - x.data_ptr() == t[1].data_ptr() - t.data_ptr() == 32


def _int32_of(t):
    return ember.int32 if isinstance(t, ember.Tensor) else torch.int32
