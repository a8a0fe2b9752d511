"""After the mail module has run: a message submitted by alice is DKIM-signed by the sandbox's
OpenDKIM, read back over IMAPS, and every signature verifies with dkimpy looking the keys up in
the sandbox DNS server (named on 127.0.0.1:5353), i.e. the published keys are the signing keys.
Skips (passes with a note) while no mail module is registered."""
import imaplib
import ssl
import time

import harness
from dnscheck import status_checks
from harness import Sandbox, check, run_cmd


def sandbox_dns_txt(name, timeout=5):
    import dns.resolver
    resolver = dns.resolver.Resolver(configure=False)
    resolver.nameservers = ["127.0.0.1"]
    resolver.port = 5353
    resolver.lifetime = timeout
    qname = name.decode() if isinstance(name, bytes) else name
    try:
        answer = resolver.resolve(qname, "TXT")
    except Exception:  # noqa: BLE001 - dkimpy treats None as "no key"
        return None
    return b"".join(answer[0].strings)


def fetch_newest(user, password, subject, timeout=30):
    context = ssl.create_default_context()
    context.check_hostname = False
    context.verify_mode = ssl.CERT_NONE
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        with imaplib.IMAP4_SSL("127.0.0.1", 9933, ssl_context=context, timeout=10) as imap:
            imap.login(user, password)
            imap.select("INBOX")
            _, ids = imap.search(None, "SUBJECT", f'"{subject}"')
            if ids and ids[0]:
                _, data = imap.fetch(ids[0].split()[-1], "(RFC822)")
                return data[0][1]
        time.sleep(0.5)
    raise harness.Failure(f"no message '{subject}' for {user} within {timeout}s")


def test_signatures_verify_against_the_served_keys():
    with Sandbox("dns-dkim-mail") as sb:
        sb.run()
        doc, _ = status_checks(sb)
        if "mail" not in [m["name"] for m in doc["modules"]]:
            print("SKIP: no mail module registered yet; nothing signs mail")
            return
        subject = f"dkim-check-{time.time_ns()}"
        run_cmd(["swaks", "--server", "127.0.0.1", "--port", "5587", "--tls",
                 "--auth", "PLAIN", "--auth-user", "alice@example.com",
                 "--auth-password", "alice-demo-pass", "--from", "alice@example.com",
                 "--to", "bob@example.com", "--header", f"Subject: {subject}",
                 "--body", "signed by the sandbox"], timeout=60, check_rc=0)
        message = fetch_newest("bob@example.com", "bob-demo-pass", subject)
        import dkim
        signatures = [line for line in message.split(b"\r\n") if
                      line.lower().startswith(b"dkim-signature:")]
        check(signatures, "the delivered message carries no DKIM-Signature")
        for index in range(len(signatures)):
            verifier = dkim.DKIM(message)
            check(verifier.verify(idx=index, dnsfunc=sandbox_dns_txt),
                  f"signature {index} does not verify against the sandbox DNS: "
                  f"{signatures[index][:120]!r}")


harness.main(globals())
