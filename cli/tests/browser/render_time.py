"""First render time of the explorer's entry view in headless Chromium (BENCHMARKS.md "Log
explorer"): from navigation to the proof verified in the page, for ROUNDS fresh loads.

    python3 render_time.py URL INDEX [ROUNDS]
"""
import statistics
import sys
import time

from selenium import webdriver
from selenium.webdriver.chrome.service import Service
from selenium.webdriver.common.by import By
from selenium.webdriver.support.ui import WebDriverWait

url, index = sys.argv[1].rstrip("/"), int(sys.argv[2])
rounds = int(sys.argv[3]) if len(sys.argv) > 3 else 20
o = webdriver.ChromeOptions()
o.binary_location = "/usr/bin/chromium"
for a in ["--headless=new", "--no-sandbox", "--disable-dev-shm-usage", "--disable-gpu", "--window-size=1280,1000"]:
    o.add_argument(a)
d = webdriver.Chrome(service=Service("/usr/bin/chromedriver"), options=o)
times = []
try:
    for k in range(rounds):
        d.get("about:blank")
        t = time.monotonic()
        d.get(f"{url}/#/entry/{index - k}")
        WebDriverWait(d, 60).until(
            lambda drv: drv.execute_script(
                "const s = document.getElementById('proof-status');"
                "return s && s.dataset.state !== 'checking' ? s.dataset.state : null") is not None)
        state = d.find_element(By.ID, "proof-status").get_attribute("data-state")
        assert state == "verified", state
        times.append((time.monotonic() - t) * 1000)
finally:
    d.quit()
times.sort()
print(f"entry view first render to proof verified: p50 {statistics.median(times):.0f} ms, "
      f"max {times[-1]:.0f} ms over {rounds} fresh loads")
