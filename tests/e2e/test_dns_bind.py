"""dns with BIND in the sandbox (profiles/full.yaml): every record answered by named on
127.0.0.1:5353, DKIM TXT equal to the keys on disk, zones that dnspython and named-checkzone load,
a serial that stays on a re-run and moves on a change, reloads without a restart, a new domain that
bumps no other zone."""
import json
import os

import harness
from dnscheck import (dig, dkim_public_key, load_zone_with_dnspython, pid_alive, service_pid,
                      soa_serial, status_checks, txt)
from harness import Sandbox, check, run_cmd

ZONE = "var/lib/bind/firstboot/example.com.zone"


def test_every_record_is_served():
    with Sandbox("dns-bind-records") as sb:
        out = sb.run()
        check("dns:" in out.stdout, out.stdout)
        serial = soa_serial("example.com")
        check(str(serial)[:8].isdigit() and len(str(serial)) == 10, f"serial {serial}")
        check(dig("example.com", "NS") == ["mail.example.com."], dig("example.com", "NS"))
        check(dig("mail.example.com", "A") == ["127.0.0.1"], dig("mail.example.com", "A"))
        check(dig("example.com", "MX") == ["10 mail.example.com."], dig("example.com", "MX"))
        check(txt("example.com") == ["v=spf1 mx -all"], txt("example.com"))
        check(txt("_dmarc.example.com") ==
              ["v=DMARC1; p=quarantine; rua=mailto:dmarc@example.com"], txt("_dmarc.example.com"))
        check(txt("_smtp._tls.example.com") == ["v=TLSRPTv1; rua=mailto:dmarc@example.com"],
              txt("_smtp._tls.example.com"))
        sts = txt("_mta-sts.example.com")
        check(len(sts) == 1 and sts[0].startswith("v=STSv1; id="), sts)
        check(dig("mta-sts.example.com", "CNAME") == ["mail.example.com."],
              dig("mta-sts.example.com", "CNAME"))
        check(dig("_submission._tcp.example.com", "SRV") == ["0 1 5587 mail.example.com."],
              dig("_submission._tcp.example.com", "SRV"))
        check(dig("_imaps._tcp.example.com", "SRV") == ["0 1 9933 mail.example.com."],
              dig("_imaps._tcp.example.com", "SRV"))
        check(dig("_pop3s._tcp.example.com", "SRV") == ["0 1 9955 mail.example.com."],
              dig("_pop3s._tcp.example.com", "SRV"))
        check(dig("example.com", "CAA") == [], "self-signed: no CAA")
        verification = txt("_mail-verification.example.com")
        check(len(verification) == 1 and verification[0].startswith("firstboot-verification="),
              verification)

        # DKIM: the published keys are the keys on disk (RSA split into <=255-byte strings).
        for selector, algorithm in (("mail", "rsa"), ("mail-ed25519", "ed25519")):
            key_file = sb.path(f"etc/opendkim/keys/example.com/{selector}.private")
            check(os.path.exists(key_file), f"no key {key_file}")
            kind, public = dkim_public_key(key_file)
            check(kind == algorithm, f"{key_file} is {kind}")
            published = txt(f"{selector}._domainkey.example.com")
            check(published == [f"v=DKIM1; k={kind}; p={public}"],
                  f"{selector}: published {published}, key on disk {public}")
        raw = dig("mail._domainkey.example.com", "TXT")[0]
        check(raw.count('" "') >= 1, f"RSA TXT not split into strings: {raw}")

        # The MTA-STS policy file matches the id's policy.
        with open(sb.path("var/www/mta-sts/example.com/.well-known/mta-sts.txt"), newline="") as f:
            policy = f.read()
        check(policy.startswith("version: STSv1\r\nmode: testing\r\nmx: mail.example.com\r\n"),
              repr(policy))

        # Independent parsers accept the served zone file.
        zone = load_zone_with_dnspython("example.com.", sb.path(ZONE))
        check(zone.get_rdataset("example.com.", "SOA")[0].serial == serial, "dnspython SOA")
        run_cmd(["named-checkzone", "example.com", sb.path(ZONE)], check_rc=0)

        # The checks in status: every record present.
        doc, checks = status_checks(sb)
        dns_checks = {k: v for k, v in checks.items() if k.startswith("dns.")}
        check(len(dns_checks) >= 14, sorted(dns_checks))
        for cid, c in dns_checks.items():
            check(c["status"] == "pass", f"{cid}: {c}")
        check(dns_checks["dns._dmarc.example.com.txt"]["detail"].startswith("present"),
              dns_checks["dns._dmarc.example.com.txt"])


def test_rerun_keeps_serial_and_change_reloads_without_restart():
    with Sandbox("dns-bind-serial") as sb:
        sb.run()
        serial = soa_serial("example.com")
        pid = service_pid(sb, "named")
        check(pid and pid_alive(pid), f"named pid {pid}")
        mtime = os.stat(sb.path(ZONE)).st_mtime_ns

        again = sb.run()
        check(soa_serial("example.com") == serial, "re-run changed the serial")
        check(os.stat(sb.path(ZONE)).st_mtime_ns == mtime, "re-run rewrote the zone")
        check(service_pid(sb, "named") == pid, "re-run restarted named")
        check("service named" not in again.stdout, f"re-run touched named:\n{again.stdout}")

        def stricter(doc):
            doc["domains"][0]["dmarc"]["policy"] = "reject"
        sb.use_profile("full.yaml", stricter)
        changed = sb.run()
        check("named: reloaded" in changed.stdout, changed.stdout)
        check(soa_serial("example.com") == serial + 1,
              f"serial {soa_serial('example.com')} after a change, was {serial}")
        check(txt("_dmarc.example.com") == ["v=DMARC1; p=reject; rua=mailto:dmarc@example.com"],
              txt("_dmarc.example.com"))
        check(service_pid(sb, "named") == pid and pid_alive(pid), "named was restarted")


def test_new_domain_gets_a_zone_and_bumps_no_other():
    with Sandbox("dns-bind-add-domain") as sb:
        sb.run()
        serial = soa_serial("example.com")
        pid = service_pid(sb, "named")

        def add(doc):
            doc["domains"].append({"name": "example.net",
                                   "dkim": {"selector": "s1", "algorithms": ["ed25519"]},
                                   "dmarc": {"policy": "none"}})
        sb.use_profile("full.yaml", add)
        sb.run()
        check(soa_serial("example.com") == serial, "adding a domain bumped example.com")
        check(dig("example.net", "MX") == ["10 mail.example.com."], dig("example.net", "MX"))
        check(dig("example.net", "NS") == ["mail.example.com."], dig("example.net", "NS"))
        check(dig("mail.example.net", "A") == [], "no A for the host outside its zone")
        kind, public = dkim_public_key(sb.path("etc/opendkim/keys/example.net/s1-ed25519.private"))
        check(txt("s1-ed25519._domainkey.example.net") == [f"v=DKIM1; k=ed25519; p={public}"],
              txt("s1-ed25519._domainkey.example.net"))
        check(service_pid(sb, "named") == pid, "a new zone restarted named")
        load_zone_with_dnspython("example.net.", sb.path("var/lib/bind/firstboot/example.net.zone"))


def test_stop_leaves_nothing_running():
    with Sandbox("dns-bind-stop") as sb:
        sb.run()
        pid = service_pid(sb, "named")
        sb.stop()
        check(not pid_alive(pid), f"named {pid} still runs after stop")


harness.main(globals())
