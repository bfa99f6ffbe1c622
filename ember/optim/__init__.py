"""Optimizers (``SGD``, ``Adam``, ``AdamW``, ``RMSprop``, ``Adagrad``, ``Adadelta``) and learning-rate
schedulers (:mod:`ember.optim.lr_scheduler`), with PyTorch's names, arguments and update rules."""

from ember.optim.optimizer import Optimizer, required
from ember.optim.sgd import SGD
from ember.optim.adam import Adam, AdamW
from ember.optim.rmsprop import RMSprop
from ember.optim.adagrad import Adagrad
from ember.optim.adadelta import Adadelta
from ember.optim.nadam import NAdam
from ember.optim.radam import RAdam
from ember.optim.adamax import Adamax
from ember.optim.asgd import ASGD
from ember.optim.rprop import Rprop
from ember.optim.lbfgs import LBFGS
from ember.optim.adafactor import Adafactor
from ember.optim.muon import Muon
from ember.optim import lr_scheduler
from ember.optim import swa_utils

__all__ = ["Optimizer", "required", "SGD", "Adam", "AdamW", "RMSprop", "Adagrad", "Adadelta",
           "lr_scheduler",
           "NAdam", "RAdam", "Adamax", "ASGD", "Rprop", "LBFGS", "Adafactor", "Muon", "swa_utils"]
