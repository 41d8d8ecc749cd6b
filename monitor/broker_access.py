"""Who may talk to the broker, and over what: writes the mosquitto pieces for
an install (docs/protocol.md, "Security model").

    python -m monitor broker write --dir DIR [--db monitor.db] [--name HOST ...]
                                   [--port 8883] [--service-port 8884]

Writes into DIR:
  ca.crt, ca.key        a private certificate authority (kept; made once): hubs
                        carry ca.crt as mqtt.ca
  server.crt, server.key  the broker's certificate for --name, signed by that CA
  passwd                mosquitto's password file for the device listener (the
                        hubs and Home Assistant), hashed by mosquitto_passwd
  service.passwd        the same for the service listener (the monitor)
  acl                   each hub writes only its own topics, reads only its own
                        acks and commands; the monitor and Home Assistant users
  mosquitto.conf        two TLS listeners with login and the ACL, and a packet size
                        limit: --port for the devices, whose client id is their
                        login, and --service-port for the monitor
  credentials.json      the generated passwords (mode 0600): copy each hub's into
                        its config.json (mqtt.password), the monitor's into its flags

Passwords already in credentials.json are kept, so running it again after
adding an account changes nothing for the others."""
import datetime
import hashlib
import ipaddress
import json
import os
import secrets
import shutil
import subprocess
import tempfile

MONITOR_USER = "monitor"
HA_USER = "homeassistant"
# The broker refuses bigger packets: the hub's MQTT client reads a whole message
# into RAM before it can refuse it, and nobody may park megabytes on a retained
# topic. The largest legitimate message, a discovery config, is under 1 KB.
MAX_PACKET = 16384
CA_DAYS = 3650
SERVER_DAYS = 825


class AccessError(ValueError):
    pass


def check_user(name, what="hub id"):
    # A user name is also a topic level in the ACL: no wildcards, no separators,
    # and no clash with the service users (their rights are wider).
    if not name or len(name) > 64 or any(not (c.isalnum() or c in "-_") for c in name):
        raise AccessError("%s %r: letters, digits, - and _ only (1..64)" % (what, name))
    if name in (MONITOR_USER, HA_USER):
        raise AccessError("%s %r is reserved for a service user" % (what, name))
    return name


# The topics under <prefix>/<hub>/ each user may read or write; the NATS
# cluster's permissions (monitor/broker_cluster.py) are made from the same.
# answer: why the hub refused a command (the alarm panel's attributes);
# mains: its mains power sensor.
MONITOR_READS = ("events", "availability", "state", "status", "zone/#")
HA_READS = ("availability", "state", "answer", "mains", "zone/#")
HUB_WRITES = ("availability", "state", "answer", "events", "status", "mains", "zone/#")


def acl_text(hubs, prefix="alarm", discovery_prefix="homeassistant"):
    """The ACL: no rules for anonymous (it gets nothing); per hub, its own topics."""
    lines = ["# written by python -m monitor broker write; anonymous clients get nothing",
             "", "user %s" % MONITOR_USER]
    # The monitor reads events (also as a shared subscription) and availability,
    # acks every hub and sends signed commands (the owner's app: SOS, arm,
    # disarm). The app shows the state and which zones are open, named as the
    # hub's discovery configs name them.
    for leaf in MONITOR_READS:
        lines.append("topic read %s/+/%s" % (prefix, leaf))
    lines.append("topic read %s/binary_sensor/#" % discovery_prefix)
    lines.append("topic read $share/+/%s/+/events" % prefix)
    lines.append("topic write %s/+/acks" % prefix)
    lines.append("topic write %s/+/commands" % prefix)
    lines += ["", "user %s" % HA_USER]
    for leaf in HA_READS:
        lines.append("topic read %s/+/%s" % (prefix, leaf))
    lines.append("topic read %s/#" % discovery_prefix)
    lines.append("topic write %s/status" % discovery_prefix)     # its own birth message
    lines.append("topic write %s/+/commands" % prefix)
    for hub in sorted(hubs):
        check_user(hub)
        base = "%s/%s/" % (prefix, hub)
        lines += ["", "user %s" % hub]
        # Only the hub (and the broker, for its Last Will) writes these.
        for leaf in HUB_WRITES:
            lines.append("topic write " + base + leaf)
        lines.append("topic write %s/+/%s/#" % (discovery_prefix, hub))
        lines.append("topic read " + base + "acks")
        lines.append("topic read " + base + "commands")
    return "\n".join(lines) + "\n"


MAX_QUEUED = 100000
SERVICE_PASSWD = "service.passwd"


def conf_text(directory, port=8883, bind=None, log_file=None, service_port=None):
    """mosquitto.conf: two TLS listeners, login required, the ACL, a packet limit.

    A client id is the broker's key for a session: a second connection with it
    drops the first and publishes the first one's Last Will. On the device
    listener the login is the client id (use_username_as_clientid), so no login
    can speak as a hub or end its session ("offline" for a hub that is online).
    The monitor runs several clients (workers, the console's app view) under
    one login, so it has a listener of its own, where only its login is valid.
    Home Assistant runs one client: it stays on the device listener."""
    p = lambda name: os.path.join(os.path.abspath(directory), name)   # noqa: E731
    service_port = service_port or port + 1
    lines = ["# written by python -m monitor broker write",
             # The logins (and so the client-id rule) differ per listener.
             "per_listener_settings true",
             "max_packet_size %d" % MAX_PACKET,
             # mosquitto's default keeps 1,000 QoS 1 messages for a client that
             # is behind and drops the rest: after a power cut every hub of an
             # area reports at once, and what was dropped would wait for the
             # hubs' 30 s resend. Kept in memory instead (a few hundred bytes each).
             "max_queued_messages %d" % MAX_QUEUED,
             # Each signal, ack and command is one small packet: sent at once,
             # not held back by Nagle's algorithm for a TCP ack the peer delays
             # up to 40 ms (monitor/mqtt_nodelay.py).
             "set_tcp_nodelay true",
             # Denials (ACL, login) are logged so an operator sees who tried what.
             "log_type error", "log_type warning", "log_type notice", "log_type information",
             "log_type subscribe", "log_type debug",
             "connection_messages true"]
    for listen, passwd, own_id in ((port, "passwd", True),
                                   (service_port, SERVICE_PASSWD, False)):
        lines += ["", "listener %d%s" % (listen, " " + bind if bind else ""),
                  "allow_anonymous false",
                  "password_file " + p(passwd),
                  "acl_file " + p("acl")]
        if own_id:
            lines.append("use_username_as_clientid true")
        lines += ["cafile " + p("ca.crt"),
                  "certfile " + p("server.crt"),
                  "keyfile " + p("server.key"),
                  "tls_version tlsv1.2"]
    if log_file:
        lines.insert(1, "log_dest file " + log_file)
    return "\n".join(lines) + "\n"


# ---- certificates ----

def _write_private(path, data):
    fd = os.open(path + ".tmp", os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
    with os.fdopen(fd, "wb") as f:
        f.write(data)
    os.replace(path + ".tmp", path)


def _readable_by_broker(path):
    # Started as root, mosquitto drops to its own user before it reads the key
    # and the password file: hand them to that user (still unreadable to others).
    if os.geteuid() != 0:
        return
    try:
        import pwd
        entry = pwd.getpwnam("mosquitto")
    except (ImportError, KeyError):
        return
    os.chown(path, entry.pw_uid, entry.pw_gid)


def _write_public(path, data):
    with open(path + ".tmp", "wb") as f:
        f.write(data)
    os.replace(path + ".tmp", path)


def make_ca(directory, common_name="open home alarm private CA"):
    """ca.crt and ca.key (EC P-256: a short handshake on the ESP32), unless they exist."""
    from cryptography import x509
    from cryptography.hazmat.primitives import hashes, serialization
    from cryptography.hazmat.primitives.asymmetric import ec
    from cryptography.x509.oid import NameOID
    crt, keyp = os.path.join(directory, "ca.crt"), os.path.join(directory, "ca.key")
    if os.path.exists(crt) and os.path.exists(keyp):
        return crt
    key = ec.generate_private_key(ec.SECP256R1())
    name = x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, common_name)])
    now = datetime.datetime.now(datetime.timezone.utc)
    cert = (x509.CertificateBuilder().subject_name(name).issuer_name(name)
            .public_key(key.public_key()).serial_number(x509.random_serial_number())
            .not_valid_before(now - datetime.timedelta(minutes=5))
            .not_valid_after(now + datetime.timedelta(days=CA_DAYS))
            .add_extension(x509.BasicConstraints(ca=True, path_length=0), critical=True)
            .add_extension(x509.KeyUsage(digital_signature=False, content_commitment=False,
                                         key_encipherment=False, data_encipherment=False,
                                         key_agreement=False, key_cert_sign=True, crl_sign=True,
                                         encipher_only=False, decipher_only=False), critical=True)
            .add_extension(x509.SubjectKeyIdentifier.from_public_key(key.public_key()),
                           critical=False)
            .sign(key, hashes.SHA256()))
    _write_private(keyp, key.private_bytes(serialization.Encoding.PEM,
                                           serialization.PrivateFormat.PKCS8,
                                           serialization.NoEncryption()))
    _write_public(crt, cert.public_bytes(serialization.Encoding.PEM))
    return crt


def make_server_cert(directory, names, ca_dir=None):
    """server.crt/server.key for these host names and IP addresses, signed by the CA."""
    from cryptography import x509
    from cryptography.hazmat.primitives import hashes, serialization
    from cryptography.hazmat.primitives.asymmetric import ec
    from cryptography.x509.oid import ExtendedKeyUsageOID, NameOID
    ca_dir = ca_dir or directory
    if not names:
        raise AccessError("the broker certificate needs at least one --name")
    with open(os.path.join(ca_dir, "ca.crt"), "rb") as f:
        ca = x509.load_pem_x509_certificate(f.read())
    with open(os.path.join(ca_dir, "ca.key"), "rb") as f:
        ca_key = serialization.load_pem_private_key(f.read(), None)
    sans = []
    for n in names:
        try:
            sans.append(x509.IPAddress(ipaddress.ip_address(n)))
        except ValueError:
            sans.append(x509.DNSName(n))
    key = ec.generate_private_key(ec.SECP256R1())
    now = datetime.datetime.now(datetime.timezone.utc)
    cert = (x509.CertificateBuilder()
            .subject_name(x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, names[0])]))
            .issuer_name(ca.subject).public_key(key.public_key())
            .serial_number(x509.random_serial_number())
            .not_valid_before(now - datetime.timedelta(minutes=5))
            .not_valid_after(now + datetime.timedelta(days=SERVER_DAYS))
            .add_extension(x509.SubjectAlternativeName(sans), critical=False)
            .add_extension(x509.BasicConstraints(ca=False, path_length=None), critical=True)
            .add_extension(x509.ExtendedKeyUsage([ExtendedKeyUsageOID.SERVER_AUTH]),
                           critical=False)
            .add_extension(x509.AuthorityKeyIdentifier.from_issuer_public_key(
                ca_key.public_key()), critical=False)
            .sign(ca_key, hashes.SHA256()))
    _write_private(os.path.join(directory, "server.key"),
                   key.private_bytes(serialization.Encoding.PEM,
                                     serialization.PrivateFormat.TraditionalOpenSSL,
                                     serialization.NoEncryption()))
    _readable_by_broker(os.path.join(directory, "server.key"))
    path = os.path.join(directory, "server.crt")
    _write_public(path, cert.public_bytes(serialization.Encoding.PEM))
    return path


def cert_pin(path):
    """SHA-256 (hex) of a PEM certificate's DER bytes (the tests compare it with
    uplink.tls_host.fingerprint)."""
    from cryptography import x509
    from cryptography.hazmat.primitives import serialization
    with open(path, "rb") as f:
        cert = x509.load_pem_x509_certificate(f.read())
    return hashlib.sha256(cert.public_bytes(serialization.Encoding.DER)).hexdigest()


# ---- users ----

# Where mosquitto_passwd is looked for besides $PATH (Debian puts it in /usr/bin;
# /usr/sbin is often not on a user's PATH).
PASSWD_DIRS = ("/usr/sbin", "/usr/bin")


def mosquitto_passwd():
    """The path of mosquitto_passwd, which Debian's mosquitto package ships. An
    operator's command installs nothing: without it, it fails saying so (the
    tests and tools install it, tools/debian.py)."""
    for cand in [shutil.which("mosquitto_passwd")] + [os.path.join(d, "mosquitto_passwd")
                                                      for d in PASSWD_DIRS]:
        if cand and os.path.exists(cand):
            return cand
    raise AccessError("mosquitto_passwd not found: install mosquitto, which ships it "
                      "(Debian/Ubuntu: sudo apt-get install mosquitto), and run this again")


def write_passwd(path, users):
    """mosquitto's password file for {user: password}, hashed by mosquitto_passwd -U
    (from a plain file only this user can read: no password on a command line)."""
    for name, pw in users.items():
        if not pw or ":" in name or "\n" in pw or "\n" in name:
            raise AccessError("user %r: empty password or a bad character" % name)
    plain = "".join("%s:%s\n" % (n, users[n]) for n in sorted(users)).encode()
    fd, tmp = tempfile.mkstemp(dir=os.path.dirname(os.path.abspath(path)), prefix=".passwd-")
    try:
        os.fchmod(fd, 0o600)
        with os.fdopen(fd, "wb") as f:
            f.write(plain)
        done = subprocess.run([mosquitto_passwd(), "-U", tmp], capture_output=True, timeout=60)
        if done.returncode != 0:
            raise AccessError("mosquitto_passwd -U failed: %s"
                              % done.stderr.decode(errors="replace").strip())
        with open(tmp, "rb") as f:
            hashed = f.read()
        if any(users[n].encode() in hashed for n in users):
            raise AccessError("mosquitto_passwd left a password unhashed")
        os.replace(tmp, path)
        _readable_by_broker(path)
    finally:
        if os.path.exists(tmp):
            os.unlink(tmp)
    return path


def new_password():
    return secrets.token_urlsafe(18)


class Access:
    """What `write` made: paths, the broker certificate's pin, and the credentials."""

    def __init__(self, directory, credentials, ca_sha256, port, service_port=None):
        self.dir = os.path.abspath(directory)
        self.credentials = credentials      # {"monitor": pw, "homeassistant": pw, "hubs": {...}}
        self.ca_sha256 = ca_sha256          # to compare with the CA a hub config carries
        self.port = port                    # the hubs and Home Assistant
        self.service_port = service_port or port + 1    # the monitor

    def port_for(self, user):
        return self.service_port if user == MONITOR_USER else self.port

    def path(self, name):
        return os.path.join(self.dir, name)

    @property
    def ca(self):
        return self.path("ca.crt")

    def ca_pem(self):
        with open(self.ca) as f:
            return f.read()

    def password(self, user):
        if user in (MONITOR_USER, HA_USER):
            return self.credentials[user]
        return self.credentials["hubs"][user]

    def conf(self):
        with open(self.path("mosquitto.conf")) as f:
            return f.read()


def write(directory, hubs, prefix="alarm", discovery_prefix="homeassistant",
          names=("localhost", "127.0.0.1"), port=8883, bind=None, passwords=None,
          log_file=None, service_port=None):
    """Write every piece into `directory`. hubs: hub ids; passwords: {user: pw} to
    use instead of generated ones (kept ones from credentials.json win over new)."""
    os.makedirs(directory, exist_ok=True)
    os.chmod(directory, 0o755)
    hubs = [check_user(h) for h in hubs]
    cred_path = os.path.join(directory, "credentials.json")
    old = {}
    if os.path.exists(cred_path):
        with open(cred_path) as f:
            old = json.load(f)
    given = dict(passwords or {})
    creds = {"monitor": given.get(MONITOR_USER) or old.get("monitor") or new_password(),
             "homeassistant": given.get(HA_USER) or old.get("homeassistant") or new_password(),
             "hubs": {}}
    for h in hubs:
        creds["hubs"][h] = given.get(h) or old.get("hubs", {}).get(h) or new_password()
    ca = make_ca(directory)
    make_server_cert(directory, list(names))
    service_port = service_port or port + 1
    if service_port == port:
        raise AccessError("the service port must differ from the hubs' port %d" % port)
    devices = dict(creds["hubs"])
    devices[HA_USER] = creds["homeassistant"]
    write_passwd(os.path.join(directory, "passwd"), devices)
    write_passwd(os.path.join(directory, SERVICE_PASSWD), {MONITOR_USER: creds["monitor"]})
    _write_public(os.path.join(directory, "acl"),
                  acl_text(hubs, prefix, discovery_prefix).encode())
    _write_public(os.path.join(directory, "mosquitto.conf"),
                  conf_text(directory, port, bind, log_file, service_port).encode())
    _write_private(cred_path, (json.dumps(creds, indent=2, sort_keys=True) + "\n").encode())
    return Access(directory, creds, cert_pin(ca), port, service_port)


def summary(access):
    """What to tell the installer: where things are, never the passwords themselves."""
    return ("broker configuration in %s\n"
            "  mosquitto -c %s\n"
            "  port %d: the hubs and Home Assistant (a login's client id is its user name)\n"
            "  port %d: the monitor (monitor run --port %d)\n"
            "  CA certificate (hubs: mqtt.ca as PEM text; monitor: --ca): %s\n"
            "    SHA-256 %s\n"
            "  passwords (hubs: mqtt.password; monitor: --mqtt-user monitor "
            "--mqtt-password-file): %s"
            % (access.dir, access.path("mosquitto.conf"), access.port, access.service_port,
               access.service_port, access.ca, access.ca_sha256,
               access.path("credentials.json")))
