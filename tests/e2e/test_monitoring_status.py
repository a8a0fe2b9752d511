"""The readiness report end to end: a healthy full-mode sandbox is READY (exit 0, JSON valid
against schema/status.schema.json, about a second); then one thing at a time is broken — Dovecot
stopped, an expired certificate, a DNS record removed, a corrupted DKIM key record, an open relay —
and `status` exits 1 naming the right check with its hint, never saying READY; a repair run brings
it back. `status --wait --timeout 5` on a broken sandbox returns within about 5 s."""
import os
import re
import time

import harness
from harness import Sandbox, check
from monitoring_util import (checks_of, expired_certificate, failing, hup, kill_service, postfix,
                             status_json)


def assert_ready(sb):
    rc, doc = status_json(sb)
    check(rc == 0, f"not ready: {doc['reasons']}")
    return doc


def assert_broken(sb, check_id, hint_word):
    """status exits 1, the check fails with a hint containing hint_word, and no READY line."""
    text = sb.firstboot("status")
    check(text.returncode == 1, f"status exited {text.returncode}:\n{text.stdout}")
    check("NOT READY" in text.stdout and "\nREADY" not in text.stdout, text.stdout)
    check(re.search(r"FAIL\s+" + re.escape(check_id), text.stdout),
          f"{check_id} is not FAIL in:\n{text.stdout}")
    rc, doc = status_json(sb)
    check(rc == 1 and doc["ready"] is False, doc)
    c = checks_of(doc).get(check_id)
    check(c and c["status"] == "fail", f"{check_id}: {c}")
    check(hint_word in c["hint"], f"hint of {check_id}: {c['hint']!r}")
    check(any(check_id in r for r in doc["reasons"]), doc["reasons"])
    return doc


def test_healthy_sandbox_is_ready_quickly_and_json_is_valid():
    with Sandbox("mon-healthy") as sb:
        sb.run()
        start = time.monotonic()
        doc = assert_ready(sb)
        took = time.monotonic() - start
        checks = checks_of(doc)
        for required in ["mail.smtp.banner", "mail.smtp.starttls", "mail.smtp.tls-version",
                         "mail.smtp.no-auth-before-tls", "mail.submission.auth",
                         "mail.relay.refused", "mail.submission.relay-refused",
                         "mail.roundtrip", "mail.dkim.signed", "mail.dkim.mail",
                         "mail.dkim.mail-ed25519", "mail.imap.login", "mail.imaps.tls",
                         "mail.postmaster.example.com", "mail.abuse.example.com",
                         "ssl.smtp.certificate", "ssl.imaps.expiry", "dns.example.com.mx",
                         "dns.example.com.spf", "dns.example.com.dmarc", "dns.example.com.mta-sts",
                         "dns.example.com.dkim.mail", "dns.example.com.records",
                         "service.dovecot", "service.named", "monitoring.exporter", "system.disk"]:
            check(required in checks and checks[required]["status"] == "pass",
                  f"{required}: {checks.get(required)}")
            check(checks[required]["source"] == "live", checks[required])
        check(doc["live"] and doc["duration_ms"] < 3000, f"checks took {doc['duration_ms']} ms")
        check(took < 6, f"status took {took:.1f} s")
        check(doc["hostname"] == "mail.example.com" and doc["mode"] == "full", doc)
        text = sb.firstboot("status", check_rc=0)
        check("READY: every module done" in text.stdout, text.stdout)
        check("\033[" not in text.stdout, "colors on a pipe")
        # The probe leaves nothing behind in its mailbox.
        wait = sb.firstboot("status", "--wait", "--timeout", "30", check_rc=0)
        check("READY" in wait.stdout, wait.stdout)


def test_stopped_dovecot_fails_imap_and_round_trip_then_recovers():
    with Sandbox("mon-dovecot") as sb:
        sb.run()
        kill_service(sb, "dovecot")
        doc = assert_broken(sb, "mail.imap.banner", "Dovecot")
        check("service.dovecot" in failing(doc), failing(doc))
        check(checks_of(doc)["mail.roundtrip"]["status"] == "fail", checks_of(doc)["mail.roundtrip"])
        check(checks_of(doc)["mail.imap.login"]["status"] == "skipped", "login not skipped")
        # --wait gives up on time with exit 1.
        start = time.monotonic()
        waited = sb.firstboot("status", "--wait", "--timeout", "5", timeout=60)
        took = time.monotonic() - start
        check(waited.returncode == 1, waited.stdout)
        check(4.5 <= took <= 9, f"--wait --timeout 5 took {took:.1f} s")
        sb.run()
        assert_ready(sb)


def test_expired_certificate_fails_expiry_with_a_renewal_hint():
    with Sandbox("mon-cert") as sb:
        sb.run()
        live = sb.path("etc/firstboot/tls/mail.example.com")
        expired_certificate("mail.example.com", None, os.path.join(live, "fullchain.pem"),
                            os.path.join(live, "privkey.pem"))
        postfix(sb, "reload")
        hup(sb, "dovecot")
        time.sleep(1)
        doc = assert_broken(sb, "ssl.smtp.expiry", "renew")
        check("expired" in checks_of(doc)["ssl.smtp.certificate"]["detail"],
              checks_of(doc)["ssl.smtp.certificate"])
        check(checks_of(doc)["ssl.imaps.expiry"]["status"] == "fail", checks_of(doc)["ssl.imaps.expiry"])
        sb.run(check_rc=None)  # the ssl module puts its certificate back; mail reloads
        assert_ready(sb)


def zone_file(sb):
    return sb.path("var/lib/bind/firstboot/example.com.zone")


def edit_zone(sb, edit):
    path = zone_file(sb)
    with open(path) as f:
        text = f.read()
    new = edit(text)
    check(new != text, "the zone edit changed nothing")
    with open(path, "w") as f:
        f.write(new)
    hup(sb, "named")
    time.sleep(1)


def test_removed_dmarc_record_fails_dns_check():
    with Sandbox("mon-dns") as sb:
        sb.run()
        edit_zone(sb, lambda t: "\n".join(l for l in t.splitlines() if not l.startswith("_dmarc")) + "\n")
        assert_broken(sb, "dns.example.com.dmarc", "firstboot")
        sb.run(check_rc=None)
        assert_ready(sb)


def test_corrupted_dkim_record_fails_dns_and_signature_checks():
    with Sandbox("mon-dkim") as sb:
        sb.run()

        def corrupt(text):
            # Flip characters inside the p= value of the RSA key record (selector "mail").
            lines = text.splitlines()
            for i, line in enumerate(lines):
                if line.startswith("mail._domainkey"):
                    m = re.search(r"p=([A-Za-z0-9+/]{40})", line)
                    if m:
                        bad = m.group(1)[:20] + ("A" if m.group(1)[20] != "A" else "B") + m.group(1)[21:]
                        lines[i] = line.replace(m.group(1), bad)
            return "\n".join(lines) + "\n"
        edit_zone(sb, corrupt)
        doc = assert_broken(sb, "dns.example.com.dkim.mail", "dns-records")
        check(checks_of(doc)["mail.dkim.mail"]["status"] == "fail", checks_of(doc)["mail.dkim.mail"])
        check(checks_of(doc)["mail.dkim.mail-ed25519"]["status"] == "pass",
              checks_of(doc)["mail.dkim.mail-ed25519"])
        sb.run(check_rc=None)
        assert_ready(sb)


def test_open_relay_is_caught():
    with Sandbox("mon-relay") as sb:
        sb.run()
        main_cf = sb.path("etc/postfix/main.cf")
        with open(main_cf) as f:
            text = f.read()
        with open(main_cf, "w") as f:
            f.write(text.replace("mynetworks = 127.0.0.1/32", "mynetworks = 127.0.0.0/8"))
        postfix(sb, "reload")
        time.sleep(1)
        doc = assert_broken(sb, "mail.relay.refused", "mynetworks")
        check("OPEN RELAY" in checks_of(doc)["mail.relay.refused"]["detail"],
              checks_of(doc)["mail.relay.refused"])
        sb.run(check_rc=None)
        assert_ready(sb)


harness.main(globals())
