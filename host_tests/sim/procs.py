"""Which processes still use a directory: proof that a run left nothing behind."""
import os


def using(path):
    """[(pid, cmdline)] of live processes whose command line or cwd mentions path."""
    found = []
    for pid in os.listdir("/proc"):
        if not pid.isdigit() or int(pid) == os.getpid():
            continue
        try:
            with open("/proc/%s/cmdline" % pid, "rb") as f:
                cmd = f.read().replace(b"\0", b" ").decode(errors="replace")
            try:
                cwd = os.readlink("/proc/%s/cwd" % pid)
            except OSError:
                cwd = ""
            with open("/proc/%s/stat" % pid) as f:
                zombie = f.read().rsplit(")", 1)[1].split()[0] == "Z"
        except OSError:
            continue
        if not zombie and (path in cmd or cwd.startswith(path)):
            found.append((int(pid), cmd))
    return found
