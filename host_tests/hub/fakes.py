# Fake pins and a fake keypad matrix for driver tests (MicroPython subset).


class FakePin:
    def __init__(self, level=1):
        self.level = level

    def value(self, v=None):
        if v is None:
            return self.level
        self.level = v


class Matrix:
    # A 4x4 membrane keypad: a column reads 0 while its row is driven low and
    # the key joining them is down.
    KEYS = ["123A", "456B", "789C", "*0#D"]

    def __init__(self):
        self.down = ""
        self.rows = [FakePin(1) for _ in range(4)]
        self.cols = [_Col(self, c) for c in range(4)]

    def press(self, keys):
        self.down = keys


class _Col:
    def __init__(self, matrix, c):
        self.matrix = matrix
        self.c = c

    def value(self, v=None):
        m = self.matrix
        for r in range(4):
            if m.rows[r].level == 0 and m.KEYS[r][self.c] in m.down:
                return 0
        return 1
