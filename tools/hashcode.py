"""Hash a keypad code for config.json, so the board never stores it in clear.

    python -m tools.hashcode 1234      ->  s256$64$<salt>$<digest>
"""
import os
import sys


def main(argv=None):
    argv = sys.argv[1:] if argv is None else argv
    from panel import codes
    from panel import codes_host
    if len(argv) != 1 or not codes.valid_code(argv[0]):
        print("usage: python -m tools.hashcode CODE   (4 to 8 digits)", file=sys.stderr)
        return 2
    print(codes_host.make_hash(argv[0], os.urandom(codes.SALT_BYTES)))
    return 0


if __name__ == "__main__":
    sys.exit(main())
