#!/usr/bin/python3
"""A real SMTP server for the probe unit tests (aiosmtpd): STARTTLS, implicit TLS, AUTH only after
TLS, a refused recipient domain. Prints "PORT <n>" once listening; exits after --lifetime seconds.
Received messages are written to --spool as N.eml."""
import argparse
import asyncio
import os
import ssl
import sys

from aiosmtpd.smtp import SMTP, AuthResult, LoginPassword


class Handler:
    def __init__(self, spool, refuse_domain):
        self.spool = spool
        self.refuse_domain = refuse_domain
        self.count = 0

    async def handle_RCPT(self, server, session, envelope, address, rcpt_options):
        if self.refuse_domain and address.lower().endswith("@" + self.refuse_domain):
            return "554 5.7.1 <%s>: Relay access denied" % address
        envelope.rcpt_tos.append(address)
        return "250 2.1.5 Ok"

    async def handle_DATA(self, server, session, envelope):
        self.count += 1
        if self.spool:
            with open(os.path.join(self.spool, "%d.eml" % self.count), "wb") as f:
                f.write(envelope.original_content or envelope.content)
        return "250 2.0.0 Ok: queued as TEST%04d" % self.count


def main():
    p = argparse.ArgumentParser()
    p.add_argument("--cert")
    p.add_argument("--key")
    p.add_argument("--implicit-tls", action="store_true")
    p.add_argument("--auth", help="user:password")
    p.add_argument("--refuse-domain", default="")
    p.add_argument("--spool", default="")
    p.add_argument("--lifetime", type=float, default=60)
    args = p.parse_args()

    context = None
    if args.cert:
        context = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
        context.minimum_version = ssl.TLSVersion.TLSv1_2
        context.load_cert_chain(args.cert, args.key)
    user, _, password = (args.auth or "").partition(":")

    def authenticator(server, session, envelope, mechanism, auth_data):
        ok = isinstance(auth_data, LoginPassword) and auth_data.login.decode() == user and \
            auth_data.password.decode() == password
        return AuthResult(success=ok, handled=False)

    handler = Handler(args.spool, args.refuse_domain)

    def factory():
        kwargs = dict(hostname="probe-test.example", ident="probe test server")
        if context and not args.implicit_tls:
            kwargs["tls_context"] = context
        if args.auth:
            kwargs.update(authenticator=authenticator, auth_require_tls=True)
        else:
            kwargs.update(auth_require_tls=False)
        return SMTP(handler, **kwargs)

    async def run():
        loop = asyncio.get_running_loop()
        server = await loop.create_server(factory, "127.0.0.1", 0,
                                          ssl=context if args.implicit_tls else None)
        print("PORT", server.sockets[0].getsockname()[1], flush=True)
        await asyncio.sleep(args.lifetime)
        server.close()

    asyncio.run(run())


if __name__ == "__main__":
    sys.exit(main())
