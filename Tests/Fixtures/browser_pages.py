#!/usr/bin/env python3
"""The web page in a real browser (headless Chromium driven by selenium), against `citsci run` on a
folder source of real ZTF alerts plus one whose objectId holds markup, with a filter whose name and
description hold markup too. Every page: no console error, no broken image, no injected script run.
The playground: a typo shows the caret error and the suggestion as you type; the fix shows matches
with their frames decoded; saving without the token is refused, with it the service reloads the
filter. On a phone-sized window no page is wider than the screen. Exits non-zero with the reason on
the first failure.

Usage: browser_pages.py --citsci PATH --data ../shared/data
"""
import argparse, copy, glob, io, json, os, shutil, signal, socket, subprocess, sys, tempfile, time, urllib.request

import fastavro
from selenium import webdriver
from selenium.webdriver.chrome.service import Service
from selenium.webdriver.common.by import By
from selenium.webdriver.support.ui import WebDriverWait

HOSTILE = "<script>window.__pwned=1</script>"

ap = argparse.ArgumentParser()
ap.add_argument("--citsci", required=True)
ap.add_argument("--data", required=True)
args = ap.parse_args()

work = tempfile.mkdtemp(prefix="citsci-browser-")
procs = []


def fail(why):
    sys.exit(f"browser test: {why}")


def free_port():
    s = socket.socket()
    s.bind(("127.0.0.1", 0))
    port = s.getsockname()[1]
    s.close()
    return port


try:
    # The source: real Fink ZTF alerts, and one re-written with markup in its objectId.
    src = os.path.join(work, "src")
    os.makedirs(src)
    files = sorted(glob.glob(os.path.join(args.data, "ztf-fink-distributed", "*.avro")))[:120]
    if not files:
        fail(f"no alerts in {args.data}/ztf-fink-distributed")
    for f in files:
        shutil.copy(f, src)
    with open(files[0], "rb") as fh:
        reader = fastavro.reader(fh)
        schema = reader.writer_schema
        record = next(iter(reader))
    hostile = copy.deepcopy(record)
    hostile["objectId"] = HOSTILE
    hostile["candid"] = record["candid"] + 1
    hostile["candidate"]["candid"] = record["candid"] + 1
    hostile["candidate"]["magpsf"] = 15.0
    with open(os.path.join(src, "zz-hostile.avro"), "wb") as fh:
        fastavro.writer(fh, fastavro.parse_schema(schema), [hostile])

    filters = os.path.join(work, "filters")
    shutil.copytree(os.path.join(os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__)))), "examples", "filters"), filters)
    with open(os.path.join(filters, "hostile.yaml"), "w") as fh:
        fh.write(f'name: "x{HOSTILE}"\ndescription: "{HOSTILE}"\nexpression: snr > 5\ndestination: {{project: "1", workflow: "2"}}\n')

    port = free_port()
    with open(os.path.join(work, "citsci.yaml"), "w") as fh:
        fh.write(f"""source: {{folder: {src}}}
filters: {filters}
state: {work}/state.sqlite
sink: {{folder: {work}/sink}}
dead_letters: {{folder: {work}/dead}}
metrics: {{listen: "127.0.0.1:{port}"}}
pipeline: {{recent_alerts_per_second: 100000}}
log: {{level: warning}}
""")
    # Every alert in the window (the default keeps a sample of 50 a second, and the folder is read in
    # well under one: the hostile alert could be left out).
    env = dict(os.environ, CITSCI_WEB_TOKEN="browser-sekrit")
    log = open(os.path.join(work, "citsci.log"), "w")
    service = subprocess.Popen([args.citsci, "run", "--config", os.path.join(work, "citsci.yaml")], stdout=log, stderr=log, env=env)
    procs.append(service)
    base = f"http://127.0.0.1:{port}"
    deadline = time.time() + 120
    while True:
        if service.poll() is not None:
            fail(f"citsci run exited ({service.returncode}): {open(os.path.join(work, 'citsci.log')).read()[-2000:]}")
        try:
            snap = json.load(urllib.request.urlopen(base + "/api/stream", timeout=2))
            if snap["totals"]["citsci_alerts_total"] >= len(files) + 1:
                break
        except OSError:
            pass
        if time.time() > deadline:
            fail("the service did not read the folder in 120 s")
        time.sleep(0.3)
    time.sleep(1.5)  # the window's writer runs beside the pipeline

    options = webdriver.ChromeOptions()
    for a in ["--headless=new", "--no-sandbox", "--disable-gpu", "--disable-dev-shm-usage", "--window-size=1280,1000"]:
        options.add_argument(a)
    options.binary_location = shutil.which("chromium") or "/usr/bin/chromium"
    options.set_capability("goog:loggingPrefs", {"browser": "ALL"})
    driver = webdriver.Chrome(service=Service(shutil.which("chromedriver") or "/usr/bin/chromedriver"), options=options)
    wait = WebDriverWait(driver, 20)

    def console_errors():
        return [e for e in driver.get_log("browser") if e["level"] == "SEVERE"]

    def images_ok():
        return driver.execute_script("return Array.from(document.images).every(i => i.complete && i.naturalWidth > 0)")

    def check_page(path, at=None):
        driver.get((at or base) + path)
        wait.until(lambda d: d.execute_script("return document.readyState") == "complete")
        time.sleep(0.5)
        errors = console_errors()
        if errors:
            fail(f"{path}: console errors {errors}")
        if not images_ok():
            fail(f"{path}: a broken image")
        if driver.execute_script("return window.__pwned") is not None:
            fail(f"{path}: injected markup ran")

    for path in ["/", "/filters", "/playground", "/subjects", "/results", "/dead-letters"]:
        check_page(path)
        print(f"page {path}: ok")

    driver.get(base + "/filters")
    if "x" + HOSTILE not in driver.find_element(By.TAG_NAME, "main").text:
        fail("/filters: the hostile filter name is not shown as text")

    # The live stream page updates itself.
    driver.get(base + "/")
    wait.until(lambda d: d.find_element(By.CSS_SELECTOR, '[data-rate="citsci_alerts_total"]').text.endswith("/s"))
    print("stream page: live")

    # The playground: a typo, as typed, then the fix.
    driver.get(base + "/playground")
    box = driver.find_element(By.ID, "expression")
    box.clear()
    box.send_keys("magnitude < 18 and candidate.rb > 0.3 and magnitdue > 0")
    wait.until(lambda d: "did you mean 'magnitude'?" in d.find_element(By.ID, "check").text)
    message = driver.find_element(By.CSS_SELECTOR, "#check pre.error").text
    if "1:43: error: unknown field 'magnitdue'" not in message or "^^^^^^^^^" not in message:
        fail(f"the caret error is not as citsci filter check prints it: {message!r}")
    print("playground: typo shows line, column, caret and the suggestion")
    box.send_keys("\b" * len("magnitdue > 0") + "magnitude > 0")
    wait.until(lambda d: d.find_element(By.ID, "check").text.startswith("OK"))
    driver.find_element(By.ID, "run").click()
    wait.until(lambda d: d.find_elements(By.ID, "summary"))
    summary = driver.find_element(By.ID, "summary")
    matches, read = int(summary.get_attribute("data-matches")), int(summary.get_attribute("data-read"))
    if not (0 < matches < read):
        fail(f"the run matched {matches} of {read}")
    images = driver.find_elements(By.CSS_SELECTOR, ".match img")
    if len(images) != 3 * min(matches, 24):
        fail(f"{len(images)} frames for {matches} matches")
    for img in images:
        driver.execute_script("arguments[0].scrollIntoView()", img)
    wait.until(lambda d: images_ok())
    if HOSTILE not in driver.find_element(By.ID, "results").text:
        fail("the hostile alert's objectId is not among the matches as text")
    if driver.execute_script("return window.__pwned") is not None or console_errors():
        fail("the playground ran injected markup or logged errors")
    print(f"playground: {matches} of {read} match, {len(images)} frames decoded")

    # Saving: refused without the token, then saved and reloaded with it.
    form = driver.find_element(By.ID, "save")
    form.find_element(By.NAME, "name").send_keys("from-browser")
    form.find_element(By.NAME, "project").send_keys("77")
    form.find_element(By.NAME, "workflow").send_keys("88")
    form.find_element(By.CSS_SELECTOR, "button[type=submit]").click()
    wait.until(lambda d: d.find_element(By.ID, "saved").text)
    if "Not saved (401)" not in driver.find_element(By.ID, "saved").text or os.path.exists(os.path.join(filters, "from-browser.yaml")):
        fail(f"a save without the token was not refused: {driver.find_element(By.ID, 'saved').text}")
    print("save without the token: refused")
    form.find_element(By.NAME, "token").send_keys("browser-sekrit")
    form.find_element(By.CSS_SELECTOR, "button[type=submit]").click()
    wait.until(lambda d: d.find_element(By.ID, "saved").text.startswith("Saved"))
    if not os.path.exists(os.path.join(filters, "from-browser.yaml")):
        fail("the saved filter file is not in the filters folder")
    driver.get(base + "/filters")
    if "from-browser" not in driver.find_element(By.TAG_NAME, "main").text:
        fail("the service did not reload the saved filter")
    print("save with the token: written and reloaded")
    # The refused save is the one error the console may hold (the 401 answer itself).
    left = [e for e in console_errors() if not ("/filters/save" in e["message"] and "401" in e["message"])]
    if left:
        fail(f"saving logged console errors: {left}")

    def check_subjects(base, path="/subjects"):
        """The sets list, then a set's page: every frame and blink image decoded, a light curve drawn."""
        driver.get(base + path)
        links = driver.find_elements(By.CSS_SELECTOR, "main table tbody td a")
        if not links:
            fail(f"{path}: no subject set listed")
        links[0].click()
        wait.until(lambda d: d.find_elements(By.CSS_SELECTOR, "article.subject"))
        for img in driver.find_elements(By.CSS_SELECTOR, "article.subject img"):
            driver.execute_script("arguments[0].scrollIntoView()", img)
        wait.until(lambda d: images_ok())
        blinks = driver.find_elements(By.CSS_SELECTOR, ".blink img")
        if not blinks or driver.execute_script("return getComputedStyle(arguments[0]).animationName", blinks[0]) == "none":
            fail("a subject's frames do not blink")
        if not driver.find_elements(By.CSS_SELECTOR, "svg.lightcurve path"):
            fail("no light curve drawn")
        errors = console_errors()
        if errors or driver.execute_script("return window.__pwned") is not None:
            fail(f"the subject pages logged errors {errors} or ran injected markup")
        return len(driver.find_elements(By.CSS_SELECTOR, "article.subject"))

    shown = check_subjects(base)
    print(f"subjects: a set of {shown} subjects shown with frames, blink and light curve")

    # citsci serve: the same pages over the stopped service's store and sink, consuming nothing.
    service.send_signal(signal.SIGTERM)
    service.wait(30)
    serve_port = free_port()
    serve = subprocess.Popen([args.citsci, "serve", "--config", os.path.join(work, "citsci.yaml"), "--listen", f"127.0.0.1:{serve_port}"],
                             stdout=log, stderr=log, env=env)
    procs.append(serve)
    serve_base = f"http://127.0.0.1:{serve_port}"
    deadline = time.time() + 30
    while True:
        try:
            urllib.request.urlopen(serve_base + "/healthz", timeout=2)
            break
        except OSError:
            if serve.poll() is not None or time.time() > deadline:
                fail(f"citsci serve did not start: {open(os.path.join(work, 'citsci.log')).read()[-2000:]}")
            time.sleep(0.2)
    for path in ["/", "/filters", "/subjects", "/results", "/dead-letters"]:
        check_page(path, serve_base)
    driver.get(serve_base + "/")
    if "only looks" not in driver.find_element(By.TAG_NAME, "main").text:
        fail("citsci serve's stream page does not say it consumes nothing")
    if check_subjects(serve_base) != shown:
        fail("citsci serve shows another set than the service made")
    print("citsci serve: the same subjects, nothing consumed")

    # On a phone's screen: no page wider than the screen (a wide table scrolls inside its own box).
    driver.set_window_size(390, 844)
    driver.get(serve_base + "/subjects")
    set_page = driver.find_elements(By.CSS_SELECTOR, "main table tbody td a")[0].get_attribute("href")[len(serve_base):]
    for path in ["/", "/filters", "/playground", "/subjects", set_page, "/results", "/dead-letters"]:
        driver.get(serve_base + path)
        wait.until(lambda d: d.execute_script("return document.readyState") == "complete")
        wide = driver.execute_script("return [document.documentElement.scrollWidth, window.innerWidth]")
        if wide[0] > wide[1] + 1:
            over = driver.execute_script("""return Array.from(document.querySelectorAll('body *'))
                .filter(e => e.getBoundingClientRect().right > window.innerWidth + 1)
                .slice(0, 5).map(e => e.tagName.toLowerCase() + (e.className ? '.' + e.className : '') + ' ' + Math.round(e.getBoundingClientRect().right))""")
            fail(f"{path} on a phone: the page is {wide[0]} px wide on a {wide[1]} px screen; past its edge: {over}")
    print("phone: every page fits the screen")
    driver.quit()
finally:
    for p in procs:
        if p.poll() is None:
            p.send_signal(signal.SIGTERM)
            try:
                p.wait(20)
            except subprocess.TimeoutExpired:
                p.kill()
    shutil.rmtree(work, ignore_errors=True)
