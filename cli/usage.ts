/**
 * The text `--help` prints (the README's usage block is the same text).
 *
 * @module
 */

/** The text `--help` prints. */
export const USAGE: string = `facecluster: cluster faces into people with Infomap

Usage:
  deno run -A cli.ts PHOTOS_DIR [options]
  deno run -A cli.ts cluster-features FEATS.npy [options]

Commands:
  PHOTOS_DIR                   find every face in the photos under PHOTOS_DIR, cluster them
                               into people and write one folder per person, with the library
                               (OUT/library.db) that remembers photos, faces, people and your
                               decisions: a re-run works only on new and changed photos,
                               re-clusters all faces and keeps person ids, names and decisions
  cluster-features FEATS.npy   cluster an N×D NumPy .npy of face features (float32/float64)

Options of PHOTOS_DIR:
  --out DIR          output folder (default: PHOTOS_DIR_people beside the input; never inside it)
  --library FILE     the library file (default OUT/library.db), or a PostgreSQL database
                     (postgres://user@host:port/database) shared by several machines
  --force            write into a non-empty output folder that holds no library
  --fresh            start a new library: the old one is kept as library.db.<time>.bak and
                     the files it wrote (unless you changed them) are removed
  --link MODE        photos in the person folders as copy (default), hard or symbolic links
  --evaluate         the input has one subfolder per person: print pairwise/BCubed/NMI
  --device D         where the face models and kNN run: auto (models on the CPU through
                     onnxruntime-node where it loads, else a hardware GPU; kNN on a hardware
                     GPU if there is one), gpu (both on any WebGPU adapter) or cpu (default auto)
  --k N, --min-sim S, --json   as below (min-sim defaults to the model's: dlib 0.94,
                     mobilefacenet 0.45)
  --max-pixels N     refuse images with more pixels, before decoding (default 100000000)
  --detector D       yunet (downloaded, default when in the cache) or ssd (face-api's SSD
                     MobileNet v1 + 68 landmarks, shipped: the fallback)
  --landmarks N      YuNet's faces aligned on 68 points (default: the landmark network run in
                     YuNet's box, measured better) or 5 (YuNet's own, faster)
  --crops            the photos are face crops: detect with a margin around each picture and
                     take a picture with no face found as one centred face (none dropped)
  --min-quality Q    faces below this quality (0..1) go to not_faces/, never into a person
                     (default 0.5; 0 turns the gate off)
  --min-confidence S smallest face-detector score kept (default 0.7 YuNet, 0.5 SSD)
  --min-face-size N  smallest face, shorter box side in pixels (default 20)
  --model M          dlib (shipped), mobilefacenet (downloaded) or PATH.onnx (input [N,3,S,S],
                     settings from PATH.json if there); default: mobilefacenet when it is in
                     the cache, else dlib
  --flip             also embed each face mirrored and average the two (twice the embed time)
  --cache DIR        model cache (default $FACECLUSTER_CACHE, else ~/.cache/facecluster/models)
  --quiet            no progress lines

People (LIBRARY: the output folder; PERSON: an id or a name; FACE: face ids, see faces):
  deno run -A cli.ts people LIBRARY              the people, largest first
  deno run -A cli.ts faces LIBRARY [PERSON]      a person's faces, least typical first (no
                                                 PERSON: the faces alone)
  deno run -A cli.ts name LIBRARY PERSON NAME    name or rename (its faces stay together)
  deno run -A cli.ts merge LIBRARY PERSON OTHER...   one person (the first keeps its id)
  deno run -A cli.ts move LIBRARY FACE... --to PERSON|new [--name NAME]
  deno run -A cli.ts split LIBRARY PERSON FACE...    those faces become a new person
  deno run -A cli.ts not-face LIBRARY FACE...    never clustered again
  deno run -A cli.ts not-person LIBRARY FACE...  they leave their person, never to rejoin it
  deno run -A cli.ts undo LIBRARY                undo the last decision
  deno run -A cli.ts history LIBRARY             the decisions, oldest first
  (--json on each prints JSON; each decision holds in every later run's clustering; a
  decision waits --wait S seconds, default 2, for a run that is writing the library)
  deno run -A cli.ts recluster LIBRARY           re-cluster with the library's own settings and
                                                 update its output folder
  deno run -A cli.ts review LIBRARY [--port N]   the review page in the browser: people, faces,
                     names, merges, moves, undo and re-cluster, on 127.0.0.1 with a per-start
                     token in the printed address (--host H --allow-remote for another address)

Several machines, one library (LIBRARY: postgres://user@host:port/database; every command
above takes it too, as --library of the main job and as LIBRARY of the people commands):
  deno run -A cli.ts scan PHOTOS_DIR --library URL [--out DIR] [--batch N] [--expire S]
                     register the photos (paths relative to PHOTOS_DIR) and queue the new ones
                     for the workers, N a batch (default 8); the main job's settings options
                     fix the library's settings; a claimed batch whose worker is silent for S
                     seconds (default 300) goes to another worker
  deno run -A cli.ts worker --library URL --root DIR [--threads N] [--out DIR] [--no-cluster]
                     [--db-wait S] [--cache DIR]   find the faces of queued batches, reading
                     the photos under DIR (this machine's path to the scanned folder; refused
                     before claiming anything when the photos are not there); N cores for the
                     face models; the last worker runs the clustering step and writes --out
                     (default the scan's --out); a database gone for S seconds (default 60)
                     ends it with what was stored kept
  deno run -A cli.ts cluster --library LIBRARY [--root DIR] [--out DIR]
                     the clustering step alone (kNN, links, Infomap, people, the folders),
                     one at a time: refused while another holds the library
  deno run -A cli.ts library copy FROM TO   copy a library (file, output folder or URL) to
                     a new file or an empty database, with its people and decisions

Demo:
  deno run -A cli.ts demo [--out DIR]   the main job on the six group photos that ship in the
                     @vladmandic/face-api npm package (MIT); writes DIR (default ./demo_people)

Models:
  deno run -A cli.ts models list [--cache DIR]         the known models and whether they are here
  deno run -A cli.ts models fetch NAME [--cache DIR]   download a model, checking its sha256
  deno run -A cli.ts models check PATH.onnx            load a model file, print its settings

Options of cluster-features:
  --k N              neighbours per face, the face itself included (default 80)
  --min-sim S        smallest cosine similarity that links two faces, in [-1, 1] (default 0.5)
  --labels FILE      true labels, one per line: print pairwise/BCubed/NMI metrics
  --out FILE         write one cluster id per line (the seed's --save_result format)
  --trials N         Infomap trials, the best codelength is kept (default 1)
  --seed N           seed of Infomap's random order (default 123)
  --device D         where kNN runs: auto (a hardware GPU if there is one, else the CPU),
                     gpu (any WebGPU adapter, software ones too) or cpu (default auto)
  --save-links FILE  write the links, one "source target weight" line each
  --workers N        CPU kNN worker threads (default: all cores)
  --knn M            CPU kNN method: auto (exact up to 20000 faces, an inverted file above),
                     exact or ivf (default auto); an approximate search prints the recall of
                     its links against exact search on --recall-sample faces (default 1000)
  --probes N         lists each face searches in the inverted file (default 64)
  --json             print one JSON object instead of a readable summary
  -h, --help         show this help

One writer at a time: a main job, a re-cluster from the review page or a decision is refused
while another process is writing the library (a decision waits --wait seconds first); reading
(people, faces, history, the review page) goes on during a run.

Exit codes: 0 done; 1 bad input (the message names the file or option); 2 bad usage;
3 another process is writing the library (the message names it; nothing was changed);
130 stopped by Ctrl-C (what was stored stays; run again to go on).
`;
