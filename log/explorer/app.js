// Signet log explorer. Plain browser JavaScript, no dependencies, nothing loaded from
// elsewhere. Views: #/ (latest entries and search), #/search?q=&kind=&page=, #/entry/N,
// #/checkpoint, #/activity?hours=H. The inclusion proof and the checkpoint signature are
// verified here with Web Crypto against the log key from trusted_root.json.
"use strict";

const view = () => document.getElementById("view");

// ---------- small DOM helpers ----------

function el(tag, attrs, ...children) {
  const e = document.createElement(tag);
  for (const [k, v] of Object.entries(attrs || {})) {
    if (v === undefined || v === null || v === false) continue;
    if (k === "text") e.textContent = v;
    else if (k === "class") e.className = v;
    else e.setAttribute(k, v === true ? "" : String(v));
  }
  for (const c of children.flat()) {
    if (c === undefined || c === null || c === false) continue;
    e.append(c instanceof Node ? c : document.createTextNode(String(c)));
  }
  return e;
}

function svg(tag, attrs, ...children) {
  const e = document.createElementNS("http://www.w3.org/2000/svg", tag);
  for (const [k, v] of Object.entries(attrs || {})) e.setAttribute(k, String(v));
  for (const c of children.flat()) if (c) e.append(c instanceof Node ? c : document.createTextNode(String(c)));
  return e;
}

function show(...nodes) {
  const v = view();
  v.replaceChildren(...nodes.flat());
}

function facts(rows) {
  const dl = el("dl", { class: "facts" });
  for (const [k, v] of rows) {
    if (v === undefined || v === null || v === "") continue;
    dl.append(el("dt", {}, k), el("dd", {}, v));
  }
  return dl;
}

function errorBox(message) {
  return el("div", { class: "error", role: "alert" }, message);
}

function time(secs) {
  if (secs === undefined || secs === null) return "";
  return new Date(Number(secs) * 1000).toISOString().replace(".000Z", "Z");
}

function searchLink(q, kind, text) {
  const p = new URLSearchParams({ q, kind });
  return el("a", { href: "#/search?" + p.toString() }, text || q);
}

function download(name, bytes, type) {
  const blob = new Blob([bytes], { type });
  const url = URL.createObjectURL(blob);
  const a = el("a", { href: url, download: name });
  document.body.append(a);
  a.click();
  a.remove();
  setTimeout(() => URL.revokeObjectURL(url), 1000);
}

// ---------- fetching ----------

async function getJSON(path) {
  const resp = await fetch(path, { headers: { Accept: "application/json" } });
  let body = null;
  try { body = await resp.json(); } catch (_) { body = null; }
  if (!resp.ok) {
    const msg = body && body.message ? body.message : resp.status + " " + resp.statusText;
    throw new Error(msg);
  }
  return body;
}

async function getText(path) {
  const resp = await fetch(path);
  if (!resp.ok) throw new Error(path + ": " + resp.status + " " + resp.statusText);
  return resp.text();
}

// ---------- bytes, hashes, signatures ----------

const enc = new TextEncoder();

function b64decode(s) {
  const bin = atob(s);
  const out = new Uint8Array(bin.length);
  for (let i = 0; i < bin.length; i++) out[i] = bin.charCodeAt(i);
  return out;
}

function hexdecode(s) {
  if (!/^([0-9a-fA-F]{2})*$/.test(s)) throw new Error("not hex: " + s);
  const out = new Uint8Array(s.length / 2);
  for (let i = 0; i < out.length; i++) out[i] = parseInt(s.substr(2 * i, 2), 16);
  return out;
}

function hex(bytes) {
  return Array.from(bytes, (b) => b.toString(16).padStart(2, "0")).join("");
}

function concat(...parts) {
  const out = new Uint8Array(parts.reduce((n, p) => n + p.length, 0));
  let o = 0;
  for (const p of parts) { out.set(p, o); o += p.length; }
  return out;
}

function equal(a, b) {
  if (a.length !== b.length) return false;
  let d = 0;
  for (let i = 0; i < a.length; i++) d |= a[i] ^ b[i];
  return d === 0;
}

async function sha256(bytes) {
  return new Uint8Array(await crypto.subtle.digest("SHA-256", bytes));
}

const leafHash = (body) => sha256(concat(Uint8Array.of(0), body));
const nodeHash = (l, r) => sha256(concat(Uint8Array.of(1), l, r));

// RFC 9162 section 2.1.3.2: the root an inclusion proof leads to.
async function rootFromProof(index, size, leaf, proof) {
  let fn = BigInt(index);
  let sn = BigInt(size) - 1n;
  if (fn > sn) throw new Error("index " + index + " is not below tree size " + size);
  let r = leaf;
  for (const p of proof) {
    if (sn === 0n) throw new Error("the proof has more hashes than the tree has levels");
    if ((fn & 1n) === 1n || fn === sn) {
      r = await nodeHash(p, r);
      if ((fn & 1n) === 0n) {
        while ((fn & 1n) === 0n && fn !== 0n) { fn >>= 1n; sn >>= 1n; }
      }
    } else {
      r = await nodeHash(r, p);
    }
    fn >>= 1n;
    sn >>= 1n;
  }
  if (sn !== 0n) throw new Error("the proof has fewer hashes than the tree has levels");
  return r;
}

// A DER ECDSA signature as the fixed-size r||s Web Crypto wants.
function ecdsaDerToRaw(der, size) {
  let i = 0;
  const take = () => {
    if (i >= der.length) throw new Error("truncated ECDSA signature");
    return der[i++];
  };
  const len = () => {
    let n = take();
    if (n & 0x80) {
      const k = n & 0x7f;
      if (k < 1 || k > 2) throw new Error("bad DER length in ECDSA signature");
      n = 0;
      for (let j = 0; j < k; j++) n = (n << 8) | take();
    }
    return n;
  };
  if (take() !== 0x30) throw new Error("ECDSA signature is not a DER SEQUENCE");
  const total = len();
  if (i + total !== der.length) throw new Error("ECDSA signature has trailing bytes");
  const out = new Uint8Array(2 * size);
  for (let part = 0; part < 2; part++) {
    if (take() !== 0x02) throw new Error("ECDSA signature part is not an INTEGER");
    const n = len();
    let v = der.slice(i, i + n);
    i += n;
    while (v.length > size && v[0] === 0) v = v.slice(1);
    if (v.length > size) throw new Error("ECDSA signature integer too long");
    out.set(v, part * size + (size - v.length));
  }
  return out;
}

// ---------- checkpoints (C2SP signed notes) ----------

function parseNote(text) {
  const split = text.indexOf("\n\n");
  if (split < 0) throw new Error("the checkpoint has no signature block");
  const body = text.slice(0, split + 1);
  const lines = body.slice(0, -1).split("\n");
  if (lines.length < 3) throw new Error("the checkpoint has fewer than three lines");
  const size = lines[1];
  if (!/^(0|[1-9][0-9]*)$/.test(size)) throw new Error("checkpoint size is not a number: " + size);
  const sigs = [];
  for (const line of text.slice(split + 2).split("\n")) {
    if (line === "") continue;
    const m = /^\u2014 (\S+) ([A-Za-z0-9+/=]+)$/.exec(line);
    if (!m) throw new Error("malformed signature line: " + line);
    const raw = b64decode(m[2]);
    if (raw.length < 5) throw new Error("signature of " + m[1] + " is too short");
    sigs.push({ name: m[1], keyHash: raw.slice(0, 4), sig: raw.slice(4) });
  }
  return {
    text,
    body: enc.encode(body),
    origin: lines[0],
    size: BigInt(size),
    root: b64decode(lines[2]),
    extensions: lines.slice(3),
    signatures: sigs,
  };
}

// The log keys of the trust root: [{spki, details, keyId, baseUrl}].
let trustCache = null;
async function logKeys() {
  if (trustCache) return trustCache;
  const root = await getJSON("signet/v1/trusted_root.json");
  trustCache = (root.tlogs || []).map((t) => ({
    spki: b64decode(t.publicKey.rawBytes),
    details: t.publicKey.keyDetails,
    keyId: t.logId && t.logId.keyId ? hex(b64decode(t.logId.keyId)) : "",
    baseUrl: t.baseUrl,
  }));
  return trustCache;
}

// The 4-byte key hashes a note signature by `name` with `key` may carry: Rekor's for ECDSA
// (SHA-256 of the SPKI), C2SP's for Ed25519 (SHA-256 of name, newline, 0x01, raw key).
async function noteKeyHash(name, key) {
  if (key.details === "PKIX_ED25519") {
    const raw = key.spki.slice(key.spki.length - 32);
    return (await sha256(concat(enc.encode(name + "\n"), Uint8Array.of(1), raw))).slice(0, 4);
  }
  return (await sha256(key.spki)).slice(0, 4);
}

async function verifyWith(key, sig, message) {
  switch (key.details) {
    case "PKIX_ECDSA_P256_SHA_256":
    case "PKIX_ECDSA_P384_SHA_384": {
      const p384 = key.details === "PKIX_ECDSA_P384_SHA_384";
      const k = await crypto.subtle.importKey("spki", key.spki,
        { name: "ECDSA", namedCurve: p384 ? "P-384" : "P-256" }, false, ["verify"]);
      const raw = ecdsaDerToRaw(sig, p384 ? 48 : 32);
      return crypto.subtle.verify({ name: "ECDSA", hash: p384 ? "SHA-384" : "SHA-256" }, k, raw, message);
    }
    case "PKIX_ED25519": {
      const k = await crypto.subtle.importKey("spki", key.spki, { name: "Ed25519" }, false, ["verify"]);
      return crypto.subtle.verify({ name: "Ed25519" }, k, sig, message);
    }
    default:
      throw new Error("this page cannot verify " + key.details + " keys");
  }
}

// Finds the log's signature on `note` and verifies it. Returns {key, line} or throws.
async function verifyNote(note) {
  const keys = await logKeys();
  if (keys.length === 0) throw new Error("the trust root lists no log key");
  for (const s of note.signatures) {
    for (const key of keys) {
      if (!equal(s.keyHash, await noteKeyHash(s.name, key))) continue;
      if (await verifyWith(key, s.sig, note.body)) return { key, name: s.name };
      throw new Error("the signature by " + s.name + " does not verify with the log key " + key.keyId.slice(0, 16) + "… from trusted_root.json");
    }
  }
  throw new Error("no signature on the checkpoint is by a log key in trusted_root.json");
}

// Which signatures of `note` are by a log key of the trust root (by key hash), and which are
// others' (witness cosignatures: 8-byte timestamp, then the Ed25519 signature).
async function classify(note) {
  const keys = await logKeys().catch(() => []);
  const out = [];
  for (const s of note.signatures) {
    let isLog = false;
    for (const key of keys) if (equal(s.keyHash, await noteKeyHash(s.name, key))) isLog = true;
    let when = null;
    if (!isLog && s.sig.length === 72) {
      let t = 0n;
      for (let i = 0; i < 8; i++) t = (t << 8n) | BigInt(s.sig[i]);
      if (t < 1n << 40n) when = Number(t);
    }
    out.push({ name: s.name, keyHash: hex(s.keyHash), isLog, time: when });
  }
  return out;
}

function secureContextProblem() {
  if (window.isSecureContext && window.crypto && crypto.subtle) return null;
  return "This browser offers Web Crypto only on pages served over HTTPS (or from localhost), so it cannot check the proof here. Open the explorer over HTTPS to verify entries in your browser.";
}

// ---------- views ----------

function setNav(which) {
  for (const a of document.querySelectorAll("nav a[data-nav]")) {
    if (a.dataset.nav === which) a.setAttribute("aria-current", "page");
    else a.removeAttribute("aria-current");
  }
}

function identityOf(s) {
  if (s.identity) return s.identity;
  if (s.keyFingerprint) return "key " + s.keyFingerprint.slice(0, 16) + "…";
  return "(no identity)";
}

function resultsTable(entries) {
  const table = el("table", { id: "results" },
    el("caption", { class: "muted" }, "Newest first"),
    el("thead", {}, el("tr", {},
      el("th", { scope: "col" }, "Index"),
      el("th", { scope: "col" }, "Integrated"),
      el("th", { scope: "col" }, "Kind"),
      el("th", { scope: "col" }, "Signer"),
      el("th", { scope: "col", class: "hide-narrow" }, "Digest"))));
  const tbody = el("tbody");
  for (const e of entries) {
    tbody.append(el("tr", { "data-index": e.logIndex },
      el("td", {}, el("a", { href: "#/entry/" + e.logIndex }, String(e.logIndex))),
      el("td", {}, time(e.integratedTime)),
      el("td", {}, e.kind + " " + e.apiVersion),
      el("td", { class: "mono" }, e.signers.map(identityOf).join(", ") || e.problem || ""),
      el("td", { class: "mono hide-narrow" }, e.digest ? e.digest.slice(0, 23) + "…" : "")));
  }
  table.append(tbody);
  return table;
}

function pager(page, total, pageSize, hrefFor) {
  const pages = Math.max(1, Math.ceil(total / pageSize));
  return el("nav", { class: "pager", "aria-label": "Result pages" },
    page > 0 ? el("a", { href: hrefFor(page - 1), rel: "prev" }, "← Newer") : null,
    el("span", {}, "Page " + (page + 1) + " of " + pages),
    page + 1 < pages ? el("a", { href: hrefFor(page + 1), rel: "next" }, "Older →") : null);
}

async function homeView(params) {
  setNav("search");
  const page = Number(params.get("page") || 0);
  const r = await getJSON("signet/v1/explorer/latest?page=" + page);
  show(el("h1", {}, "Latest entries"),
    el("p", { class: "muted" }, "The log holds " + r.total + " entries."),
    r.entries.length ? resultsTable(r.entries) : el("p", {}, "The log is empty."),
    pager(page, r.total, r.pageSize, (p) => "#/?page=" + p));
}

async function searchView(params) {
  setNav("search");
  const q = params.get("q") || "";
  const kind = params.get("kind") || "auto";
  const page = Number(params.get("page") || 0);
  document.getElementById("q").value = q;
  document.getElementById("kind").value = kind;
  const qs = new URLSearchParams({ q, kind, page: String(page) });
  const r = await getJSON("signet/v1/explorer/search?" + qs.toString());
  show(el("h1", {}, "Search results"),
    el("p", { id: "result-count" }, r.total + (r.total === 1 ? " entry" : " entries") + " for ",
      el("code", {}, r.query), " (searched as " + r.searchedAs.join(", ") + ")"),
    r.entries.length ? resultsTable(r.entries) : el("p", {}, "Nothing in the log matches."),
    pager(page, r.total, r.pageSize, (p) => "#/search?" + new URLSearchParams({ q, kind, page: String(p) })));
}

// CI claims shown first: Fulcio extension OIDs (arc 1.3.6.1.4.1.57264.1), newest first.
const F = "1.3.6.1.4.1.57264.1.";
const CI_CLAIMS = [
  ["Repository", [F + "12", F + "5"]],
  ["Workflow", [F + "18", F + "4"]],
  ["Ref", [F + "14", F + "6"]],
  ["Commit", [F + "13", F + "3"]],
  ["Trigger", [F + "20", F + "2"]],
  ["Runner", [F + "11"]],
  ["Run", [F + "21"]],
];

function signerPanel(s, i, count) {
  const claims = new Map(s.claims.map((c) => [c.oid, c.value]));
  const ci = CI_CLAIMS.map(([label, names]) => {
    const n = names.find((x) => claims.has(x));
    return n ? [label, el("span", { "data-claim": label }, claims.get(n))] : null;
  }).filter(Boolean);
  const rows = [
    ["Identity", s.identity ? searchLink(s.identity, "identity") : null],
    ["Issuer", s.issuer],
    ["Key fingerprint", s.keyFingerprint ? searchLink(s.keyFingerprint, "key") : null],
    ["Certificate valid", s.notBefore ? time(s.notBefore) + " to " + time(s.notAfter) : null],
    ...ci,
  ];
  const panel = el("section", { class: "panel", "aria-label": "Signer " + (i + 1) },
    el("h2", {}, count > 1 ? "Signer " + (i + 1) : "Signer"), facts(rows));
  if (s.claims.length) {
    const t = el("table", {}, el("caption", { class: "muted" }, "All certificate extensions"),
      el("thead", {}, el("tr", {}, el("th", { scope: "col" }, "Extension"), el("th", { scope: "col" }, "OID"), el("th", { scope: "col" }, "Value"))),
      el("tbody", {}, s.claims.map((c) => el("tr", {}, el("td", {}, c.name), el("td", { class: "mono" }, c.oid), el("td", { class: "mono" }, c.value)))));
    panel.append(el("details", {}, el("summary", {}, "Certificate extensions (" + s.claims.length + ")"), t));
  }
  return panel;
}

function statusBox(state, title, steps) {
  return el("div", { id: "proof-status", class: "status", "data-state": state, role: "status" },
    el("strong", {}, title), steps && steps.length ? el("ul", {}, steps.map((s) => el("li", {}, s))) : null);
}

async function verifyEntry(index) {
  const problem = secureContextProblem();
  if (problem) return statusBox("unverifiable", "Not verified in this browser", [problem]);
  const steps = [];
  try {
    const r = await getJSON("api/v1/log/entries?logIndex=" + index);
    const [uuid, entry] = Object.entries(r)[0] || [];
    if (!entry) throw new Error("the log returned no entry for index " + index);
    const proof = entry.verification && entry.verification.inclusionProof;
    if (!proof) throw new Error("the log returned no inclusion proof");
    if (Number(entry.logIndex) !== index) throw new Error("the log returned entry " + entry.logIndex + " for index " + index);
    const body = b64decode(entry.body);
    const leaf = await leafHash(body);
    if (uuid && !uuid.toLowerCase().endsWith(hex(leaf))) throw new Error("the entry's UUID is not the hash of its body");
    steps.push("Leaf hash SHA-256(0x00 ‖ body) = " + hex(leaf));
    const hashes = (proof.hashes || []).map(hexdecode);
    const root = await rootFromProof(proof.logIndex, proof.treeSize, leaf, hashes);
    if (!equal(root, hexdecode(proof.rootHash))) {
      throw new Error("inclusion proof failed: the " + hashes.length + " proof hashes lead to root " + hex(root) + ", not the proof's root " + proof.rootHash);
    }
    steps.push("The inclusion proof (" + hashes.length + " hashes) leads to root " + hex(root) + " at tree size " + proof.treeSize);
    const note = parseNote(proof.checkpoint);
    if (note.size !== BigInt(proof.treeSize) || !equal(note.root, root)) {
      throw new Error("checkpoint mismatch: the signed checkpoint is for size " + note.size + " and root " + hex(note.root) + ", not the proof's");
    }
    const { key, name } = await verifyNote(note);
    steps.push("Checkpoint “" + note.origin + "” (size " + note.size + ") is signed by " + name + " with log key " + key.keyId.slice(0, 16) + "… (" + key.details + ") from trusted_root.json");
    return statusBox("verified", "Verified in this browser: entry " + index + " is in the log", steps);
  } catch (e) {
    return statusBox("failed", "Verification FAILED", [...steps, e.message]);
  }
}

async function entryView(index) {
  setNav("search");
  const e = await getJSON("signet/v1/explorer/entries/" + index);
  const body = b64decode(e.body);
  const certs = e.signers.filter((s) => s.certificatePem);
  const actions = el("div", { class: "actions" });
  const bodyBtn = el("button", { type: "button", id: "download-body" }, "Download raw body");
  bodyBtn.addEventListener("click", () => download("entry-" + index + ".json", body, "application/json"));
  actions.append(bodyBtn);
  certs.forEach((s, i) => {
    const b = el("button", { type: "button", class: "download-cert" }, certs.length > 1 ? "Download certificate " + (i + 1) : "Download certificate");
    b.addEventListener("click", () => download("entry-" + index + (certs.length > 1 ? "-" + (i + 1) : "") + ".pem", s.certificatePem, "application/x-pem-file"));
    actions.append(b);
  });
  const isAttestation = e.kind === "dsse" || e.kind === "intoto";
  show(
    el("h1", {}, "Entry " + index),
    statusBox("checking", "Checking the inclusion proof in this browser…"),
    facts([
      ["Kind", e.kind + " " + e.apiVersion],
      ["Log index", String(e.logIndex)],
      ["UUID", el("span", { class: "mono" }, e.uuid)],
      ["Integrated", time(e.integratedTime)],
      [isAttestation ? "Payload digest" : "Artifact digest", e.digest ? searchLink(e.digest, "digest") : null],
      ["Predicate type", e.predicateType || (isAttestation ? "not recorded (not an in-toto statement, or logged elsewhere): the entry keeps the payload's hash, not the payload" : null)],
      ["Problem", e.problem],
    ]),
    actions,
    e.signers.map((s, i) => signerPanel(s, i, e.signers.length)));
  const status = await verifyEntry(index);
  const old = document.getElementById("proof-status");
  if (old) old.replaceWith(status);
}

async function checkpointView() {
  setNav("checkpoint");
  const text = await getText("checkpoint");
  const note = parseNote(text);
  let status;
  const problem = secureContextProblem();
  if (problem) status = statusBox("unverifiable", "Not verified in this browser", [problem]);
  else {
    try {
      const { key, name } = await verifyNote(note);
      status = statusBox("verified", "Checkpoint signature verified in this browser",
        ["Signed by " + name + " with log key " + key.keyId.slice(0, 16) + "… (" + key.details + ") from trusted_root.json"]);
    } catch (e) {
      status = statusBox("failed", "Checkpoint signature FAILED", [e.message]);
    }
  }
  const signers = await classify(note);
  const cos = signers.filter((x) => !x.isLog);
  show(
    el("h1", {}, "Checkpoint"),
    status,
    facts([
      ["Origin", note.origin],
      ["Tree size", String(note.size)],
      ["Root hash", el("span", { class: "mono" }, hex(note.root))],
      ["Extensions", note.extensions.join("\n")],
    ]),
    el("h2", {}, "Signatures"),
    el("table", { id: "signatures" },
      el("thead", {}, el("tr", {}, el("th", { scope: "col" }, "Signer"), el("th", { scope: "col" }, "Role"), el("th", { scope: "col" }, "Key hash"), el("th", { scope: "col" }, "Time"))),
      el("tbody", {}, signers.map((s) => el("tr", {},
        el("td", {}, s.name),
        el("td", {}, s.isLog ? "log (key in trusted_root.json)" : "witness cosignature"),
        el("td", { class: "mono" }, s.keyHash),
        el("td", {}, s.time !== null ? time(s.time) : ""))))),
    cos.length ? el("p", { class: "muted" }, "Witness cosignatures are listed by name; their keys are not in trusted_root.json, so this page does not check them (signet audit and the verifier's witness policy do).")
      : el("p", { class: "muted" }, "No witness has cosigned this checkpoint."),
    el("details", {}, el("summary", {}, "Raw checkpoint"), el("pre", { class: "mono" }, text)));
}

function barChart(a) {
  const W = 720, H = 220, left = 40, bottom = 28, top = 10;
  const max = Math.max(1, ...a.buckets.map((b) => b.count));
  const n = a.buckets.length;
  const bw = (W - left - 8) / Math.max(1, n);
  const unit = a.bucketSeconds >= 604800 ? "week" : a.bucketSeconds >= 86400 ? "day" : "hour";
  const chart = svg("svg", {
    class: "chart", id: "activity-chart", viewBox: "0 0 " + W + " " + H, role: "img",
    "aria-label": "Entries per " + unit + ": " + a.total + " in the window, at most " + max + " in one " + unit,
  });
  chart.append(svg("line", { class: "axis", x1: left, y1: H - bottom, x2: W, y2: H - bottom }));
  chart.append(svg("text", { x: left - 6, y: top + 8, "text-anchor": "end" }, String(max)));
  chart.append(svg("text", { x: left - 6, y: H - bottom, "text-anchor": "end" }, "0"));
  a.buckets.forEach((b, i) => {
    const h = (b.count / max) * (H - bottom - top);
    const rect = svg("rect", {
      class: "bar", x: left + i * bw + 1, y: H - bottom - h, width: Math.max(1, bw - 2), height: h,
      "data-count": b.count,
    }, svg("title", {}, time(b.start) + ": " + b.count));
    chart.append(rect);
  });
  const labels = Math.min(6, n);
  for (let k = 0; k < labels; k++) {
    const i = Math.round((k * (n - 1)) / Math.max(1, labels - 1));
    const d = new Date(a.buckets[i].start * 1000).toISOString();
    const label = unit === "hour" ? d.slice(5, 13).replace("T", " ") + "h" : d.slice(0, 10);
    const anchor = k === 0 ? "start" : k === labels - 1 ? "end" : "middle";
    const x = k === 0 ? left + i * bw : k === labels - 1 ? left + (i + 1) * bw : left + i * bw + bw / 2;
    chart.append(svg("text", { x, y: H - 8, "text-anchor": anchor }, label));
  }
  return chart;
}

function ranking(id, title, items, kind) {
  const max = Math.max(1, ...items.map((x) => x.count));
  const list = el("ol", { class: "rank", id, "aria-label": title });
  for (const x of items) {
    const meter = el("div", { class: "meter", "aria-hidden": "true" });
    meter.style.width = Math.max(1, (100 * x.count) / max) + "%";
    const name = kind === "identity" && !x.name.startsWith("key ") && !x.name.startsWith("(")
      ? searchLink(x.name, "identity") : el("span", {}, x.name);
    list.append(el("li", {}, el("div", { class: "mono" }, name, meter), el("span", { class: "count" }, String(x.count))));
  }
  return el("section", {}, el("h2", {}, title), items.length ? list : el("p", { class: "muted" }, "No entries in this window."));
}

const WINDOWS = [[24, "24 hours"], [168, "7 days"], [720, "30 days"], [8760, "1 year"]];

async function activityView(params) {
  setNav("activity");
  const hours = Number(params.get("hours") || 168);
  let a = await getJSON("signet/v1/explorer/activity?hours=" + hours);
  // Counting catches up with a large log a slice per request.
  for (let i = 0; i < 40 && a.counted < a.treeSize; i++) {
    show(el("h1", {}, "Activity"), el("p", { role: "status" }, "Counting entries: " + a.counted + " of " + a.treeSize + "…"));
    a = await getJSON("signet/v1/explorer/activity?hours=" + hours);
  }
  const table = el("table", {}, el("caption", {}, "Entries per bucket"),
    el("thead", {}, el("tr", {}, el("th", { scope: "col" }, "From"), el("th", { scope: "col" }, "Entries"))),
    el("tbody", {}, a.buckets.filter((b) => b.count > 0).map((b) => el("tr", {}, el("td", {}, time(b.start)), el("td", {}, String(b.count))))));
  show(
    el("h1", {}, "Activity"),
    el("nav", { class: "windows", "aria-label": "Time window" }, WINDOWS.map(([h, label]) =>
      el("a", { href: "#/activity?hours=" + h, "aria-current": h === hours ? "true" : null }, label))),
    el("p", { id: "activity-total" }, a.total + " entries from " + time(a.from) + " to " + time(a.to) + "."),
    barChart(a),
    el("details", {}, el("summary", {}, "Show the counts as a table"), table),
    el("div", { class: "grid2" },
      ranking("top-identities", "Most active identities", a.identities, "identity"),
      ranking("top-issuers", "Most active issuers", a.issuers, "issuer")));
}

async function route() {
  const hash = location.hash.replace(/^#/, "") || "/";
  const [path, query] = hash.split("?");
  const params = new URLSearchParams(query || "");
  try {
    let m;
    if (path === "/" || path === "") await homeView(params);
    else if (path === "/search") await searchView(params);
    else if ((m = /^\/entry\/(\d+)$/.exec(path))) await entryView(Number(m[1]));
    else if (path === "/checkpoint") await checkpointView();
    else if (path === "/activity") await activityView(params);
    else show(errorBox("No such page: " + path));
  } catch (e) {
    show(errorBox(e.message));
  }
  document.body.dataset.ready = "true";
}

document.addEventListener("DOMContentLoaded", () => {
  document.getElementById("search-form").addEventListener("submit", (ev) => {
    ev.preventDefault();
    const q = document.getElementById("q").value.trim();
    const kind = document.getElementById("kind").value;
    if (q) location.hash = "#/search?" + new URLSearchParams({ q, kind });
  });
  window.addEventListener("hashchange", () => {
    document.body.dataset.ready = "false";
    route().then(() => document.getElementById("main").focus({ preventScroll: true }));
  });
  route();
});
