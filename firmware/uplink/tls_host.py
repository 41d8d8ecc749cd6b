# The CA's pin, as the broker access tool prints it (monitor/broker_access.py):
# the tests hold the two to the same value. The hub never needed it, so it is
# left off the board image (tools/mpy_build.py HOST_ONLY).
import binascii
import hashlib


def fingerprint(der):
    """SHA-256 of a certificate's DER bytes, hex: the CA's pin, safe to print."""
    return binascii.hexlify(hashlib.sha256(der).digest()).decode()
