"""Issue 12, item 1: report subscriptions must not be a way to make the hub's server call internal addresses.

A destination is checked when a subscription is saved and again at every send, after DNS resolution; the
request goes to the very address that was checked; redirects are not followed; ``last_error`` holds a fixed
message and the status code, never the receiver's answer. Names resolve through a fake DNS (``dns``); where a
connection is needed, real HTTP servers listen on 127.0.0.1, which those tests allow explicitly."""

from __future__ import annotations

import datetime as dt
import socket
import ssl
import threading
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

import pytest
import sqlalchemy as sa

from integrations.governance_reports import GovernanceReportClient
from integrations.outbound import AllowList, DestinationGuard, DestinationRefused
from mediation_hub.config import Config, ConfigError
from mediation_hub.core.actor import SYSTEM, Role
from mediation_hub.extensions import db
from mediation_hub.registry.models import OrgKind
from mediation_hub.reporting import subscriptions
from mediation_hub.reporting.models import DeliveryAttempt, DeliveryStatus, ReportDelivery, ReportSubscription
from mediation_hub.reporting.tasks import deliver_due_reports, freeze_due_snapshots

PUBLIC = "93.184.215.14"  # a globally routable address; nothing here ever connects to it
NOW = dt.datetime(2026, 4, 1, 8, 0, tzinfo=dt.UTC)  # March has ended in Shanghai: its report is due
SECRET_BODY = b"db_password=hunter2; internal admin at 10.0.0.7:8500"
REFUSED_PRIVATE = "目标地址不允许：不允许本机、内网、链路本地、组播或保留地址"  # stored and shown: Chinese only
MESSAGES = {
    "malformed": "不是有效的网址 (not a valid URL)",
    "scheme": "只允许 https 地址 (https only)",
    "credentials": "地址中不能包含用户名或密码 (no user:password@ in the URL)",
    "unresolvable": "无法解析主机名 (cannot resolve the host name)",
    "private": "不允许本机、内网、链路本地、组播或保留地址 (private address: loopback, private, link-local, multicast "
    "or reserved)",
}
# what the hub's pages and API say of a refused destination: the Chinese words only, with a code
SHOWN = {reason: text.split(" (")[0] for reason, text in MESSAGES.items()}


class FakeDNS:
    """``socket.getaddrinfo`` with made-up answers for some names (each answer used in turn, the last one
    repeated); IP literals go to the real resolver, any other name does not resolve."""

    def __init__(self, real):
        self.real, self.answers, self.lookups = real, {}, []

    def set(self, name: str, *answers: list[str]) -> None:
        self.answers[name] = list(answers)

    def __call__(self, host, port, family=0, type=0, proto=0, flags=0):
        name = host.decode() if isinstance(host, bytes) else host
        if name not in self.answers:
            try:
                return self.real(host, port, family, type, proto, flags | socket.AI_NUMERICHOST)
            except socket.gaierror:
                raise socket.gaierror(socket.EAI_NONAME, "Name or service not known") from None
        self.lookups.append(name)
        queue = self.answers[name]
        addresses = queue.pop(0) if len(queue) > 1 else queue[0]
        return [
            (
                socket.AF_INET6 if ":" in a else socket.AF_INET,
                socket.SOCK_STREAM,
                6,
                "",
                (a, port, 0, 0) if ":" in a else (a, port),
            )
            for a in addresses
        ]


@pytest.fixture
def dns(monkeypatch):
    fake = FakeDNS(socket.getaddrinfo)
    monkeypatch.setattr(socket, "getaddrinfo", fake)
    return fake


class LocalServer(ThreadingHTTPServer):
    """An HTTP server on 127.0.0.1 answering every POST with ``status``, ``headers`` and ``body``; counts the
    connections it accepted and records the requests."""

    daemon_threads = True

    def __init__(
        self, status: int = 200, body: bytes = b"", headers: dict | None = None, tls: ssl.SSLContext | None = None
    ):
        super().__init__(("127.0.0.1", 0), _Handler)
        self.status, self.body, self.extra_headers = status, body, headers or {}
        self.connections, self.requests = 0, []
        if tls is not None:
            self.socket = tls.wrap_socket(self.socket, server_side=True)

    @property
    def port(self) -> int:
        return self.server_address[1]

    def verify_request(self, request, client_address) -> bool:
        self.connections += 1
        return True


class _Handler(BaseHTTPRequestHandler):
    server: LocalServer

    def do_POST(self):
        self.rfile.read(int(self.headers.get("content-length", 0)))
        self.server.requests.append({"path": self.path, "host": self.headers["host"]})
        self.send_response(self.server.status)
        for name, value in self.server.extra_headers.items():
            self.send_header(name, value)
        self.send_header("content-length", str(len(self.server.body)))
        self.end_headers()
        self.wfile.write(self.server.body)

    def log_message(self, *args):
        pass


@pytest.fixture
def local_server():
    """``local_server(status=500, body=b"…", headers={…}, tls=context)``: a started LocalServer, shut down
    afterwards."""
    started = []

    def start(**kwargs) -> LocalServer:
        server = LocalServer(**kwargs)
        threading.Thread(target=server.serve_forever, daemon=True).start()
        started.append(server)
        return server

    yield start
    for server in started:
        server.shutdown()
        server.server_close()


@pytest.fixture
def allow(app, monkeypatch):
    """``allow("127.0.0.1")``: the app's WEBHOOK_ALLOWED_HOSTS for this test (empty until called)."""
    monkeypatch.setitem(app.config, "WEBHOOK_ALLOWED_HOSTS", ())
    return lambda entries: monkeypatch.setitem(app.config, "WEBHOOK_ALLOWED_HOSTS", AllowList.parse(entries).entries)


@pytest.fixture
def centre(make_org):
    return make_org(name="朝阳区综治中心(安全测试)", kind=OrgKind.governance_centre, region_code="110105")


@pytest.fixture
def subscribed(centre):
    """``subscribed(url)``: a monthly subscription to ``url`` with March's report frozen and due: the delivery."""

    def build(url: str) -> ReportDelivery:
        subscriptions.create_subscription(
            SYSTEM, {"organization_id": centre.id, "region_code": "110105", "frequency": "monthly", "endpoint_url": url}
        )
        assert freeze_due_snapshots(NOW) == 1
        return db.session.scalar(sa.select(ReportDelivery))

    return build


# --- the guard -------------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("url", "answers", "reason"),
    [
        ("http://zz.example.cn/r", [PUBLIC], "scheme"),
        ("ftp://zz.example.cn/r", [PUBLIC], "scheme"),
        ("https://127.0.0.1/r", None, "private"),
        ("https://127.0.0.1:5432/", None, "private"),
        ("https://10.1.2.3/r", None, "private"),
        ("https://172.16.0.1/r", None, "private"),
        ("https://172.31.255.254/r", None, "private"),
        ("https://192.168.1.10/r", None, "private"),
        ("https://169.254.169.254/latest/meta-data/", None, "private"),
        ("https://[::1]/r", None, "private"),
        ("https://[fe80::1]/r", None, "private"),
        ("https://[fc00::1]/r", None, "private"),
        ("https://[fec0::1]/r", None, "private"),  # IPv6 site-local
        ("https://[::ffff:127.0.0.1]/r", None, "private"),  # IPv4-mapped loopback
        ("https://[2002:a00:1::]/r", None, "private"),  # 6to4 of 10.0.0.1
        ("https://[::]/r", None, "private"),
        ("https://224.0.0.1/r", None, "private"),
        ("https://[ff02::1]/r", None, "private"),
        ("https://0.0.0.0/r", None, "private"),
        ("https://100.64.0.1/r", None, "private"),  # shared address space
        ("https://240.0.0.1/r", None, "private"),  # reserved
        ("https://192.0.0.8/r", None, "private"),  # IETF protocol assignments
        ("https://2130706433/r", None, "private"),  # 127.0.0.1 written as one number
        ("https://0177.0.0.1/r", None, "private"),  # … and in octal
        ("https://intranet.example.cn/r", ["10.20.30.40"], "private"),
        ("https://mixed.example.cn/r", [PUBLIC, "192.168.0.7"], "private"),  # one private answer is enough
        ("https://v6.example.cn/r", ["2001:db8::5"], "private"),
        ("https://user:pass@zz.example.cn/r", [PUBLIC], "credentials"),
        ("https://evil.example.cn\\@127.0.0.1/r", [PUBLIC], "credentials"),
        ("https://nowhere.example.cn/r", None, "unresolvable"),
        ("https:///r", None, "malformed"),
        ("https://zz.example.cn:99999/r", [PUBLIC], "malformed"),
        ("zz.example.cn/r", [PUBLIC], "malformed"),
        ("https://zz.example.cn/a b", [PUBLIC], "malformed"),
    ],
)
def test_the_guard_refuses(dns, url, answers, reason):
    for name in ("zz.example.cn", "intranet.example.cn", "mixed.example.cn", "v6.example.cn"):
        dns.set(name, answers or [PUBLIC])
    with pytest.raises(DestinationRefused) as refused:
        DestinationGuard(allowed="").check(url)
    assert refused.value.reason == reason
    assert str(refused.value) == MESSAGES[reason]


@pytest.mark.parametrize(
    ("url", "answers", "host_header", "target", "addresses"),
    [
        ("https://zz.example.cn/hub/reports", [PUBLIC], "zz.example.cn", "/hub/reports", (PUBLIC,)),
        (
            "https://ZZ.Example.CN.:8443/r?k=1#top",
            [PUBLIC, "2606:4700::1111"],
            "zz.example.cn:8443",
            "/r?k=1",
            (PUBLIC, "2606:4700::1111"),
        ),
        ("https://1.1.1.1", None, "1.1.1.1", "/", ("1.1.1.1",)),
        ("https://[2606:4700:4700::1111]:443/r", None, "[2606:4700:4700::1111]", "/r", ("2606:4700:4700::1111",)),
    ],
)
def test_the_guard_accepts_public_https(dns, url, answers, host_header, target, addresses):
    dns.set("zz.example.cn", answers or [PUBLIC])
    destination = DestinationGuard(allowed="").check(url)
    assert (destination.host_header, destination.target, destination.addresses) == (host_header, target, addresses)


@pytest.mark.parametrize(
    ("allowed", "url", "answers", "reason"),
    [
        ("gov-centre.internal", "http://gov-centre.internal:8080/r", ["10.8.0.4"], None),  # by name, http too
        ("GOV-Centre.Internal.", "https://gov-centre.internal/r", ["10.8.0.4"], None),
        ("gov-centre.internal", "https://other.internal/r", ["10.8.0.4"], "private"),  # same address, other name
        ("10.20.0.5", "http://10.20.0.5/r", None, None),  # by address
        ("10.20.0.5", "https://10.20.0.6/r", None, "private"),
        ("10.30.0.0/16", "https://centre.zz.local/r", ["10.30.7.9"], None),  # by network
        ("10.30.0.0/16", "https://centre.zz.local/r", ["10.31.0.1"], "private"),
        ("10.30.0.0/16", "https://centre.zz.local/r", ["10.30.7.9", "127.0.0.1"], "private"),
        ("10.30.0.0/16", "http://zz.example.cn/r", [PUBLIC], "scheme"),  # http: listed only
        ("127.0.0.1, fd00::/8", "http://[fd00::7]:8080/r", None, None),
    ],
)
def test_the_allow_list_admits_names_addresses_and_networks(dns, allowed, url, answers, reason):
    for name in ("gov-centre.internal", "other.internal", "centre.zz.local", "zz.example.cn"):
        dns.set(name, answers or [PUBLIC])
    guard = DestinationGuard(allowed=allowed)
    if reason is None:
        assert guard.check(url).addresses
    else:
        with pytest.raises(DestinationRefused) as refused:
            guard.check(url)
        assert refused.value.reason == reason


@pytest.mark.parametrize(
    ("raw", "entries"),
    [
        ("", ()),
        (
            " gov-centre.internal , 10.20.0.5,10.30.0.0/16, [::1] ",
            ("gov-centre.internal", "10.20.0.5/32", "10.30.0.0/16", "::1/128"),
        ),
        ("郑州综治.中国", ("xn--6rtu44asxnxzq.xn--fiqs8s",)),
    ],
)
def test_the_setting_is_read_at_start(tmp_path, monkeypatch, raw, entries):
    monkeypatch.setenv("MEDIATION_HUB_WEBHOOK_ALLOWED_HOSTS", raw)
    assert entries == Config(tmp_path).WEBHOOK_ALLOWED_HOSTS


@pytest.mark.parametrize(
    "raw",
    [
        "10.30.0.1/16",
        "10.0.0.0/33",
        "999.1.1.1",
        "http://centre.internal",
        "*.gov.cn",
        "centre internal",
        "centre.internal:8080",
    ],
)
def test_a_malformed_allow_list_entry_stops_the_start(tmp_path, monkeypatch, raw):
    monkeypatch.setenv("MEDIATION_HUB_WEBHOOK_ALLOWED_HOSTS", f"127.0.0.1, {raw}")
    with pytest.raises(ConfigError, match="MEDIATION_HUB_WEBHOOK_ALLOWED_HOSTS"):
        Config(tmp_path)


# --- saving a subscription: 422 naming endpoint_url ------------------------------------------------------

REFUSED_ON_SAVE = [
    ("http://zz.example.cn/r", "scheme"),
    ("https://127.0.0.1:6379/", "private"),
    ("https://169.254.169.254/latest/meta-data/", "private"),
    ("https://intranet.example.cn/r", "private"),
    ("https://user:pass@zz.example.cn/r", "credentials"),
    ("https://nowhere.example.cn/r", "unresolvable"),
    ("ftp://zz.example.cn/r", "scheme"),
]


@pytest.fixture
def names(dns):
    dns.set("zz.example.cn", [PUBLIC])
    dns.set("intranet.example.cn", ["10.20.30.40"])
    return dns


@pytest.mark.parametrize(("url", "reason"), REFUSED_ON_SAVE)
def test_the_api_refuses_the_destination_with_a_422_naming_endpoint_url(names, allow, centre, api_as, url, reason):
    api = api_as(role=Role.coordinator, region_code="110000")
    answer = api.post(
        "/api/v1/report-subscriptions",
        json={"organization_id": centre.id, "region_code": "110105", "frequency": "monthly", "endpoint_url": url},
    )
    assert answer.status_code == 422, answer.json
    assert answer.json["errors"]["json"] == {"endpoint_url": [SHOWN[reason]]}
    assert answer.json["error_codes"]["json"] == {"endpoint_url": [f"destination_{reason}"]}
    assert db.session.scalar(sa.select(sa.func.count()).select_from(ReportSubscription)) == 0
    assert "10.20.30.40" not in answer.get_data(as_text=True)  # what a name resolves to is not told


def test_the_api_accepts_a_public_https_destination(names, allow, centre, api_as):
    api = api_as(role=Role.coordinator, region_code="110000")
    answer = api.post(
        "/api/v1/report-subscriptions",
        json={
            "organization_id": centre.id,
            "region_code": "110105",
            "frequency": "monthly",
            "endpoint_url": "https://zz.example.cn/hub/reports",
        },
    )
    assert answer.status_code == 201, answer.json


@pytest.mark.parametrize(("url", "reason"), REFUSED_ON_SAVE[:4])
def test_the_page_refuses_the_destination_next_to_the_field(names, allow, centre, make_user, signed_in, url, reason):
    client = signed_in(make_user(role=Role.coordinator, region_code="110000"))
    page = client.post(
        "/reporting/subscriptions",
        data={
            "organization_id": centre.id,
            "region_code": "110105",
            "frequency": "monthly",
            "endpoint_url": url,
            "secret": "",
        },
    )
    assert page.status_code == 422
    html = page.get_data(as_text=True)
    assert f'<span class="field-error">{SHOWN[reason]}</span>' in html
    assert db.session.scalar(sa.select(sa.func.count()).select_from(ReportSubscription)) == 0


# --- sending: checked again, pinned, no redirects, no body -----------------------------------------------


def test_a_host_that_resolves_private_at_send_is_not_called(dns, allow, subscribed, local_server):
    """DNS rebinding: public when saved, 127.0.0.1 (where a server listens) when the report goes out."""
    server = local_server()
    dns.set("rebind.example.cn", [PUBLIC], ["127.0.0.1"])
    delivery = subscribed(f"https://rebind.example.cn:{server.port}/r")  # saved: resolved to PUBLIC
    assert deliver_due_reports(NOW) == 1  # sent: resolves to 127.0.0.1
    db.session.refresh(delivery)
    assert (delivery.status, delivery.attempts, delivery.last_error) == (DeliveryStatus.pending, 1, REFUSED_PRIVATE)
    attempt = db.session.scalar(sa.select(DeliveryAttempt))
    assert (attempt.succeeded, attempt.status_code, attempt.error) == (False, None, REFUSED_PRIVATE)
    assert server.connections == 0


def test_the_request_goes_to_the_address_that_was_checked(dns, local_server):
    """The name is looked up once; the connection goes to that answer (a second lookup would get an
    unroutable address) and the request still names the host."""
    server = local_server(status=204)
    dns.set("pinned.example.cn", ["127.0.0.1"], ["10.255.255.1"])
    client = GovernanceReportClient(timeout=2, guard=DestinationGuard("127.0.0.1"))
    result = client.send(f"http://pinned.example.cn:{server.port}/hub?x=1", "whsec_" + "A" * 32, "m1", b"{}")
    assert result.status_code == 204
    assert dns.lookups == ["pinned.example.cn"]
    assert server.requests == [{"path": "/hub?x=1", "host": f"pinned.example.cn:{server.port}"}]


def test_a_redirect_is_a_failed_delivery_and_is_not_followed(allow, subscribed, local_server):
    allow("127.0.0.1")
    elsewhere = local_server()
    redirecting = local_server(status=302, headers={"location": f"http://127.0.0.1:{elsewhere.port}/stolen"})
    delivery = subscribed(f"http://127.0.0.1:{redirecting.port}/r")
    deliver_due_reports(NOW)
    db.session.refresh(delivery)
    assert delivery.last_error == "HTTP 302：重定向不予跟随"
    assert db.session.scalar(sa.select(DeliveryAttempt.status_code)) == 302
    assert (len(redirecting.requests), elsewhere.connections) == (1, 0)


def _closed_port() -> int:
    probe = socket.socket()
    probe.bind(("127.0.0.1", 0))
    port = probe.getsockname()[1]
    probe.close()
    return port


@pytest.mark.parametrize(
    ("receiver", "last_error", "status_code"),
    [
        ("answers_500", "HTTP 500：接收方未接受", 500),
        ("answers_401", "HTTP 401：接收方未接受", 401),
        ("refuses", "连接失败", None),
        ("silent", "超时：0.2 秒内无应答", None),
    ],
)
def test_last_error_is_a_fixed_message_never_the_answer(
    app, allow, monkeypatch, subscribed, local_server, api_as, receiver, last_error, status_code
):
    allow("127.0.0.1")
    monkeypatch.setitem(app.config, "REPORT_DELIVERY_TIMEOUT", 0.2)
    silent = socket.socket()
    try:
        if receiver == "silent":
            silent.bind(("127.0.0.1", 0))
            silent.listen(4)  # accepted by the kernel, never answered
            port = silent.getsockname()[1]
        elif receiver == "refuses":
            port = _closed_port()
        else:
            port = local_server(status=status_code, body=SECRET_BODY).port
        delivery = subscribed(f"http://127.0.0.1:{port}/r")
        assert deliver_due_reports(NOW) == 1
    finally:
        silent.close()
    db.session.refresh(delivery)
    assert delivery.last_error == last_error
    answer = api_as(role=Role.admin).get("/api/v1/report-deliveries")
    [item] = answer.json["items"]
    assert (item["last_error"], [a["error"] for a in item["attempt_log"]]) == (last_error, [last_error])
    listed = answer.get_data(as_text=True)
    for leak in ("hunter2", "10.0.0.7", "127.0.0.1", "Errno", "Connection", f":{port}"):
        assert leak not in listed


# --- TLS to the pinned address still checks the host name ------------------------------------------------


def _certificates(tmp_path, name: str):
    """A CA (its PEM path) and a server certificate for ``name`` signed by it (cert and key paths)."""
    from cryptography import x509
    from cryptography.hazmat.primitives import hashes, serialization
    from cryptography.hazmat.primitives.asymmetric import ec
    from cryptography.x509.oid import NameOID

    def issue(subject, issuer, public_key, signing_key, *, ca: bool, san=None):
        builder = (
            x509.CertificateBuilder()
            .subject_name(subject)
            .issuer_name(issuer)
            .public_key(public_key)
            .serial_number(x509.random_serial_number())
            .not_valid_before(dt.datetime.now(dt.UTC) - dt.timedelta(days=1))
            .not_valid_after(dt.datetime.now(dt.UTC) + dt.timedelta(days=1))
            .add_extension(x509.BasicConstraints(ca=ca, path_length=None), critical=True)
        )
        if san:
            builder = builder.add_extension(x509.SubjectAlternativeName([x509.DNSName(san)]), critical=False)
        return builder.sign(signing_key, hashes.SHA256())

    ca_key, key = ec.generate_private_key(ec.SECP256R1()), ec.generate_private_key(ec.SECP256R1())
    ca_name = x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, "SSRF test CA")])
    ca = issue(ca_name, ca_name, ca_key.public_key(), ca_key, ca=True)
    cert = issue(
        x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, name)]),
        ca_name,
        key.public_key(),
        ca_key,
        ca=False,
        san=name,
    )
    paths = {part: tmp_path / f"{part}.pem" for part in ("ca", "cert", "key")}
    paths["ca"].write_bytes(ca.public_bytes(serialization.Encoding.PEM))
    paths["cert"].write_bytes(cert.public_bytes(serialization.Encoding.PEM))
    paths["key"].write_bytes(
        key.private_bytes(serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8, serialization.NoEncryption())
    )
    return paths


@pytest.mark.parametrize(
    ("certificate_for", "outcome"),
    [
        ("receiver.example.cn", 200),
        ("someone-else.example.cn", "安全连接证书校验失败"),
    ],
)
def test_tls_names_and_verifies_the_host_while_connecting_to_the_checked_address(
    dns, local_server, tmp_path, certificate_for, outcome
):
    from integrations.governance_reports import DeliveryError

    paths = _certificates(tmp_path, certificate_for)
    server_names = []
    context = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
    context.load_cert_chain(paths["cert"], paths["key"])
    context.sni_callback = lambda sock, name, ctx: server_names.append(name)
    server = local_server(tls=context)
    dns.set("receiver.example.cn", ["127.0.0.1"])
    client = GovernanceReportClient(timeout=2, guard=DestinationGuard("127.0.0.1"), ca_certs=str(paths["ca"]))
    url = f"https://receiver.example.cn:{server.port}/r"
    if outcome == 200:
        assert client.send(url, "whsec_" + "A" * 32, "m1", b"{}").status_code == 200
        assert server.requests == [{"path": "/r", "host": f"receiver.example.cn:{server.port}"}]
    else:
        with pytest.raises(DeliveryError) as failed:
            client.send(url, "whsec_" + "A" * 32, "m1", b"{}")
        assert str(failed.value) == outcome and server.requests == []
    assert server_names == ["receiver.example.cn"]


def test_a_governance_centres_own_ca_is_a_setting(app, tmp_path, monkeypatch):
    """WEBHOOK_CA_BUNDLE names the CA bundle the delivery client verifies receivers with (a governance centre
    with its own CA); a bundle that is not there stops the start; unset, certifi's bundle is used."""
    from mediation_hub.reporting import subscriptions

    bundle = tmp_path / "centre-ca.pem"
    bundle.write_text("-----BEGIN CERTIFICATE-----\n")
    monkeypatch.setenv("MEDIATION_HUB_WEBHOOK_CA_BUNDLE", str(bundle))
    Config(tmp_path).validate()
    monkeypatch.setenv("MEDIATION_HUB_WEBHOOK_CA_BUNDLE", str(tmp_path / "missing.pem"))
    with pytest.raises(ConfigError, match="MEDIATION_HUB_WEBHOOK_CA_BUNDLE"):
        Config(tmp_path).validate()

    monkeypatch.setitem(app.config, "WEBHOOK_CA_BUNDLE", str(bundle))
    assert subscriptions.report_client().ca_certs == str(bundle)
    monkeypatch.setitem(app.config, "WEBHOOK_CA_BUNDLE", None)
    assert subscriptions.report_client().ca_certs is None
