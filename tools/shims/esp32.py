# Host shim of MicroPython's `esp32`: only what the firmware touches.
def mcu_temperature():
    return 40


class NVS:
    def __init__(self, namespace):
        self._data = {}

    def set_i32(self, key, value):
        self._data[key] = value

    def get_i32(self, key):
        if key not in self._data:
            raise OSError(2)
        return self._data[key]

    def commit(self):
        pass
