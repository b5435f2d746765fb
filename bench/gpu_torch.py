"""torch anchor for bench/gpu_bench.ts: exact kNN by fp32 GEMM + topk, chunked.

usage: python3 bench/gpu_torch.py FEATS.npy K  -> one JSON line (fp32, then TF32)
"""
import json
import sys
import time

import numpy as np
import torch


def knn(x, k, chunk=8192):
    n = x.shape[0]
    out_s = torch.empty((n, k), device=x.device)
    out_i = torch.empty((n, k), dtype=torch.int64, device=x.device)
    for s in range(0, n, chunk):
        sims = x[s:s + chunk] @ x.T
        v, i = torch.topk(sims, k, dim=1)
        out_s[s:s + chunk] = v
        out_i[s:s + chunk] = i
    return out_s, out_i


if __name__ == "__main__":
    x = torch.from_numpy(np.load(sys.argv[1])).cuda()
    x = torch.nn.functional.normalize(x, dim=1)
    k = int(sys.argv[2])
    for tf32 in (False, True):
        torch.backends.cuda.matmul.allow_tf32 = tf32
        knn(x[:4096], k)
        torch.cuda.synchronize()
        t = time.perf_counter()
        knn(x, k)
        torch.cuda.synchronize()
        print(json.dumps({"tool": "torch GEMM+topk", "tf32": tf32, "n": x.shape[0],
                          "d": x.shape[1], "k": k, "seconds": time.perf_counter() - t,
                          "torch": torch.__version__}))
