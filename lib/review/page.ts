/**
 * The review page: one self-contained HTML document (no script or style from elsewhere)
 * that talks to the review server's API with the token from its own address.
 *
 * @module
 */

/**
 * The page. Views: people (grid, unnamed first, search), one person (least typical faces
 * first, multi-select, name, merge, move, split, not this person, not a face, suggestions),
 * faces alone (with "is this …?"), not faces. Lists load a page at a time as they scroll.
 * Keys: `/` search, `n` name, `m` move, `x` not this person, `f` not a face, `s` split,
 * `a` select all, `u` undo, `r` re-cluster, `Escape` back to the people.
 */
export const REVIEW_PAGE: string = `<!DOCTYPE html>
<html lang="en"><head><meta charset="utf-8">
<meta name="viewport" content="width=device-width, initial-scale=1">
<title>facecluster review</title>
<link rel="icon" href="data:,">
<style>
body{font:14px system-ui,sans-serif;margin:0;background:#fafafa;color:#222}
header{position:sticky;top:0;background:#fff;border-bottom:1px solid #ddd;padding:8px 12px;display:flex;gap:12px;align-items:center;flex-wrap:wrap;z-index:2}
header a{color:#225;text-decoration:none;font-weight:600}
header a.on{text-decoration:underline}
#status{color:#555;flex:1;min-width:200px}
main{padding:12px}
.grid{display:grid;grid-template-columns:repeat(auto-fill,minmax(120px,1fr));gap:10px}
.card{background:#fff;border:2px solid #ddd;border-radius:6px;padding:4px;cursor:pointer;text-align:center}
.card img{width:112px;height:112px;object-fit:cover;display:block;margin:auto;background:#eee}
.card.sel{border-color:#d33;background:#fee}
.card .sub{font-size:12px;color:#666}
.pinned{outline:2px solid #3a3;outline-offset:-4px}
.tools{display:flex;gap:8px;flex-wrap:wrap;align-items:center;margin:8px 0}
.tools input{padding:4px}
.sugg button{margin:2px}
button{cursor:pointer}
.muted{color:#888}
#more{margin:16px auto;display:block}
</style></head><body>
<header>
<a href="#people" id="nav-people">People</a>
<a href="#alone" id="nav-alone">Faces alone</a>
<a href="#hard" id="nav-hard">Hard to recognise</a>
<a href="#notfaces" id="nav-notfaces">Not faces</a>
<input id="search" placeholder="search by name ( / )" size="18">
<button id="undo" title="u">Undo</button>
<button id="recluster" title="r">Re-cluster</button>
<span id="status"></span>
</header>
<main id="main"></main>
<script>
"use strict";
const T = new URLSearchParams(location.search).get("t") || "";
const $ = (s) => document.querySelector(s);
const main = $("#main"), status = $("#status");
const esc = (s) => String(s).replace(/[&<>"']/g, (c) => ({"&":"&amp;","<":"&lt;",">":"&gt;",'"':"&quot;","'":"&#39;"})[c]);
const api = async (path, params = {}) => {
  const q = new URLSearchParams({ ...params, t: T });
  const r = await fetch(path + "?" + q);
  const j = await r.json();
  if (!r.ok) throw new Error(j.error || r.statusText);
  return j;
};
const decide = async (body) => {
  status.textContent = "…";
  try {
    const r = await fetch("/api/decide", {
      method: "POST",
      headers: { "content-type": "application/json", "x-facecluster-token": T },
      body: JSON.stringify(body),
    });
    const j = await r.json();
    if (!r.ok) throw new Error(j.error || r.statusText);
    selected = new Set();
    await render();
    status.textContent = j.summary; // after the view shows the change
    return j;
  } catch (e) {
    status.textContent = "error: " + e.message;
  }
};
const img = (faceId) => '<img loading="lazy" alt="face ' + faceId + '" src="/face/' + faceId + '?t=' + T + '">';
let view = { kind: "people" }, selected = new Set(), lastClicked = null, faceOrder = [];

function lazyList(container, load, card) {
  let offset = 0, total = Infinity, busy = false;
  const grid = document.createElement("div");
  grid.className = "grid";
  const more = document.createElement("button");
  more.id = "more";
  more.textContent = "more";
  container.append(grid, more);
  const next = async () => {
    if (busy || offset >= total) return;
    busy = true;
    const page = await load(offset);
    total = page.total;
    offset += page.items.length;
    grid.insertAdjacentHTML("beforeend", page.items.map(card).join(""));
    more.style.display = offset >= total ? "none" : "block";
    busy = false;
    document.dispatchEvent(new Event("listed"));
  };
  new IntersectionObserver((e) => e[0].isIntersecting && next()).observe(more);
  return next();
}

async function peopleView() {
  const q = $("#search").value.trim();
  main.innerHTML = '<h2 id="title">People</h2><div id="list"></div>';
  await lazyList($("#list"), async (offset) => {
    const j = await api("/api/people", { offset, q });
    $("#title").textContent = j.total + " people" + (q ? " matching " + q : "") + " (unnamed first)";
    return { total: j.total, items: j.people };
  }, (p) => '<div class="card person" data-person="' + p.id + '">' + img(p.representative) +
    '<div class="name">' + (p.name ? esc(p.name) : '<span class="muted">person ' + p.id + '</span>') +
    '</div><div class="sub">' + p.faces + ' faces</div></div>');
}

function faceCard(f, extra = "") {
  return '<div class="card face' + (selected.has(f.id) ? " sel" : "") + (f.pinned ? " pinned" : "") +
    '" data-face="' + f.id + '" title="' + esc(f.file) + '">' + img(f.id) +
    '<div class="sub">' + (f.similarity ? f.similarity.toFixed(2) : "") +
    ' <a href="/photo/' + f.id + '?t=' + T + '" target="_blank" rel="noopener">photo</a></div>' + extra + '</div>';
}

async function personView(id) {
  const first = await api("/api/person/" + id, { offset: 0, limit: 1 });
  const p = first.person;
  main.innerHTML = '<h2 id="title">' + (p.name ? esc(p.name) : "person " + p.id) + ' <span class="muted">' +
    p.faces + ' faces, least typical first</span></h2>' +
    '<div class="tools"><input id="name" placeholder="name ( n )" value="' + esc(p.name || "") + '">' +
    '<button id="do-name">Name</button>' +
    '<input id="target" placeholder="person: name or id, or new ( m )" list="names" size="26">' +
    '<button id="do-move">Move selected</button><button id="do-merge">Merge this person into it</button>' +
    '<button id="do-split" title="s">Split selected off</button>' +
    '<button id="do-notperson" title="x">Not this person</button>' +
    '<button id="do-notface" title="f">Not a face</button>' +
    '<span id="count" class="muted"></span></div>' +
    (first.suggestions.length ? '<div class="sugg">Is this ' + first.suggestions.map((s) =>
      '<button class="accept" data-into="' + s.id + '">' + esc(s.name) + '? (' + s.similarity.toFixed(2) + ')</button>').join(" or ") + '</div>' : "") +
    '<datalist id="names"></datalist><div id="list"></div>';
  faceOrder = [];
  await lazyList($("#list"), async (offset) => {
    const j = await api("/api/person/" + id, { offset });
    faceOrder.push(...j.faces.map((f) => f.id));
    return { total: j.total, items: j.faces };
  }, (f) => faceCard(f));
  names();
}

async function names() {
  const j = await api("/api/people", { limit: 500, order: "size" });
  const dl = $("#names");
  if (dl) dl.innerHTML = j.people.filter((p) => p.name).map((p) => '<option value="' + esc(p.name) + '">').join("") + '<option value="new">';
}

async function facesView(kind) {
  main.innerHTML = '<h2 id="title"></h2><div class="tools">' +
    '<input id="target" placeholder="person: name or id, or new ( m )" list="names" size="26">' +
    '<button id="do-move">Move selected</button>' +
    (kind === "alone" ? '<button id="do-notface" title="f">Not a face</button>' : "") +
    '<span id="count" class="muted"></span></div><datalist id="names"></datalist><div id="list"></div>';
  faceOrder = [];
  await lazyList($("#list"), async (offset) => {
    const j = await api("/api/" + kind, { offset });
    $("#title").textContent = j.total + (kind === "alone" ? " faces that joined nobody" : kind === "hard" ? " faces hard to recognise (kept out of people; move one to a person to keep it there)" : " not faces (below the quality gate or marked)");
    faceOrder.push(...j.faces.map((f) => f.id));
    return { total: j.total, items: j.faces };
  }, (f) => faceCard(f, (f.suggestions || []).slice(0, 1).map((s) =>
    '<button class="accept-face" data-face="' + f.id + '" data-to="' + s.id + '">' + esc(s.name) + '?</button>').join("")));
  names();
}

async function render() {
  const h = location.hash.slice(1) || "people";
  const m = /^person\\/(\\d+)$/.exec(h);
  view = m ? { kind: "person", id: Number(m[1]) } : { kind: h };
  for (const k of ["people", "alone", "hard", "notfaces"]) $("#nav-" + k).classList.toggle("on", view.kind === k);
  document.body.dataset.ready = "";
  try {
    if (view.kind === "person") await personView(view.id);
    else if (["alone", "hard", "notfaces"].includes(view.kind)) await facesView(view.kind);
    else await peopleView();
  } catch (e) {
    main.innerHTML = '<p class="muted">' + esc(e.message) + ' <a href="#people">people</a></p>';
  }
  document.body.dataset.ready = h;
  document.dispatchEvent(new Event("rendered"));
}

function showCount() {
  const c = $("#count");
  if (c) c.textContent = selected.size ? selected.size + " selected" : "";
}

const target = () => {
  const v = ($("#target")?.value || "").trim();
  if (!v) { status.textContent = "give a person (a name, an id, or new)"; return null; }
  return v;
};
const actions = {
  "do-name": () => decide({ action: "name", person: view.id, name: $("#name").value.trim() || null }),
  "do-move": () => { const t = target(); if (t && selected.size) return decide({ action: "move", faces: [...selected], to: t === "new" ? null : t }); },
  "do-merge": () => { const t = target(); if (t) return decide({ action: "merge", into: t, others: [view.id] }).then((j) => { if (j) location.hash = "people"; }); },
  "do-split": () => selected.size && decide({ action: "split", person: view.id, faces: [...selected] }),
  "do-notperson": () => selected.size && decide({ action: "not-person", faces: [...selected] }),
  "do-notface": () => selected.size && decide({ action: "not-face", faces: [...selected] }),
  "undo": () => decide({ action: "undo" }),
  "recluster": () => { status.textContent = "re-clustering…"; return decide({ action: "recluster" }); },
};

document.addEventListener("click", (e) => {
  if (e.target.closest("a")) return; // links open as links
  const el = e.target.closest("button, .card");
  if (!el) return;
  if (el.id && actions[el.id]) return actions[el.id]();
  if (el.classList.contains("accept")) return decide({ action: "merge", into: Number(el.dataset.into), others: [view.id] }).then(() => location.hash = "person/" + el.dataset.into);
  if (el.classList.contains("accept-face")) return decide({ action: "move", faces: [Number(el.dataset.face)], to: Number(el.dataset.to) });
  if (el.dataset.person) { location.hash = "person/" + el.dataset.person; return; }
  if (el.dataset.face) {
    const id = Number(el.dataset.face);
    if (e.shiftKey && lastClicked !== null) {
      const a = faceOrder.indexOf(lastClicked), b = faceOrder.indexOf(id);
      for (const f of faceOrder.slice(Math.min(a, b), Math.max(a, b) + 1)) selected.add(f);
    } else if (selected.has(id)) selected.delete(id);
    else selected.add(id);
    lastClicked = id;
    for (const c of document.querySelectorAll(".card.face")) c.classList.toggle("sel", selected.has(Number(c.dataset.face)));
    showCount();
  }
});
document.addEventListener("keydown", (e) => {
  if (e.target.tagName === "INPUT") {
    if (e.key === "Enter" && e.target.id === "name") actions["do-name"]();
    if (e.key === "Enter" && e.target.id === "target") actions["do-move"]();
    if (e.key === "Enter" && e.target.id === "search") { location.hash = "people"; render(); }
    if (e.key === "Escape") e.target.blur();
    return;
  }
  const k = e.key;
  if (k === "/") { e.preventDefault(); $("#search").focus(); }
  else if (k === "n" && $("#name")) { e.preventDefault(); $("#name").focus(); }
  else if (k === "m" && $("#target")) { e.preventDefault(); $("#target").focus(); }
  else if (k === "a") { for (const f of faceOrder) selected.add(f); for (const c of document.querySelectorAll(".card.face")) c.classList.add("sel"); showCount(); }
  else if (k === "x" && view.kind === "person") actions["do-notperson"]();
  else if (k === "f") actions["do-notface"]();
  else if (k === "s" && view.kind === "person") actions["do-split"]();
  else if (k === "u" || (k === "z" && (e.ctrlKey || e.metaKey))) actions.undo();
  else if (k === "r") actions.recluster();
  else if (k === "Escape") location.hash = "people";
});
window.addEventListener("hashchange", () => {
  selected = new Set();
  render();
});
render();
</script></body></html>
`;
