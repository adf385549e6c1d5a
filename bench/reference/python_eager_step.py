#!/usr/bin/env python3
"""Reference: one online-SGD step of rank-1 fine-tuning, as a researcher writes it in PyTorch eager.

Student f(x) = lam^T relu((W + xi c u^T) x), teacher W* = W + xi* c* u*^T (MATH.md, r = 1).
Each step draws a fresh batch x ~ N(0, I_d) of B samples, labels it with the teacher, takes the
loss mean((f - y)^2) / 2, back-propagates with autograd, and updates
  u: spherical SGD (project the gradient on the tangent space, step, renormalise),
  c: plain SGD.
W, lam and xi are frozen. Like lrlab, it never forms the k x d matrix W + xi c u^T: W x is
computed once per step and shared by teacher and student.

Prints one JSON line: {"impl": "python_eager", "d": ..., "k": ..., "B": ..., "us_per_step": ...}.
Run with Debian's interpreter (python3-torch, LibTorch 1.13):
  /usr/bin/python3 bench/reference/python_eager_step.py --d 1000 --k 8 --batch 1 --threads 1
"""
import argparse
import json
import time

import torch


def parse_args():
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument("--d", type=int, default=1000, help="input dimension")
    p.add_argument("--k", type=int, default=8, help="hidden neurons")
    p.add_argument("--batch", type=int, default=1, help="samples per step (B)")
    p.add_argument("--steps", type=int, default=2000, help="timed steps")
    p.add_argument("--warmup", type=int, default=200, help="untimed steps before timing")
    p.add_argument("--dtype", choices=["float32", "float64"], default="float32")
    p.add_argument("--threads", type=int, default=1, help="torch.set_num_threads")
    p.add_argument("--lr", type=float, default=0.5, help="learning rate, divided by d")
    p.add_argument("--xi", type=float, default=1.0, help="scale of the perturbation (student and teacher)")
    p.add_argument("--seed", type=int, default=0)
    return p.parse_args()


def unit(v):
    return v / v.norm()


def main():
    a = parse_args()
    torch.set_num_threads(a.threads)
    torch.manual_seed(a.seed)
    dtype = getattr(torch, a.dtype)
    d, k, B = a.d, a.k, a.batch
    lr = a.lr / d

    # Base network (frozen): rows of W uniform on the unit sphere, lam = random signs / sqrt(k).
    W = torch.randn(k, d, dtype=dtype)
    W = W / W.norm(dim=1, keepdim=True)
    lam = torch.randint(0, 2, (k,)).to(dtype).mul_(2).sub_(1).div_(k ** 0.5)
    # Teacher perturbation xi* c* u*^T, unit c* and u*.
    c_star = unit(torch.randn(k, dtype=dtype))
    u_star = unit(torch.randn(d, dtype=dtype))
    # Student adapter: u uniform on the sphere, c random unit; both trained.
    u = unit(torch.randn(d, dtype=dtype)).requires_grad_()
    c = unit(torch.randn(k, dtype=dtype)).requires_grad_()
    xi = a.xi

    def step():
        x = torch.randn(B, d, dtype=dtype)                      # [B, d]
        Wx = x @ W.t()                                          # [B, k], shared
        with torch.no_grad():
            y = torch.relu(Wx + xi * (x @ u_star)[:, None] * c_star) @ lam   # [B]
        h = Wx + xi * (x @ u)[:, None] * c                      # [B, k]
        f = torch.relu(h) @ lam                                 # [B]
        loss = 0.5 * ((f - y) ** 2).mean()
        loss.backward()
        with torch.no_grad():
            g = u.grad
            g_tan = g - (g @ u) * u                             # tangent-space gradient
            u.sub_(lr * g_tan)
            u.div_(u.norm())
            c.sub_(lr * c.grad)
            u.grad = None
            c.grad = None
        return loss

    for _ in range(a.warmup):
        step()
    t0 = time.perf_counter()
    for _ in range(a.steps):
        loss = step()
    elapsed = time.perf_counter() - t0

    print(json.dumps({
        "impl": "python_eager", "d": d, "k": k, "B": B,
        "us_per_step": round(elapsed / a.steps * 1e6, 3),
        "steps": a.steps, "dtype": a.dtype, "threads": a.threads,
        "torch": torch.__version__, "last_loss": float(loss),
        "overlap": abs(float(u.detach() @ u_star)),
    }))


if __name__ == "__main__":
    main()
