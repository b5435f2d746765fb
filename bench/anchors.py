"""Anchors for bench/bench.ts: faiss IndexFlatIP kNN and igraph's Infomap, timed here.

usage: python3 bench/anchors.py faiss FEATS.npy K
       python3 bench/anchors.py igraph LINKS.txt [MEMBERSHIP_OUT.txt]
Prints one JSON object.
"""
import json
import sys
import time

import numpy as np


def peak_mib():
    # VmHWM is this program's own peak; ru_maxrss would include the parent's at fork
    with open("/proc/self/status") as f:
        for line in f:
            if line.startswith("VmHWM:"):
                return int(line.split()[1]) / 1024
    return float("nan")


def run_faiss(path, k):
    import faiss

    x = np.load(path).astype(np.float32)
    x /= np.linalg.norm(x, axis=1, keepdims=True)
    t = time.perf_counter()
    index = faiss.IndexFlatIP(x.shape[1])
    index.add(x)
    sims, idx = index.search(x, k)
    secs = time.perf_counter() - t
    return {"tool": "faiss IndexFlatIP", "version": faiss.__version__, "n": x.shape[0],
            "d": x.shape[1], "k": k, "seconds": secs, "threads": faiss.omp_get_max_threads(),
            "peak_mib": peak_mib()}


def run_igraph(path, membership_out=None):
    import igraph

    links = np.loadtxt(path, dtype=np.float64)
    t0 = time.perf_counter()
    g = igraph.Graph(n=int(links[:, :2].max()) + 1, edges=links[:, :2].astype(int).tolist(),
                     directed=True)
    g.es["weight"] = links[:, 2].tolist()
    t = time.perf_counter()
    comm = g.community_infomap(edge_weights="weight", trials=1)
    secs = time.perf_counter() - t
    if membership_out:
        with open(membership_out, "w") as f:
            f.write("\n".join(str(m) for m in comm.membership) + "\n")
    return {"tool": "igraph community_infomap", "version": igraph.__version__,
            "links": len(links), "seconds": secs, "build_seconds": t - t0,
            "codelength": comm.codelength, "modules": len(comm), "peak_mib": peak_mib()}


if __name__ == "__main__":
    if sys.argv[1] == "faiss":
        print(json.dumps(run_faiss(sys.argv[2], int(sys.argv[3]))))
    else:
        print(json.dumps(run_igraph(sys.argv[2], sys.argv[3] if len(sys.argv) > 3 else None)))
