"""Debian packages the tools and tests need (mosquitto, chromium, socat, postgresql):
found where they are, installed with apt-get when missing (we run as root on
a fresh Debian machine), and a clear message when that is impossible."""
import os
import shutil
import subprocess

_updated = False


def ensure(binary, package=None):
    """The path of `binary`, installing Debian's `package` (default: same name) if needed."""
    found = _find(binary)
    if found:
        return found
    package = package or binary
    install(package, binary)
    found = _find(binary)
    if not found:
        raise RuntimeError("apt-get installed %s but no %s was found" % (package, binary))
    return found


def install(package, binary=None):
    """apt-get install `package` (for a program found elsewhere than on PATH)."""
    global _updated
    binary = binary or package
    env = dict(os.environ, DEBIAN_FRONTEND="noninteractive")
    try:
        if not _updated:
            subprocess.run(["apt-get", "update", "-qq"], check=True, capture_output=True,
                           timeout=600, env=env)
            _updated = True
        subprocess.run(["apt-get", "install", "-y", "-qq", package], check=True,
                       capture_output=True, timeout=900, env=env)
    except (OSError, subprocess.CalledProcessError, subprocess.TimeoutExpired) as e:
        raise RuntimeError("%s is not installed and 'apt-get install %s' failed (%s). Install "
                           "it yourself (Debian/Ubuntu: sudo apt-get install %s) and try again."
                           % (binary, package, e, package))


def _find(binary):
    for cand in (shutil.which(binary), "/usr/sbin/" + binary, "/usr/bin/" + binary):
        if cand and os.path.exists(cand):
            return cand
    return None
