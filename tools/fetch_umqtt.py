"""Fetch umqtt.simple for the host micropython into build/host-lib/umqtt/simple.py.

The board's firmware freezes umqtt.simple; on the host we use the PyPI sdist
micropython-umqtt.simple 1.3.4. It has no setup.py, so pip cannot install it:
this script downloads it through pip's configured index (PIP_INDEX_URL or
`pip config` global.index-url, else https://pypi.org/simple), checks the pinned
sha256 and extracts the one module. Nothing third-party is copied into the repo.

    python -m tools.fetch_umqtt [--force]
"""
import hashlib
import io
import json
import os
import re
import subprocess
import sys
import tarfile
import urllib.parse
import urllib.request

from tools import paths

PROJECT = "micropython-umqtt-simple"     # PEP 503 normalised name
FILENAME = "micropython-umqtt.simple-1.3.4.tar.gz"
SHA256 = "b6a2520239e3992c63a7de9370ee9b3d9d27819a90359c521f1c0f7ccab8d12f"
MEMBER = "micropython-umqtt.simple-1.3.4/umqtt/simple.py"
DEFAULT_INDEX = "https://pypi.org/simple"
HOST_LIB = os.path.join(paths.BUILD, "host-lib")
TARGET = os.path.join(HOST_LIB, "umqtt", "simple.py")


def index_url():
    url = os.environ.get("PIP_INDEX_URL", "").split()
    if url:
        return url[0]
    try:
        done = subprocess.run([sys.executable, "-m", "pip", "config", "list"],
                              capture_output=True, text=True, timeout=60)
        for line in done.stdout.splitlines():
            key, _, value = line.partition("=")
            if key.strip().endswith(".index-url") and not key.strip().endswith("extra-index-url"):
                return value.strip().strip("'\"").split()[0]
    except (OSError, subprocess.SubprocessError):
        pass
    return DEFAULT_INDEX


def _get(url, accept=None):
    req = urllib.request.Request(url, headers={"Accept": accept} if accept else {})
    with urllib.request.urlopen(req, timeout=60) as resp:
        return resp.read(), resp.headers.get("Content-Type", "")


def find_url(index):
    page = index.rstrip("/") + "/" + PROJECT + "/"
    body, ctype = _get(page, "application/vnd.pypi.simple.v1+json, "
                             "text/html;q=0.2")
    if "json" in ctype:
        for f in json.loads(body)["files"]:
            if f["filename"] == FILENAME:
                return urllib.parse.urljoin(page, f["url"])
    else:
        for href in re.findall(r'href="([^"]+)"', body.decode("utf-8", "replace")):
            href = href.replace("&amp;", "&")
            if urllib.parse.unquote(href.split("#")[0]).rsplit("/", 1)[-1] == FILENAME:
                return urllib.parse.urljoin(page, href)
    raise SystemExit("%s not listed at %s" % (FILENAME, page))


def fetch(force=False):
    if os.path.exists(TARGET) and not force:
        return TARGET
    url = find_url(index_url())
    data, _ = _get(url.split("#")[0])
    got = hashlib.sha256(data).hexdigest()
    if got != SHA256:
        raise SystemExit("sha256 mismatch for %s: got %s, want %s" % (url, got, SHA256))
    with tarfile.open(fileobj=io.BytesIO(data), mode="r:gz") as tar:
        src = tar.extractfile(MEMBER).read()
    os.makedirs(os.path.dirname(TARGET), exist_ok=True)
    tmp = TARGET + ".tmp"
    with open(tmp, "wb") as f:
        f.write(src)
    os.replace(tmp, TARGET)
    init = os.path.join(os.path.dirname(TARGET), "__init__.py")
    if not os.path.exists(init):
        open(init, "w").close()
    return TARGET


if __name__ == "__main__":
    print(fetch(force="--force" in sys.argv[1:]))
