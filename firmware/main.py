# Board entry point: MicroPython runs this after boot.py.
from hub.boot import start

start()
