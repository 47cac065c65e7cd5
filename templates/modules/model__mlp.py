"""Multi-layer perceptron (PyTorch, CPU) on standardized features, for classification or regression."""
import numpy as np
import pandas as pd
import torch
from sklearn.base import BaseEstimator

SEARCH_SPACE = {
    "hidden": {"type": "int", "low": 16, "high": 256, "log": True},
    "layers": {"type": "int", "low": 1, "high": 3},
    "dropout": {"type": "float", "low": 0.0, "high": 0.5},
    "learning_rate": {"type": "float", "low": 0.0003, "high": 0.03, "log": True},
    "weight_decay": {"type": "float", "low": 1e-06, "high": 0.01, "log": True},
    "epochs": {"type": "int", "low": 20, "high": 200, "log": True},
}


def _T2MLMLP_task(task, y: np.ndarray) -> str:
    if task in ("binary", "multiclass", "regression"):
        return task
    if y.dtype.kind == "f":
        return "regression"
    return "binary" if len(np.unique(y)) <= 2 else "multiclass"


class T2MLMLP(BaseEstimator):
    """Fully connected ReLU network trained with AdamW on mini-batches; one thread, seeded."""

    def __init__(self, task: str | None = None, hidden: int = 64, layers: int = 2, dropout: float = 0.1,
                 learning_rate: float = 0.003, weight_decay: float = 0.0001, epochs: int = 60,
                 batch_size: int = 128, random_state: int = 0):
        self.task = task
        self.hidden = hidden
        self.layers = layers
        self.dropout = dropout
        self.learning_rate = learning_rate
        self.weight_decay = weight_decay
        self.epochs = epochs
        self.batch_size = batch_size
        self.random_state = random_state

    def _inputs(self, X) -> torch.Tensor:
        Xa = pd.DataFrame(X).to_numpy(dtype="float64")
        Xa = np.nan_to_num((Xa - self.mean_) / self.scale_, nan=0.0, posinf=0.0, neginf=0.0)
        return torch.as_tensor(np.clip(Xa, -10.0, 10.0), dtype=torch.float32)

    def _setup(self, X, y) -> tuple:
        """Task, scaling, targets and an untrained (seeded) network; shared by fit and the proxies."""
        torch.set_num_threads(1)
        y = np.asarray(y)
        self.task_ = _T2MLMLP_task(self.task, y)
        Xa = pd.DataFrame(X).to_numpy(dtype="float64")
        self.mean_ = np.nan_to_num(Xa.mean(axis=0)) if len(Xa) else np.zeros(Xa.shape[1])
        std = np.nan_to_num(Xa.std(axis=0)) if len(Xa) else np.ones(Xa.shape[1])
        self.scale_ = np.where(std > 1e-12, std, 1.0)
        if self.task_ == "regression":
            self.y_mean_, self.y_scale_ = float(np.mean(y)), float(np.std(y)) or 1.0
            target = torch.as_tensor((y.astype("float64") - self.y_mean_) / self.y_scale_, dtype=torch.float32)
            n_out, loss = 1, torch.nn.MSELoss()
        else:
            y = y.astype("int64")
            self.classes_ = np.unique(y)
            self.n_classes_ = max(int(y.max()) + 1, 2)
            target, n_out, loss = torch.as_tensor(y), self.n_classes_, torch.nn.CrossEntropyLoss()
        torch.manual_seed(int(self.random_state))
        width, blocks, n_in = int(self.hidden), [], Xa.shape[1]
        for _ in range(int(self.layers)):
            blocks += [torch.nn.Linear(n_in, width), torch.nn.ReLU(), torch.nn.Dropout(float(self.dropout))]
            n_in = width
        net = torch.nn.Sequential(*blocks, torch.nn.Linear(n_in, n_out))
        return net, self._inputs(X), target, loss

    def zero_cost_inputs(self, X, y) -> tuple:
        """(untrained network, inputs, targets, loss): what training-free proxies score at initialization."""
        return self._setup(X, y)

    def fit(self, X, y):
        net, xb, target, loss_fn = self._setup(X, y)
        self.model_ = None
        if self.task_ != "regression" and len(self.classes_) < 2:
            return self
        gen = torch.Generator().manual_seed(int(self.random_state))
        opt = torch.optim.AdamW(net.parameters(), lr=float(self.learning_rate), weight_decay=float(self.weight_decay))
        net.train()
        n = len(xb)
        for _ in range(int(self.epochs)):
            order = torch.randperm(n, generator=gen)
            for start in range(0, n, int(self.batch_size)):
                idx = order[start:start + int(self.batch_size)]
                out = net(xb[idx])
                loss = loss_fn(out[:, 0], target[idx]) if self.task_ == "regression" else loss_fn(out, target[idx])
                opt.zero_grad()
                loss.backward()
                opt.step()
        net.eval()
        self.model_ = net
        return self

    def _forward(self, X) -> np.ndarray:
        with torch.no_grad():
            return self.model_(self._inputs(X)).double().numpy()

    def predict_proba(self, X) -> np.ndarray:
        out = np.zeros((len(X), self.n_classes_))
        if self.model_ is None:
            out[:, self.classes_[0]] = 1.0
            return out
        logits = self._forward(X)
        logits = logits - logits.max(axis=1, keepdims=True)
        proba = np.exp(logits)
        return proba / proba.sum(axis=1, keepdims=True)

    def predict(self, X) -> np.ndarray:
        if self.task_ == "regression":
            return self._forward(X)[:, 0] * self.y_scale_ + self.y_mean_
        return self.predict_proba(X).argmax(axis=1)
