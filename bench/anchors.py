"""Anchors for bench/bench.ts: faiss IndexFlatIP kNN and igraph's Infomap, timed here.

usage: python3 bench/anchors.py faiss FEATS.npy K
       python3 bench/anchors.py faiss-ivf FEATS.npy K MIN_SIM NPROBE [NLIST]
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


def link_sets(sims, idx, min_sim, rows):
    """The seed's links of each given row: neighbours while similarity >= min_sim, self skipped."""
    out = []
    for t, i in enumerate(rows):
        links = set()
        for s, j in zip(sims[t], idx[t]):
            if j < 0 or s < min_sim:
                break
            if j != i:
                links.add(int(j))
        out.append(links)
    return out


def run_faiss_ivf(path, k, min_sim, nprobe, nlist=None):
    import faiss

    x = np.load(path).astype(np.float32)
    x /= np.linalg.norm(x, axis=1, keepdims=True)
    n, d = x.shape
    nlist = nlist or int(round(4 * np.sqrt(n)))
    t = time.perf_counter()
    quantizer = faiss.IndexFlatIP(d)
    index = faiss.IndexIVFFlat(quantizer, d, nlist, faiss.METRIC_INNER_PRODUCT)
    train = "faiss defaults (25 iterations, up to 256 rows a list)"
    if n >= 500_000:
        # faiss's default k-means on 1M rows takes most of an hour on 2 cores: 10 iterations
        # on 64 rows a list (ours: 6 on 24)
        index.cp.niter = 10
        index.cp.max_points_per_centroid = 64
        train = "10 iterations, up to 64 rows a list"
    index.train(x)
    index.add(x)
    train_add = time.perf_counter() - t
    index.nprobe = nprobe
    sims, idx = index.search(x, k)
    secs = time.perf_counter() - t
    # recall of the links on 1000 rows against exact search
    rng = np.random.default_rng(7)
    rows = np.sort(rng.choice(n, size=min(n, 1000), replace=False))
    flat = faiss.IndexFlatIP(d)
    flat.add(x)
    es, ei = flat.search(x[rows], k)
    exact = link_sets(es, ei, min_sim, rows)
    approx = link_sets(sims[rows], idx[rows], min_sim, rows)
    total = sum(len(e) for e in exact)
    found = sum(len(e & a) for e, a in zip(exact, approx))
    return {"tool": "faiss IndexIVFFlat", "version": faiss.__version__, "n": n, "d": d, "k": k,
            "nlist": nlist, "nprobe": nprobe, "seconds": secs, "train_add_seconds": train_add,
            "train": train,
            "threads": faiss.omp_get_max_threads(), "recall": found / max(total, 1),
            "exact_links": total, "peak_mib": peak_mib()}


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
    elif sys.argv[1] == "faiss-ivf":
        print(json.dumps(run_faiss_ivf(sys.argv[2], int(sys.argv[3]), float(sys.argv[4]),
                                       int(sys.argv[5]),
                                       int(sys.argv[6]) if len(sys.argv) > 6 else None)))
    else:
        print(json.dumps(run_igraph(sys.argv[2], sys.argv[3] if len(sys.argv) > 3 else None)))
