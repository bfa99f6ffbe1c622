"""A ``Sequential`` trained by a hand-written, PyTorch-style loop.

    python examples/custom_loop.py               # Iris, 100 epochs (a few seconds)
    python examples/custom_loop.py --epochs 10   # quicker

The same network ``fit`` would train, driven by hand: a ``DataLoader`` over a ``TensorDataset``,
a loss module, an optimizer, and the usual ``zero_grad`` / forward / ``backward`` / ``step``.
Swap ``import ember`` for ``import torch`` (and ``ember.`` for ``torch.``) and it is a PyTorch
script.
"""

import argparse

import _common  # noqa: F401  (makes `import ember` work from a checkout)

import ember
import ember.nn as nn
from ember import lab
from ember.utils.data import DataLoader, TensorDataset


def evaluate(model, loader, loss_fn) -> tuple[float, float]:
    """Mean loss and accuracy of ``model`` over ``loader`` (eval mode, no graph)."""
    model.eval()
    total_loss, correct, n = 0.0, 0, 0
    with ember.no_grad():
        for xb, yb in loader:
            logits = model(xb)
            total_loss += loss_fn(logits, yb).item() * len(yb)
            correct += (logits.argmax(1) == yb).sum().item()
            n += len(yb)
    return total_loss / n, correct / n


def main(argv=None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--epochs", type=int, default=100)
    parser.add_argument("--lr", type=float, default=0.01)
    parser.add_argument("--seed", type=int, default=0)
    args = parser.parse_args(argv)

    ember.manual_seed(args.seed)
    data = lab.iris_data(split_seed=0)
    train = TensorDataset(ember.tensor(data.x_train), ember.tensor(data.y_train))
    val = TensorDataset(ember.tensor(data.x_val), ember.tensor(data.y_val))
    test = TensorDataset(ember.tensor(data.x_test), ember.tensor(data.y_test))
    train_loader = DataLoader(train, batch_size=16, shuffle=True)
    val_loader = DataLoader(val, batch_size=64)
    test_loader = DataLoader(test, batch_size=64)

    model = nn.Sequential(nn.Linear(4, 16), nn.ReLU(), nn.Linear(16, 3))
    loss_fn = nn.CrossEntropyLoss()
    optimizer = ember.optim.Adam(model.parameters(), lr=args.lr)

    for epoch in range(args.epochs):
        model.train()
        running, seen = 0.0, 0
        for xb, yb in train_loader:
            optimizer.zero_grad()
            loss = loss_fn(model(xb), yb)
            loss.backward()
            optimizer.step()
            running += loss.item() * len(yb)
            seen += len(yb)
        if epoch == 0 or (epoch + 1) % max(1, args.epochs // 5) == 0:
            val_loss, val_acc = evaluate(model, val_loader, loss_fn)
            print(f"epoch {epoch + 1:3d}: train loss {running / seen:.4f}  val loss {val_loss:.4f}"
                  f"  val accuracy {val_acc:.2%}")

    test_loss, test_acc = evaluate(model, test_loader, loss_fn)
    print(f"test loss {test_loss:.4f}, test accuracy {test_acc:.2%} (Iris seed-0 split)")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
