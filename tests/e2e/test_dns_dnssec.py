"""dns with DNSSEC (BIND dnssec-policy): signed answers, the DS record shown in the run, the export
and status, equal to what dnssec-dsfromkey derives from named's key; stable on a re-run."""
import glob
import json

import harness
from dnscheck import dig, service_pid, status_checks
from harness import Sandbox, check, run_cmd, wait_for


def signed(domain):
    # dig +short prints an RRSIG as "SOA 13 2 3600 ..." (the type it covers first).
    return any(line.startswith("SOA ") for line in dig(domain, "SOA", "+dnssec"))


def with_dnssec(doc):
    doc["dns"] = {"serve": "bind", "dnssec": True}


def test_signed_zone_and_ds_record():
    with Sandbox("dns-dnssec") as sb:
        sb.use_profile("full.yaml", with_dnssec)
        out = sb.run()
        check("DS record for the registrar" in out.stdout, out.stdout)
        keys = glob.glob(sb.path("var/lib/bind/firstboot/keys/Kexample.com.+013+*.key"))
        check(len(keys) == 1, keys)
        reference = run_cmd(["dnssec-dsfromkey", "-2", keys[0]], check_rc=0).stdout.split()
        ds_value = " ".join(reference[3:])  # "example.com. IN DS <tag> 13 2 <HEX>"

        wait_for(lambda: signed("example.com"), timeout=20, what="a signed SOA")
        check(dig("example.com", "DNSKEY"), "no DNSKEY served")
        check(dig("example.com", "MX") == ["10 mail.example.com."], dig("example.com", "MX"))

        doc = json.loads(sb.firstboot("dns-records", "--format", "json", check_rc=0).stdout)
        ds = [r for r in doc["domains"][0]["records"] if r["type"] == "DS"]
        check(len(ds) == 1 and ds[0]["value"].upper() == ds_value.upper() and
              ds[0]["where"] == "registrar", f"{ds} vs dnssec-dsfromkey {ds_value}")
        table = sb.firstboot("dns-records", check_rc=0).stdout
        check(ds_value.upper() in table.upper(), table)
        zone = sb.firstboot("dns-records", "--format", "zone", check_rc=0).stdout
        check("; at your registrar: example.com. 3600 IN DS" in zone, zone)

        _, checks = status_checks(sb)
        c = checks["dns.example.com.dnssec"]
        check(c["status"] == "pass" and ds_value.split()[0] in c["detail"], c)
        check(checks["dns.example.com.soa"]["status"] == "pass", checks["dns.example.com.soa"])

        pid = service_pid(sb, "named")
        again = sb.run()
        check("service named" not in again.stdout and service_pid(sb, "named") == pid, again.stdout)


def test_multi_domain_profile_signs_every_zone():
    with Sandbox("dns-dnssec-multi", profile="multi-domain.yaml") as sb:
        sb.run()
        for domain in ("example.org", "example.net", "example.info"):
            wait_for(lambda: signed(domain), timeout=20, what=f"a signed SOA for {domain}")
            check(dig(domain, "MX") == ["10 mx.example.org."], dig(domain, "MX"))
        check(dig("mx.example.org", "A") == ["127.0.0.1"], dig("mx.example.org", "A"))


harness.main(globals())
