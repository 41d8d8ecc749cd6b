"""The web side's settings."""
import dataclasses
import time


@dataclasses.dataclass
class WebConfig:
    host: str = "127.0.0.1"
    port: int = 0                       # 0: any free port
    # Host headers served (TrustedHostMiddleware); the bound host and loopback
    # are always in. Behind a proxy, add the public name.
    allowed_hosts: tuple = ()
    # Origins besides the request's own accepted on state-changing requests
    # (a TLS proxy in front: "https://console.example.com").
    allowed_origins: tuple = ()
    # Addresses of proxies whose X-Forwarded-For/-Proto are believed (the client's
    # address for the login limits, https). None believed by default: anyone
    # could otherwise claim another address and dodge the per-address limit.
    trusted_proxies: tuple = ()
    # A client address's connections at once (trusted proxies exempt), and the
    # deadline for a request's whole header: slowloris holds no slot for long.
    connections_per_address: int = 64
    header_timeout_s: float = 10.0
    https: bool = False                 # cookies get Secure (always when the request is https)
    max_live_clients: int = 100         # live-update streams at once; more get 503
    max_live_per_session: int = 4       # ...of them for one session (more get 429)
    live_poll_s: float = 0.25           # how often the live feed reads new timeline rows
    live_cost_s: float = 0.002          # ...at least this long per open stream between messages
    keepalive_s: float = 15.0           # SSE comment so proxies keep an idle stream open
    session_ttl_s: float = 12 * 3600    # one shift
    # Logins (ratelimit.py): per user name and client address, this many wrong
    # passwords, then a wait of login_delay_s doubling with each one, up to
    # login_max_delay_s. A stranger's guesses slow the stranger, not the operator.
    login_free_fails: int = 5
    login_delay_s: float = 1.0
    login_max_delay_s: float = 15 * 60
    # Past this many wrong passwords for one user from all addresses in a window
    # (guessing spread over many addresses), each address gets one try before
    # its waits begin; an address that guessed nothing wrong is never refused.
    login_user_ceiling: int = 50
    login_fails_per_address: int = 20   # failed logins per client address per window
    login_window_s: float = 15 * 60
    public_url: str = None              # the URL printed for links (default: the bound one)
    # What the login page tells one who has no login yet (None: how to add an
    # operator on the server; `make run`: the password it printed).
    login_hint: str = None
    clock: object = time.time           # seconds; tests inject a fake
