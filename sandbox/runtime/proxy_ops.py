"""Proxy scores and fold-by-fold evaluation, run INSIDE the sandbox by eval_worker.py.

- low fidelity: the pipeline's CV score on a small stratified subsample, fewer folds, and its
  size parameters (boosting rounds, trees, epochs) scaled down;
- training-free (synflow, NASWOT, grad-norm): scores of a model's untrained network, for model
  variants that offer ``zero_cost_inputs(X, y) -> (network, inputs, targets, loss)``;
- fold sessions: one fold per request, so the optimizer can prune between folds; ``finish`` then
  computes exactly what ``runtime.cross_validate`` computes.
"""
import time

import numpy as np

import runtime

SIZE_PARAMS = ("n_estimators", "iterations", "max_iter", "epochs")
_SESSIONS = {}


def stratified_rows(y, max_rows, seed, task):
    """Row indices of a seeded subsample that keeps the class proportions (all rows if few)."""
    n = len(y)
    if not max_rows or n <= max_rows:
        return np.arange(n)
    rng = np.random.RandomState(seed)
    if task == "regression":
        return np.sort(rng.choice(n, size=max_rows, replace=False))
    keep = []
    for cls in np.unique(y):
        idx = np.flatnonzero(y == cls)
        take = max(2, int(round(max_rows * len(idx) / n)))
        keep.append(rng.choice(idx, size=min(take, len(idx)), replace=False))
    return np.sort(np.concatenate(keep))


def _init_defaults(cls):
    code = cls.__init__.__code__
    names = code.co_varnames[1:code.co_argcount]
    defaults = cls.__init__.__defaults__ or ()
    return dict(zip(names[len(names) - len(defaults):], defaults))


def scaled_steps(steps, scale):
    """Model steps with their size parameters scaled down (at least 10). Boosting models (a size
    parameter and a learning rate) get the learning rate scaled up as much (at most 0.3), so that
    fewer rounds still reach a comparable fit instead of ranking every model by its speed of learning."""
    out = []
    for name, stage, cls, params in steps:
        params = dict(params)
        if stage == "model":
            full = {**_init_defaults(cls), **params}
            sized = [k for k in SIZE_PARAMS if isinstance(full.get(k), int) and not isinstance(full.get(k), bool)]
            for key in sized:
                params[key] = max(10, int(full[key] * scale))
            rate = full.get("learning_rate")
            if sized and isinstance(rate, float) and "epochs" not in sized:
                params["learning_rate"] = min(0.3, max(rate, rate / scale))
        out.append((name, stage, cls, params))
    return out


def low_fidelity(steps, X, y, config, req):
    rows = stratified_rows(y, req.get("max_rows", 400), config["seed"], config["task"])
    Xs, ys = X.iloc[rows].reset_index(drop=True), y[rows]
    out = runtime.cross_validate(scaled_steps(steps, req.get("scale", 0.2)), Xs, ys, config,
                                 n_folds=req.get("folds", 3))
    return out["score"]


def _prepared(steps, X, y, config, req):
    """The model (constructed, not fitted) and its input: preparation steps fitted on a subsample."""
    rows = stratified_rows(y, req.get("max_rows", 256), config["seed"], config["task"])
    Xs, ys = X.iloc[rows].reset_index(drop=True), y[rows]
    pipe = runtime.Pipeline(steps, config["task"], config["seed"])
    Xt = Xs
    for _, step in pipe._build("prepare"):
        Xt = step.fit_transform(Xt, ys) if hasattr(step, "fit_transform") else step.fit(Xt, ys).transform(Xt)
    yt = np.asarray(ys)
    for _, tt in pipe._build("target"):
        yt = tt.fit(yt).transform(yt)
    model = pipe._build("model")[0][1]
    if not hasattr(model, "zero_cost_inputs"):
        raise ValueError("this model offers no zero_cost_inputs(X, y): training-free proxies do not apply")
    return model.zero_cost_inputs(Xt, yt)


def _loss(net, loss_fn, xb, yb):
    out = net(xb)
    return loss_fn(out[:, 0], yb) if out.shape[1] == 1 and yb.dtype.is_floating_point else loss_fn(out, yb)


def grad_norm(net, xb, yb, loss_fn):
    """Abdelfattah et al. 2021: the summed L2 norms of the loss gradients of one batch at initialization."""
    net.train()
    net.zero_grad()
    _loss(net, loss_fn, xb, yb).backward()
    norms = [p.grad.norm() for p in net.parameters() if p.grad is not None]
    return float(sum(norms).item()) if norms else 0.0


def synflow(net, xb, yb, loss_fn):
    """Tanaka et al. 2020: sum |theta * dR/dtheta| with R the output of the all-|theta| network on ones."""
    import torch

    net = net.double().eval()
    with torch.no_grad():
        for p in net.parameters():
            p.abs_()
    net.zero_grad()
    torch.sum(net(torch.ones((1, xb.shape[1]), dtype=torch.float64))).backward()
    total = sum((p * p.grad).abs().sum() for p in net.parameters() if p.grad is not None)
    return float(torch.log1p(total).item())


def naswot(net, xb, yb, loss_fn):
    """Mellor et al. 2021: log|det K| of the Hamming-similarity kernel of ReLU activation patterns."""
    import torch

    codes = []
    hooks = [m.register_forward_hook(lambda mod, inp, out: codes.append((out > 0).double().flatten(1)))
             for m in net.modules() if isinstance(m, torch.nn.ReLU)]
    net.eval()
    with torch.no_grad():
        net(xb[:128])
    for h in hooks:
        h.remove()
    if not codes:
        return 0.0
    c = torch.cat(codes, dim=1)
    kernel = c @ c.T + (1 - c) @ (1 - c).T
    # duplicate rows (common in tabular data) make the kernel singular: a unit ridge keeps it finite
    return float(torch.slogdet(kernel + torch.eye(len(c), dtype=kernel.dtype))[1].item())


TRAINING_FREE = {"synflow": synflow, "naswot": naswot, "grad_norm": grad_norm}


def proxy(steps, X, y, config, req):
    """{"kind": "low_fidelity" | "synflow" | "naswot" | "grad_norm", ...} -> (score, seconds)."""
    start = time.monotonic()
    kind = req["kind"]
    if kind == "low_fidelity":
        value = low_fidelity(steps, X, y, config, req)
    elif kind in TRAINING_FREE:
        net, xb, yb, loss_fn = _prepared(steps, X, y, config, req)
        value = TRAINING_FREE[kind](net, xb, yb, loss_fn)
    else:
        raise ValueError("unknown proxy kind %r; known: low_fidelity, %s" % (kind, ", ".join(TRAINING_FREE)))
    if not np.isfinite(value):
        value = -1e300
    return float(value), time.monotonic() - start


def fold(steps, X, y, config, req):
    """Fit fold ``req["fold"]`` of session ``req["key"]``; return its raw (not post-processed) score."""
    key, i, seed = req["key"], int(req["fold"]), config["seed"]
    if key not in _SESSIONS or i == 0:
        while len(_SESSIONS) >= 8:  # sessions of pruned trials that were never finished
            _SESSIONS.pop(next(iter(_SESSIONS)))
        folds = runtime.make_folds(y, config["task"], req.get("folds") or config["folds"], seed)
        _SESSIONS[key] = {"folds": folds, "oof": runtime.empty_oof(y, config), "done": set()}
    session = _SESSIONS[key]
    train_idx, val_idx = session["folds"][i]
    pred = runtime.fit_fold(steps, X, y, config, (train_idx, val_idx), seed)
    session["oof"][val_idx] = pred
    session["done"].add(i)
    return runtime.score(config["metric"], y[val_idx], pred), len(session["folds"])


def finish(steps, y, config, req):
    session = _SESSIONS.pop(req["key"], None)
    if session is None or len(session["done"]) != len(session["folds"]):
        raise ValueError("finish needs every fold of session %r evaluated first" % req["key"])
    return runtime.finish_cv(steps, y, config, session["folds"], session["oof"], config["seed"])


def forget(key):
    _SESSIONS.pop(key, None)
