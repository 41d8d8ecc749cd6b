"""Ending the bench's child processes: asked first (SIGTERM, or their stdin
closed for those that serve requests on it), waited for, killed only when
they do not end: a service still working off a backlog on a loaded machine
has already given the figures it was started for."""
import subprocess


def end(procs, wait_s=30, by_stdin=False):
    for p in procs:
        if by_stdin:
            if p.poll() is None:
                try:
                    p.stdin.close()
                except OSError:
                    pass
        else:
            p.terminate()
    for p in procs:
        try:
            p.wait(wait_s)
        except subprocess.TimeoutExpired:
            p.kill()
            p.wait(10)
