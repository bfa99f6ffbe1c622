"""Feeding data to a model: ``Dataset``, ``TensorDataset``, ``Subset``, ``ConcatDataset``,
``StackDataset``, ``ChainDataset``, ``random_split``, samplers, ``DataLoader`` and
``get_worker_info``, with PyTorch's names and semantics."""

from ember.utils.data.dataset import (
    ChainDataset,
    ConcatDataset,
    Dataset,
    IterableDataset,
    StackDataset,
    Subset,
    TensorDataset,
    random_split,
)
from ember.utils.data.sampler import (
    BatchSampler,
    RandomSampler,
    Sampler,
    SequentialSampler,
    SubsetRandomSampler,
    WeightedRandomSampler,
)
from ember.utils.data.dataloader import (
    DataLoader,
    default_collate,
    default_convert,
    get_worker_info,
)
from ember.utils.data.distributed import DistributedSampler

__all__ = [
    "Dataset", "IterableDataset", "TensorDataset", "Subset", "ConcatDataset", "StackDataset",
    "ChainDataset", "random_split",
    "Sampler", "SequentialSampler", "RandomSampler", "SubsetRandomSampler", "BatchSampler",
    "WeightedRandomSampler", "DataLoader", "default_collate", "default_convert",
    "get_worker_info", "DistributedSampler",
]
