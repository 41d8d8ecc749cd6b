# The hub's broker settings: TLS only with a CA, port 8883 with TLS, a login
# that is the hub's own, refusals that name the field and never echo a secret.
from panel.config import ConfigError
from hub.settings import HubSettings
from uplink.tls import pem_to_der, reason_of
from uplink.tls_host import fingerprint

# A throwaway CA made for this test (EC P-256); its SHA-256 pin, from openssl:
# openssl x509 -outform DER | sha256sum
CA = """-----BEGIN CERTIFICATE-----
MIIBkjCCATegAwIBAgIUff9UnjQTpRtcn03WDe6mM0YzcfQwCgYIKoZIzj0EAwIw
JTEjMCEGA1UEAwwab3BlbiBob21lIGFsYXJtIHByaXZhdGUgQ0EwHhcNMjYxMTI2
MTQwMTI2WhcNMzYxMTIzMTQwNjI2WjAlMSMwIQYDVQQDDBpvcGVuIGhvbWUgYWxh
cm0gcHJpdmF0ZSBDQTBZMBMGByqGSM49AgEGCCqGSM49AwEHA0IABERIP1Ltn4jn
jjTxvYUmhhJi7/k/1Q81UhlHGU+UQ8uJwt/6JjHNfuuSRveOVar9Dc7gWLNJxQGi
9W1XN2/iG8GjRTBDMBIGA1UdEwEB/wQIMAYBAf8CAQAwDgYDVR0PAQH/BAQDAgEG
MB0GA1UdDgQWBBRsuMNKXv52BUKgsp/WEfe9+6MwuTAKBggqhkjOPQQDAgNJADBG
AiEAxd+3IsWbnUgPGmzkAMKQBt6hxeKoGNZf0kBBI/1Uas0CIQDkWURdslOXL7MM
Ia9JNSJAkyFxNCzy+nFjO68D5hqbFQ==
-----END CERTIFICATE-----
"""
CA_PIN = "a9b3f3d81cd03d37ed11f44aa9d91c3028bd019d5c43ac8d09a0e4953fba7bb2"
PASSWORD = "correct-horse-battery"


def raw(**mqtt):
    m = {"host": "broker.lan"}
    for k in mqtt:
        m[k] = mqtt[k]
    return {"hub_id": "hub-1", "secret": "00112233445566778899aabbccddeeff", "mqtt": m}


def refused(cfg):
    try:
        HubSettings(cfg)
    except ConfigError as e:
        return e.field, str(e)
    raise AssertionError("accepted: %r" % (cfg,))


def test_plain_by_default_on_1883():
    s = HubSettings(raw())
    assert not s.mqtt_tls and s.mqtt_ca is None and s.mqtt_port == 1883
    assert s.mqtt_user is None and s.mqtt_password is None


def test_tls_defaults_to_8883_and_carries_the_ca():
    s = HubSettings(raw(tls=True, ca=CA, password=PASSWORD))
    assert s.mqtt_tls and s.mqtt_port == 8883 and s.mqtt_ca == CA
    assert HubSettings(raw(tls=True, ca=CA, port=18883)).mqtt_port == 18883


def test_the_login_is_the_hub_id():
    s = HubSettings(raw(password=PASSWORD))
    assert s.mqtt_user == "hub-1" and s.mqtt_password == PASSWORD
    assert HubSettings(raw(user="hub-1", password=PASSWORD)).mqtt_user == "hub-1"
    assert refused(raw(user="other", password=PASSWORD))[0] == "mqtt.user"
    assert refused(raw(user="hub-1"))[0] == "mqtt.password"


def test_tls_without_a_ca_or_with_junk_is_refused():
    assert refused(raw(tls=True))[0] == "mqtt.ca"
    assert refused(raw(tls=True, ca="hello"))[0] == "mqtt.ca"
    assert refused(raw(tls=True, ca=CA.replace("MIIB", "M!IB")))[0] == "mqtt.ca"
    assert refused(raw(tls="yes", ca=CA))[0] == "mqtt.tls"
    assert refused(raw(ca=CA))[0] == "mqtt.ca"        # a CA without tls is a mistake


def test_a_bad_password_is_named_but_never_echoed():
    for bad in ("short", 12345678, "x" * 129):
        field, text = refused(raw(password=bad))
        assert field == "mqtt.password"
        assert str(bad) not in text


def test_pem_to_der_and_the_pin():
    der = pem_to_der(CA)
    assert der[0] == 0x30 and len(der) == 406
    assert fingerprint(der) == CA_PIN
    assert pem_to_der(CA.encode()) == der


def test_mbedtls_verify_texts_map_to_reasons():
    assert reason_of(ValueError("\nThe certificate Common Name (CN) does not match with "
                                "the expected CN\n")) == "name"
    assert reason_of(ValueError("\nThe certificate is not correctly signed by the trusted "
                                "CA\n")) == "untrusted"
    assert reason_of(ValueError("\nThe certificate validity has expired\n")) == "expired"
    assert reason_of(OSError(110)) == "timeout"
    assert reason_of(OSError(-29312, "SSL - Bad input")) == "handshake"


def test_a_number_out_of_range_or_null_is_refused_naming_the_field():
    assert refused(raw(port=0))[0] == "mqtt.port"
    assert refused(raw(port=None))[0] == "mqtt.port"
    assert refused(raw(keepalive="30"))[0] == "mqtt.keepalive"
    assert refused(raw(test_interval=True))[0] == "mqtt.test_interval"


def test_several_brokers_a_cluster_s_nodes():
    s = HubSettings(raw(host=["node-a.lan", "node-b.lan:18883", "10.0.0.3"]))
    assert s.mqtt_brokers == [("node-a.lan", 1883), ("node-b.lan", 18883), ("10.0.0.3", 1883)]
    assert s.mqtt_host == "node-a.lan" and s.mqtt_port == 1883
    assert HubSettings(raw()).mqtt_brokers == [("broker.lan", 1883)]
    assert HubSettings(raw(host="broker.lan:18883")).mqtt_brokers == [("broker.lan", 18883)]


def test_a_wrong_broker_list_is_refused_naming_the_field():
    for host in ([], ["a", 5], ["a", ""], ["a:0"], ["a:x"], ["a:70000"], ["a"] * 9, 7, "a:0", "a:"):
        assert refused(raw(host=host))[0] == "mqtt.host", host
