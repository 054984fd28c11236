"""Drives the log explorer in headless Chromium (Debian's chromium + chromium-driver, through
Selenium with the installed driver; nothing is downloaded). Run by cli/tests/explorer.rs:

    python3 explorer.py CASES.json

CASES.json: {"url": server URL, "screenshots": dir, "axe": path to axe.min.js,
             "searches": [{"q", "kind", "expect": [log indexes]}], "entry": index,
             "identity": an identity expected in the activity ranking, "entries": tree size}

Every check raises on failure; the last line printed is a JSON summary of what was seen.
A tampering proxy (a thread here) sits between the browser and the server for the tamper
cases: it flips one inclusion-proof hash, or one byte of the checkpoint signature.
"""

import base64
import http.server
import json
import sys
import threading
import time
import urllib.error
import urllib.request

from selenium import webdriver
from selenium.common.exceptions import NoSuchElementException, StaleElementReferenceException
from selenium.webdriver.chrome.service import Service
from selenium.webdriver.common.by import By
from selenium.webdriver.common.keys import Keys
from selenium.webdriver.support import expected_conditions as EC
from selenium.webdriver.support.ui import WebDriverWait

CASES = json.load(open(sys.argv[1]))
BASE = CASES["url"].rstrip("/")
SHOTS = CASES["screenshots"]
seen = {}


def tamper_checkpoint(text):
    """Flips one bit in the first signature of a signed note."""
    head, sep, sigs = text.partition("\n\n")
    first, _, rest = sigs.partition("\n")
    prefix, _, b64 = first.rpartition(" ")
    raw = bytearray(base64.b64decode(b64))
    raw[-1] ^= 1
    return head + sep + prefix + " " + base64.b64encode(bytes(raw)).decode() + "\n" + rest


COSIGNED_AT = 1767225600  # 2026-01-01T00:00:00Z


class Proxy(http.server.BaseHTTPRequestHandler):
    mode = "none"

    def log_message(self, *args):
        pass

    def do_GET(self):
        try:
            with urllib.request.urlopen(BASE + self.path, timeout=20) as r:
                status, ctype, body = r.status, r.headers.get("Content-Type", ""), r.read()
                csp = r.headers.get("Content-Security-Policy")
        except urllib.error.HTTPError as e:
            status, ctype, body, csp = e.code, e.headers.get("Content-Type", ""), e.read(), None
        if status == 200 and self.path.startswith("/api/v1/log/entries?"):
            doc = json.loads(body)
            for entry in doc.values():
                proof = entry["verification"]["inclusionProof"]
                if Proxy.mode == "proof":
                    h = bytearray(bytes.fromhex(proof["hashes"][0]))
                    h[0] ^= 0x80
                    proof["hashes"][0] = h.hex()
                elif Proxy.mode == "checkpoint":
                    proof["checkpoint"] = tamper_checkpoint(proof["checkpoint"])
            body = json.dumps(doc).encode()
        if status == 200 and self.path == "/checkpoint" and Proxy.mode == "checkpoint":
            body = tamper_checkpoint(body.decode()).encode()
        if status == 200 and self.path == "/checkpoint" and Proxy.mode == "cosigned":
            # A witness cosignature line (C2SP tlog-cosignature: key hash, timestamp, signature).
            raw = bytes([1, 2, 3, 4]) + COSIGNED_AT.to_bytes(8, "big") + bytes(64)
            body = body + ("\u2014 witness.example/w1 " + base64.b64encode(raw).decode() + "\n").encode()
        self.send_response(status)
        self.send_header("Content-Type", ctype)
        if csp:
            self.send_header("Content-Security-Policy", csp)
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        self.wfile.write(body)


def start_proxy():
    srv = http.server.ThreadingHTTPServer(("127.0.0.1", 0), Proxy)
    threading.Thread(target=srv.serve_forever, daemon=True).start()
    return f"http://127.0.0.1:{srv.server_address[1]}"


def browser():
    o = webdriver.ChromeOptions()
    o.binary_location = "/usr/bin/chromium"
    for a in ["--headless=new", "--no-sandbox", "--disable-dev-shm-usage", "--disable-gpu",
              "--window-size=1280,1000", "--lang=en-US"]:
        o.add_argument(a)
    o.set_capability("goog:loggingPrefs", {"browser": "ALL"})
    return webdriver.Chrome(service=Service("/usr/bin/chromedriver"), options=o)


d = browser()
wait = WebDriverWait(d, 30, ignored_exceptions=(NoSuchElementException, StaleElementReferenceException))


def ready():
    wait.until(lambda drv: drv.execute_script("return document.body.dataset.ready") == "true")


def go(base, frag):
    # A full load each time (a hash-only change would not reload the page).
    d.get("about:blank")
    d.get(base + "/#" + frag)
    ready()


def proof_state():
    try:
        wait.until(lambda drv: drv.find_element(By.ID, "proof-status").get_attribute("data-state") != "checking")
    except Exception as e:
        raise AssertionError(f"no proof status on {d.current_url}: {d.find_element(By.TAG_NAME, 'main').text}") from e
    el = d.find_element(By.ID, "proof-status")
    return el.get_attribute("data-state"), el.text


def axe(name):
    src = open(CASES["axe"]).read()
    d.execute_script(src)
    res = d.execute_async_script(
        "const done = arguments[arguments.length - 1];"
        "axe.run(document, {runOnly: {type: 'tag', values: ['wcag2a', 'wcag2aa', 'wcag21a', 'wcag21aa']}})"
        ".then(r => done(r.violations.map(v => ({id: v.id, impact: v.impact, help: v.help,"
        " nodes: v.nodes.map(n => n.target.join(' ')).slice(0, 5)}))))"
        ".catch(e => done([{id: 'axe-error', help: String(e)}]));")
    assert res == [], f"accessibility violations on {name}: {json.dumps(res, indent=1)}"
    seen.setdefault("axe_pages", []).append(name)


def shot(name):
    path = f"{SHOTS}/{name}.png"
    d.save_screenshot(path)
    seen.setdefault("screenshots", []).append(path)


def no_external_requests():
    entries = d.execute_script("return performance.getEntriesByType('resource').map(e => e.name)")
    outside = [u for u in entries if not (u.startswith(BASE) or u.startswith("http://127.0.0.1"))]
    assert not outside, f"the page loaded from elsewhere: {outside}"


try:
    # Home: the latest entries, newest first.
    t0 = time.monotonic()
    d.get(BASE + "/")
    ready()
    rows = d.find_elements(By.CSS_SELECTOR, "#results tbody tr")
    indexes = [int(r.get_attribute("data-index")) for r in rows]
    assert indexes == sorted(indexes, reverse=True) and indexes, f"home rows {indexes}"
    assert indexes[0] == CASES["entries"] - 1, f"newest is {indexes[0]}"
    no_external_requests()
    axe("home")

    # Keyboard only: tab to the search box, type, Enter; tab to the first result, Enter.
    d.get(BASE + "/")
    ready()
    body = d.find_element(By.TAG_NAME, "body")
    body.send_keys(Keys.TAB)
    for _ in range(10):
        if d.switch_to.active_element.get_attribute("id") == "q":
            break
        d.switch_to.active_element.send_keys(Keys.TAB)
    assert d.switch_to.active_element.get_attribute("id") == "q", "Tab never reached the search box"
    first = CASES["searches"][0]
    d.switch_to.active_element.send_keys(first["q"], Keys.ENTER)
    wait.until(EC.presence_of_element_located((By.ID, "result-count")))
    ready()
    link = d.find_element(By.CSS_SELECTOR, "#results tbody tr a")
    link.send_keys(Keys.ENTER)
    wait.until(EC.presence_of_element_located((By.ID, "proof-status")))
    state, text = proof_state()
    assert state == "verified", f"keyboard path: {state}: {text}"
    seen["keyboard"] = True

    # Search by every key.
    for s in CASES["searches"]:
        from urllib.parse import urlencode
        go(BASE, "/search?" + urlencode({"q": s["q"], "kind": s["kind"]}))
        rows = d.find_elements(By.CSS_SELECTOR, "#results tbody tr")
        got = [int(r.get_attribute("data-index")) for r in rows]
        assert sorted(got, reverse=True) == got, f"{s}: not newest first: {got}"
        for want in s["expect"]:
            assert want in got, f"search {s['kind']} {s['q']!r}: {want} not in {got}"
        seen.setdefault("searches", []).append({"kind": s["kind"], "found": got})
    axe("search results")

    # The entry view, with the proof verified in the browser.
    n = CASES["entry"]
    t1 = time.monotonic()
    go(BASE, f"/entry/{n}")
    state, text = proof_state()
    seen["entry_render_ms"] = round((time.monotonic() - t1) * 1000)
    assert state == "verified", f"entry {n}: {state}: {text}"
    assert "inclusion proof" in text and "trusted_root.json" in text, text
    page = d.find_element(By.TAG_NAME, "main").text
    for want in CASES["entry_texts"]:
        assert want in page, f"entry view lacks {want!r}: {page}"
    assert d.find_elements(By.ID, "download-body"), "no body download"
    assert d.find_elements(By.CSS_SELECTOR, ".download-cert"), "no certificate download"
    seen["entry_verified"] = text
    shot("entry")
    axe("entry")

    # An attestation: its predicate type, recorded by the log beside the entry.
    att = CASES["attestation"]
    go(BASE, f"/entry/{att['entry']}")
    state, text = proof_state()
    assert state == "verified", f"attestation entry: {state}: {text}"
    page = d.find_element(By.TAG_NAME, "main").text
    for want in att["texts"]:
        assert want in page, f"attestation view lacks {want!r}: {page}"
    seen["attestation_verified"] = True

    # A CI workload's entry: the URI identity and the GitHub Actions claims, each labelled.
    ci = CASES["ci"]
    go(BASE, f"/entry/{ci['entry']}")
    state, text = proof_state()
    assert state == "verified", f"CI entry: {state}: {text}"
    for label, value in ci["claims"].items():
        got = d.find_element(By.CSS_SELECTOR, f'[data-claim="{label}"]').text
        assert got == value, f"claim {label}: {got!r} != {value!r}"
    seen["ci_claims"] = len(ci["claims"])

    # Checkpoint view.
    go(BASE, "/checkpoint")
    state, text = proof_state()
    assert state == "verified", text
    sigs = d.find_elements(By.CSS_SELECTOR, "#signatures tbody tr")
    assert sigs, "no signature rows"
    seen["checkpoint_signatures"] = len(sigs)
    axe("checkpoint")

    # Activity: the chart is drawn from the log.
    go(BASE, "/activity?hours=24")
    bars = d.find_elements(By.CSS_SELECTOR, "#activity-chart rect.bar")
    counts = [int(b.get_attribute("data-count")) for b in bars]
    assert sum(counts) == CASES["entries"], f"chart counts {counts} != {CASES['entries']} entries"
    heights = [float(b.get_attribute("height")) for b in bars]
    assert max(heights) > 0, "no bar has a height"
    ids = d.find_element(By.ID, "top-identities").text
    assert CASES["identity"] in ids, f"{CASES['identity']} not in {ids}"
    seen["chart_bars"] = len(bars)
    seen["chart_total"] = sum(counts)
    shot("activity")
    axe("activity")
    # From an identity to its entries.
    d.find_element(By.CSS_SELECTOR, "#top-identities a").click()
    wait.until(EC.presence_of_element_located((By.ID, "result-count")))
    ready()
    assert d.find_elements(By.CSS_SELECTOR, "#results tbody tr"), "identity link found nothing"

    # Narrow screen: nothing wider than the viewport.
    d.set_window_size(390, 844)
    go(BASE, f"/entry/{n}")
    proof_state()
    over = d.execute_script("return document.documentElement.scrollWidth - window.innerWidth")
    if over > 1:
        shot("too-wide")
        widest = d.execute_script(
            "return [...document.querySelectorAll('main *')].filter(e => e.getBoundingClientRect().right > window.innerWidth + 1)"
            ".slice(-5).map(e => e.tagName + '.' + e.className + ' ' + Math.round(e.getBoundingClientRect().right))")
        raise AssertionError(f"the entry view is {over}px wider than a phone screen: {widest}")
    shot("entry-narrow")
    d.set_window_size(1280, 1000)

    # Tampering, through the proxy: a flipped proof hash, a flipped checkpoint signature.
    proxy = start_proxy()
    Proxy.mode = "proof"
    go(proxy, f"/entry/{n}")
    state, text = proof_state()
    assert state == "failed" and "inclusion proof failed" in text, f"tampered proof: {state}: {text}"
    seen["tampered_proof"] = text
    shot("tampered-proof")
    Proxy.mode = "checkpoint"
    go(proxy, f"/entry/{n}")
    state, text = proof_state()
    assert state == "failed" and "does not verify" in text, f"tampered checkpoint: {state}: {text}"
    seen["tampered_checkpoint"] = text
    go(proxy, "/checkpoint")
    state, text = proof_state()
    assert state == "failed", text
    seen["tampered_checkpoint_view"] = text
    # A cosigned checkpoint: the witness is listed by name and time; the log's own signature
    # still verifies.
    Proxy.mode = "cosigned"
    go(proxy, "/checkpoint")
    state, text = proof_state()
    assert state == "verified", f"cosigned checkpoint: {state}: {text}"
    rows = [r.text for r in d.find_elements(By.CSS_SELECTOR, "#signatures tbody tr")]
    assert any("witness.example/w1" in r and "witness cosignature" in r and "2026-01-01T00:00:00Z" in r
               for r in rows), f"witness row missing: {rows}"
    assert any("log (key in trusted_root.json)" in r for r in rows), f"log row missing: {rows}"
    seen["witness_rows"] = rows
    Proxy.mode = "none"
    go(proxy, f"/entry/{n}")
    state, text = proof_state()
    assert state == "verified", f"untampered through the proxy: {state}: {text}"
finally:
    try:
        logs = [e for e in d.get_log("browser") if e.get("level") == "SEVERE"]
        seen["console_errors"] = [e["message"] for e in logs]
    except Exception:  # noqa: BLE001 - diagnostics only
        pass
    d.quit()

print(json.dumps(seen))
