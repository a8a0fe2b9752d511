"""dns with NSD in the sandbox: the same records from nsd on 127.0.0.1:5353, a zone change
reloaded with SIGHUP (same PID), and switching between NSD and BIND stops the other server."""
import os

import harness
from dnscheck import dig, dkim_public_key, pid_alive, service_pid, soa_serial, status_checks, txt
from harness import Sandbox, check, run_cmd


def use_nsd(doc):
    doc["dns"] = {"serve": "nsd"}


def test_nsd_serves_every_record_and_reloads_without_restart():
    with Sandbox("dns-nsd") as sb:
        sb.use_profile("full.yaml", use_nsd)
        sb.run()
        zone = sb.path("etc/nsd/zones/example.com.zone")
        run_cmd(["nsd-checkzone", "example.com", zone], check_rc=0)
        run_cmd(["nsd-checkconf", sb.path("etc/nsd/nsd.conf")], check_rc=0)
        check(dig("example.com", "MX") == ["10 mail.example.com."], dig("example.com", "MX"))
        check(dig("mail.example.com", "A") == ["127.0.0.1"], dig("mail.example.com", "A"))
        check(txt("example.com") == ["v=spf1 mx -all"], txt("example.com"))
        kind, public = dkim_public_key(sb.path("etc/opendkim/keys/example.com/mail.private"))
        check(txt("mail._domainkey.example.com") == [f"v=DKIM1; k={kind}; p={public}"],
              txt("mail._domainkey.example.com"))
        check(dig("_imaps._tcp.example.com", "SRV") == ["0 1 9933 mail.example.com."],
              dig("_imaps._tcp.example.com", "SRV"))
        _, checks = status_checks(sb)
        failing = {k: v for k, v in checks.items() if k.startswith("dns.") and v["status"] != "pass"}
        check(not failing, failing)

        serial = soa_serial("example.com")
        pid = service_pid(sb, "nsd")
        check(pid and pid_alive(pid), f"nsd pid {pid}")

        def change(doc):
            use_nsd(doc)
            doc["domains"][0]["dmarc"]["policy"] = "none"
        sb.use_profile("full.yaml", change)
        out = sb.run()
        check("nsd: reloaded" in out.stdout, out.stdout)
        check(soa_serial("example.com") == serial + 1, "serial not bumped")
        check(txt("_dmarc.example.com") == ["v=DMARC1; p=none; rua=mailto:dmarc@example.com"],
              txt("_dmarc.example.com"))
        check(service_pid(sb, "nsd") == pid and pid_alive(pid), "nsd was restarted")

        again = sb.run()
        check("service nsd" not in again.stdout, f"a re-run touched nsd:\n{again.stdout}")


def test_switching_servers_stops_the_other():
    with Sandbox("dns-nsd-switch") as sb:
        sb.use_profile("full.yaml", use_nsd)
        sb.run()
        nsd = service_pid(sb, "nsd")
        sb.use_profile("full.yaml")  # serve: bind
        out = sb.run()
        check(not pid_alive(nsd), f"nsd {nsd} still runs after switching to bind:\n{out.stdout}")
        named = service_pid(sb, "named")
        check(named and pid_alive(named), "named did not start")
        check(dig("example.com", "MX") == ["10 mail.example.com."], "bind does not answer")


harness.main(globals())
