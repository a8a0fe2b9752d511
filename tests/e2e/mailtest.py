"""Helpers shared by the mail end-to-end tests: send with swaks, read Maildirs and IMAP/POP3, verify
DKIM signatures with dkimpy against the public keys the engine published in the user store."""
import imaplib
import json
import os
import poplib
import socket
import sqlite3
import ssl
import subprocess
import time

import dkim

from harness import Failure, check, run_cmd, wait_for

SMTP, SUBMISSION, SMTPS, IMAP, IMAPS, POP3, POP3S = 2525, 5587, 4465, 1144, 9933, 1110, 9955
OUTSIDE = "127.0.0.2"  # a second loopback address: not in mynetworks, plays the Internet


def tls_context(max_version=None):
    ctx = ssl.SSLContext(ssl.PROTOCOL_TLS_CLIENT)
    ctx.check_hostname = False
    ctx.verify_mode = ssl.CERT_NONE  # self-signed on first boot; the ssl module checks the cert
    if max_version:
        ctx.set_ciphers("ALL:@SECLEVEL=0")
        ctx.minimum_version = ssl.TLSVersion.MINIMUM_SUPPORTED
        ctx.maximum_version = max_version
    return ctx


def swaks(*args, timeout=60):
    """Runs swaks; returns (exit code, transcript)."""
    proc = run_cmd(["swaks", "--timeout", "20", *args], timeout=timeout)
    return proc.returncode, proc.stdout + proc.stderr


def submit(sender, password, to, subject, body="firstboot e2e test body\n", port=SUBMISSION,
           tls="--tls", user=None, extra=()):
    code, out = swaks("--server", "127.0.0.1", "--port", str(port), tls,
                      "--auth", "PLAIN", "--auth-user", user or sender,
                      "--auth-password", password, "--from", sender, "--to", to,
                      "--header", f"Subject: {subject}", "--body", body, *extra)
    return code, out


def maildir_messages(sb, address):
    local, domain = address.split("@")
    base = sb.path(f"var/vmail/{domain}/{local}/Maildir")
    out = []
    for sub in ("new", "cur"):
        d = os.path.join(base, sub)
        if os.path.isdir(d):
            for name in sorted(os.listdir(d)):
                with open(os.path.join(d, name), "rb") as f:
                    out.append(f.read())
    return out


def wait_for_message(sb, address, subject, timeout=20):
    found = []

    def arrived():
        for m in maildir_messages(sb, address):
            if f"Subject: {subject}".encode() in m:
                found.append(m)
                return True
        return False
    wait_for(arrived, timeout=timeout, interval=0.2, what=f"'{subject}' in {address}'s Maildir")
    return found[0]


def dkim_records(sb):
    """{'selector._domainkey.domain.': 'v=DKIM1; ...'} from the store's dns_records."""
    db = sqlite3.connect(f"file:{sb.path('var/lib/firstboot/users.sqlite')}?mode=ro", uri=True)
    try:
        rows = db.execute("SELECT domain, name, value FROM dns_records "
                          "WHERE purpose_group = 'dkim' AND type = 'TXT'").fetchall()
    finally:
        db.close()
    return {f"{name}.{domain}.": value for domain, name, value in rows}


def verify_dkim(sb, message):
    """Verifies every DKIM-Signature; returns the list of algorithms (a=) that verified."""
    records = dkim_records(sb)
    check(records, "no DKIM records in the store")

    def dnsfunc(name, timeout=5):
        key = name.decode() if isinstance(name, bytes) else name
        return records.get(key, "").encode()
    d = dkim.DKIM(message)
    sigs = [v for k, v in d.headers if k.lower() == b"dkim-signature"]
    algorithms = []
    for idx, sig in enumerate(sigs):
        ok = dkim.DKIM(message).verify(idx=idx, dnsfunc=dnsfunc)
        tags = dict(t.strip().split(b"=", 1) for t in sig.split(b";") if b"=" in t)
        alg = tags.get(b"a", b"?").decode()
        check(ok, f"DKIM signature {idx} ({alg}) does not verify")
        algorithms.append(alg)
    return algorithms


class OutsideIMAP(imaplib.IMAP4):
    """IMAP from 127.0.0.2: Dovecot treats a client whose address equals its own as secure."""

    def open(self, host="", port=143, timeout=None):
        self.host, self.port = host, port
        self.sock = socket.create_connection((host, port), timeout=timeout or 10,
                                             source_address=(OUTSIDE, 0))
        self.file = self.sock.makefile("rb")


def imap_subjects(user, password, port=IMAP, implicit_tls=False):
    if implicit_tls:
        m = imaplib.IMAP4_SSL("127.0.0.1", port, ssl_context=tls_context(), timeout=10)
    else:
        m = imaplib.IMAP4("127.0.0.1", port, timeout=10)
        m.starttls(ssl_context=tls_context())
    try:
        m.login(user, password)
        m.select("INBOX", readonly=True)
        typ, data = m.search(None, "ALL")
        subjects = []
        for num in data[0].split():
            typ, msg = m.fetch(num, "(BODY.PEEK[HEADER.FIELDS (SUBJECT)])")
            subjects.append(msg[0][1].decode().strip())
        return subjects
    finally:
        m.logout()


def pop3_count(user, password):
    p = poplib.POP3("127.0.0.1", POP3, timeout=10)
    try:
        p.stls(tls_context())
        p.user(user)
        p.pass_(password)
        return p.stat()[0]
    finally:
        p.quit()


def smtp_lines(port, commands, source=None, timeout=10):
    """A raw SMTP dialogue: returns the server's replies, one string per command (and greeting)."""
    s = socket.create_connection(("127.0.0.1", port), timeout=timeout,
                                 source_address=(source, 0) if source else None)
    f = s.makefile("rwb")

    def reply():
        lines = []
        while True:
            line = f.readline().decode().rstrip("\r\n")
            if not line:
                raise Failure("connection closed")
            lines.append(line)
            if len(line) < 4 or line[3] == " ":
                return "\n".join(lines)
    out = [reply()]
    for c in commands:
        f.write((c + "\r\n").encode())
        f.flush()
        out.append(reply())
    s.close()
    return out


def service_pids(sb):
    """{service: pid} from the process supervisor's records."""
    d = sb.path("run/firstboot/services")
    pids = {}
    if os.path.isdir(d):
        for name in os.listdir(d):
            if name.endswith(".json"):
                with open(os.path.join(d, name)) as f:
                    rec = json.load(f)
                pids[rec.get("name", name[:-5])] = rec.get("pid")
    return pids


def pid_alive(pid):
    try:
        os.kill(int(pid), 0)
    except (ProcessLookupError, ValueError, TypeError):
        return False
    with open(f"/proc/{pid}/stat") as f:
        return f.read().split(") ")[-1][:1] != "Z"


def postfix_log(sb):
    try:
        with open(sb.path("var/log/mail/postfix.log")) as f:
            return f.read()
    except FileNotFoundError:
        return ""
