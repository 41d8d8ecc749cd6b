"""Polling for something another process or thread will do, within a time limit."""
import time


def until(pred, timeout=10.0, every=0.02):
    """pred()'s first truthy result within `timeout` seconds, else its last (falsy) one."""
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        got = pred()
        if got:
            return got
        time.sleep(every)
    return pred()
