"""dns with serve: none and the export: `firstboot dns-records` as table, zone and JSON (valid
against schema/dns-records.schema.json), before a run (--profile, nothing written) and after it;
verification against a resolver that has none of the records gives warnings that say what to add;
values that would break a zone are refused by the profile check."""
import json
import os
import tempfile

import harness
from dnscheck import dkim_public_key, load_zone_with_dnspython, status_checks
from harness import SOURCE, Sandbox, check, run_cmd

SCHEMA = os.path.join(SOURCE, "schema", "dns-records.schema.json")


def serve_none(doc):
    # Nothing listens on this loopback port: every record is "missing" at the "provider".
    doc["dns"] = {"serve": "none", "resolver": "127.0.0.1:5399"}


def validate_json(text):
    import jsonschema
    doc = json.loads(text)
    with open(SCHEMA) as f:
        jsonschema.validate(doc, json.load(f))
    return doc


def test_dns_records_before_any_run_changes_nothing():
    with Sandbox("dns-export-plan") as sb:
        sb.use_profile("full.yaml", serve_none)
        out = sb.firstboot("dns-records", "--profile", sb.profile, "--format", "json", check_rc=0)
        doc = validate_json(out.stdout)
        check(not os.path.exists(sb.dir), "dns-records --profile created the sandbox")
        domain = doc["domains"][0]
        check(domain["verification"] is None, domain["verification"])
        notes = "\n".join(domain["notes"])
        check("created on the first run" in notes, notes)
        types = {r["type"] for r in domain["records"]}
        check({"MX", "TXT", "SRV", "A", "CNAME"} <= types, types)


def test_serve_none_exports_and_warns():
    with Sandbox("dns-export-none") as sb:
        sb.use_profile("full.yaml", serve_none)
        run = sb.run()  # warnings only: exit 0
        check("service named" not in run.stdout, run.stdout)
        check(not os.path.exists(sb.path("etc/bind/named.conf")), "serve none wrote named.conf")

        doc, checks = status_checks(sb)
        dmarc = checks["dns._dmarc.example.com.txt"]
        check(dmarc["status"] == "warn" and dmarc["severity"] == "warning", dmarc)
        check(dmarc["hint"] == "add at your DNS provider: _dmarc.example.com TXT "
                               "v=DMARC1; p=quarantine; rua=mailto:dmarc@example.com", dmarc)
        check(doc["ready"] is True, "warnings must not make the host not ready")

        # JSON: the onboarding document, valid against the schema.
        out = sb.firstboot("dns-records", "--format", "json", check_rc=0)
        doc = validate_json(out.stdout)
        domain = doc["domains"][0]
        token = domain["verification"]["token"]
        check(domain["verification"]["value"] == f"firstboot-verification={token}", domain)
        records = domain["records"]
        check(all(r["where"] == "registrar" for r in records), records)
        check(not any(r["type"] in ("SOA", "NS") for r in records), "SOA/NS in a provider list")
        by_name = {(r["fqdn"], r["type"]): r for r in records if r["type"] != "CAA"}
        kind, public = dkim_public_key(sb.path("etc/opendkim/keys/example.com/mail.private"))
        check(by_name[("mail._domainkey.example.com", "TXT")]["value"] ==
              f"v=DKIM1; k={kind}; p={public}", "DKIM value in JSON differs from the key")
        check(by_name[("example.com", "MX")]["value"] == "10 mail.example.com.", by_name)
        for r in records:
            check(r["purpose"], r)
        check(domain["mta_sts_policy"]["content"].startswith("version: STSv1\r\n"), domain)

        # Table: the registrar paste list.
        table = sb.firstboot("dns-records", check_rc=0).stdout
        for needle in ("_dmarc.example.com", "mail._domainkey.example.com", "TXT", "MX",
                       "enter the records at your DNS provider", "note:"):
            check(needle in table, f"{needle!r} not in the table:\n{table}")

        # Zone: loads with dnspython and named-checkzone.
        zone = sb.firstboot("dns-records", "--format", "zone", "--domain", "example.com",
                            check_rc=0).stdout
        with tempfile.NamedTemporaryFile("w", suffix=".zone", delete=False) as f:
            f.write(zone)
        try:
            load_zone_with_dnspython("example.com.", f.name)
            run_cmd(["named-checkzone", "-i", "local", "example.com", f.name], check_rc=0)
        finally:
            os.unlink(f.name)

        bad = sb.firstboot("dns-records", "--domain", "nope.example")
        check(bad.returncode == 1 and "no domain 'nope.example'" in bad.stderr, bad.stderr)
        bad = sb.firstboot("dns-records", "--format", "xml")
        check(bad.returncode == 2, bad.stderr)


def test_multi_domain_json_lists_every_domain():
    with Sandbox("dns-export-multi", profile="multi-domain.yaml") as sb:
        out = sb.firstboot("dns-records", "--profile", sb.profile, "--format", "json", check_rc=0)
        doc = validate_json(out.stdout)
        names = [d["domain"] for d in doc["domains"]]
        check(names == ["example.org", "example.net", "example.info"], names)


def test_values_that_would_break_a_zone_are_refused():
    cases = {
        "selector": lambda d: d["domains"][0]["dkim"].__setitem__("selector", 'mail" IN NS x'),
        "rua": lambda d: d["domains"][0]["dmarc"].__setitem__("rua", "a;b@example.com"),
        "dnssec-nsd": lambda d: d.__setitem__("dns", {"serve": "nsd", "dnssec": True}),
    }
    for name, change in cases.items():
        with Sandbox(f"dns-bad-{name}") as sb:
            sb.use_profile("full.yaml", change)
            out = sb.firstboot("run")
            check(out.returncode == 2, f"{name}: exit {out.returncode}\n{out.stdout}{out.stderr}")
            check(not os.path.exists(sb.dir), f"{name}: the sandbox was created")
            checked = run_cmd([harness.BIN, "check-profile", sb.profile])
            check(checked.returncode == 2 and "profile.yaml:" in checked.stderr, checked.stderr)


harness.main(globals())
