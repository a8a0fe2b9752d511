"""Shared helpers of the monitoring end-to-end tests: the status report as JSON (validated against
schema/status.schema.json), sandbox services by PID record, IMAP reads, and breaking things."""
import datetime
import imaplib
import json
import os
import signal
import ssl
import time

import jsonschema

import harness
from harness import check

SCHEMA = os.path.join(harness.SOURCE, "schema", "status.schema.json")
ALICE = ("alice@example.com", "alice-demo-pass")


def status_json(sb, *extra, timeout=60):
    """Runs `status --json`, validates the document against the schema, returns (rc, doc)."""
    proc = sb.firstboot("status", "--json", *extra, timeout=timeout)
    try:
        doc = json.loads(proc.stdout)
    except ValueError as e:
        raise harness.Failure(f"status --json is not JSON ({e}):\n{proc.stdout}\n{proc.stderr}")
    with open(SCHEMA) as f:
        jsonschema.validate(doc, json.load(f))
    check((proc.returncode == 0) == doc["ready"],
          f"exit {proc.returncode} but ready={doc['ready']}")
    return proc.returncode, doc


def checks_of(doc):
    return {c["id"]: c for m in doc["modules"] for c in m["checks"]}


def failing(doc):
    return sorted(c["id"] for c in checks_of(doc).values()
                  if c["status"] == "fail" and c["severity"] == "required")


def service_pid(sb, name):
    with open(sb.path(f"run/firstboot/services/{name}.json")) as f:
        return json.load(f)["pid"]


def kill_service(sb, name, timeout=20):
    """Stops one sandbox daemon by its recorded PID, the way a crash would."""
    pid = service_pid(sb, name)
    os.killpg(pid, signal.SIGTERM)
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        try:
            os.kill(pid, 0)
            os.waitpid(pid, os.WNOHANG)
        except (ProcessLookupError, ChildProcessError):
            pass
        try:
            with open(f"/proc/{pid}/stat") as f:
                if f.read().split(")")[-1].split()[0] == "Z":
                    return
        except FileNotFoundError:
            return
        time.sleep(0.05)
    os.killpg(pid, signal.SIGKILL)


def hup(sb, name):
    os.kill(service_pid(sb, name), signal.SIGHUP)


def postfix(sb, *args):
    return harness.run_cmd(["/usr/sbin/postfix", "-c", sb.path("etc/postfix")] + list(args),
                           timeout=60, check_rc=0)


def imap_messages(user, password, port=1144, header="X-Firstboot-Alert"):
    """(uid, message bytes) of every message in the INBOX that has the header."""
    ctx = ssl.create_default_context()
    ctx.check_hostname = False
    ctx.verify_mode = ssl.CERT_NONE
    with imaplib.IMAP4("127.0.0.1", port, timeout=10) as m:
        m.starttls(ctx)
        m.login(user, password)
        m.select("INBOX")
        typ, data = m.uid("SEARCH", None, "HEADER", header, '""')
        out = []
        for uid in (data[0] or b"").split():
            typ, msg = m.uid("FETCH", uid, "(BODY.PEEK[])")
            out.append((uid, msg[0][1]))
        return out


def wait_for_messages(user, password, count, header="X-Firstboot-Alert", timeout=20):
    deadline = time.monotonic() + timeout
    got = []
    while time.monotonic() < deadline:
        got = imap_messages(user, password, header=header)
        if len(got) >= count:
            return got
        time.sleep(0.2)
    raise harness.Failure(f"{len(got)} message(s) with {header} for {user}, expected {count}")


def expired_certificate(host, key_pem_path, cert_out, key_out):
    """Writes an expired self-signed certificate (and a new key) for host."""
    from cryptography import x509
    from cryptography.hazmat.primitives import hashes, serialization
    from cryptography.hazmat.primitives.asymmetric import ec
    from cryptography.x509.oid import NameOID
    key = ec.generate_private_key(ec.SECP256R1())
    name = x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, host)])
    now = datetime.datetime.utcnow()
    cert = (x509.CertificateBuilder().subject_name(name).issuer_name(name)
            .public_key(key.public_key()).serial_number(x509.random_serial_number())
            .not_valid_before(now - datetime.timedelta(days=30))
            .not_valid_after(now - datetime.timedelta(days=1))
            .add_extension(x509.SubjectAlternativeName([x509.DNSName(host)]), critical=False)
            .sign(key, hashes.SHA256()))
    with open(cert_out, "wb") as f:
        f.write(cert.public_bytes(serialization.Encoding.PEM))
    with open(key_out, "wb") as f:
        f.write(key.private_bytes(serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8,
                                  serialization.NoEncryption()))
    os.chmod(key_out, 0o600)
