"""Decode or build BTHome v2 service data (UUID 0xFCD2), using the hub's own decoder.

    python -m tools.bthome decode --mac AA:BB:CC:DD:EE:FF [--key HEX] HEX
    python -m tools.bthome encode --mac AA:BB:CC:DD:EE:FF [--key HEX] [--counter N]
                                  [--trigger] name=value ...

decode prints one JSON object; on failure {"error": reason, ...} and exit status 1.
encode names an object by name (door=1, temperature=21.5) or by id (0x45=21.5),
and prints the service data as hex.
"""
import argparse
import binascii
import json
import sys


from radio import bthome
from radio import bthome_encode
from radio import bthome_host


def _hex(text):
    """Bytes from hex, ignoring spaces, ':' and '-' as people paste them."""
    for sep in (" ", ":", "-"):
        text = text.replace(sep, "")
    if text.lower().startswith("0x"):
        text = text[2:]
    return binascii.unhexlify(text)


def _fail(reason, **extra):
    extra["error"] = reason
    print(json.dumps(extra))
    return 1


def cmd_decode(args):
    try:
        data = _hex(args.data)
    except (binascii.Error, ValueError):
        return _fail("bad hex", data=args.data)
    try:
        key = None if args.key is None else _hex(args.key)
    except (binascii.Error, ValueError):
        return _fail("bad key", mac=args.mac)
    try:
        result = bthome.decode(data, args.mac, key)
    except bthome.BTHomeError as e:
        return _fail(e.reason, mac=args.mac, data=data.hex())
    result["values"] = bthome_host.values(result)
    print(json.dumps(result))
    return 0


def _number(text):
    try:
        return int(text, 0)
    except ValueError:
        return float(text)


def cmd_encode(args):
    objects = []
    for item in args.objects:
        name, sep, value = item.partition("=")
        if not sep:
            return _fail("expected name=value, got %r" % item)
        which = name.strip()
        if which[:1].isdigit():
            try:
                which = int(which, 0)
            except ValueError:
                return _fail("bad object id %r" % name)
        try:
            objects.append((which, _number(value.strip())))
        except ValueError:
            return _fail("bad value %r" % item)
    try:
        key = None if args.key is None else _hex(args.key)
    except (binascii.Error, ValueError):
        return _fail("bad key")
    try:
        data = bthome_encode.encode(objects, args.mac, key, args.counter, args.trigger)
    except bthome.BTHomeError as e:
        return _fail(e.reason)
    print(data.hex())
    return 0


def main(argv=None):
    ap = argparse.ArgumentParser(prog="python -m tools.bthome",
                                 description=__doc__.split("\n")[0])
    sub = ap.add_subparsers(dest="cmd", required=True)
    d = sub.add_parser("decode", help="service data hex -> JSON")
    d.add_argument("--mac", required=True, help="the sensor's address, AA:BB:CC:DD:EE:FF")
    d.add_argument("--key", help="bind key, 32 hex digits (encrypted sensors)")
    d.add_argument("data", help="service data after the 0xFCD2 UUID, as hex")
    e = sub.add_parser("encode", help="name=value ... -> service data hex")
    e.add_argument("--mac", required=True)
    e.add_argument("--key", help="bind key, 32 hex digits: encrypt the packet")
    e.add_argument("--counter", type=lambda s: int(s, 0), default=0,
                   help="encryption counter (must grow with every packet)")
    e.add_argument("--trigger", action="store_true", help="set the trigger-based flag")
    e.add_argument("objects", nargs="+", metavar="name=value")
    args = ap.parse_args(argv)
    return cmd_decode(args) if args.cmd == "decode" else cmd_encode(args)


if __name__ == "__main__":
    sys.exit(main())
