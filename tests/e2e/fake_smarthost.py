"""A test smarthost: a real SMTP server (aiosmtpd) that requires STARTTLS and AUTH, and stores
every message it accepts as a file. Started and stopped by the relay-mode tests.

    fake_smarthost.py --port 2587 --cert C --key K --user U --password-file F --spool DIR
"""
import argparse
import asyncio
import os
import signal
import ssl
import sys
import time

from aiosmtpd.controller import Controller
from aiosmtpd.smtp import AuthResult, LoginPassword


def auth_user(session):
    data = getattr(session, "auth_data", None)
    return data.login.decode() if isinstance(data, LoginPassword) else None


class Spool:
    def __init__(self, directory):
        self.directory = directory
        self.count = 0

    async def handle_DATA(self, server, session, envelope):
        self.count += 1
        name = os.path.join(self.directory, f"{time.time_ns()}-{self.count}.eml")
        with open(name + ".tmp", "wb") as f:
            f.write(f"X-Envelope-From: {envelope.mail_from}\r\n".encode())
            f.write(f"X-Envelope-To: {','.join(envelope.rcpt_tos)}\r\n".encode())
            f.write(f"X-Auth-User: {auth_user(session)}\r\n"
                    .encode())
            f.write(envelope.original_content)
        os.rename(name + ".tmp", name)
        return "250 2.0.0 Message accepted for delivery"


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--host", default="127.0.0.1")
    ap.add_argument("--port", type=int, default=2587)
    ap.add_argument("--cert", required=True)
    ap.add_argument("--key", required=True)
    ap.add_argument("--user", required=True)
    ap.add_argument("--password-file", required=True)
    ap.add_argument("--spool", required=True)
    args = ap.parse_args()
    with open(args.password_file) as f:
        password = f.read().strip()
    os.makedirs(args.spool, exist_ok=True)

    def authenticator(server, session, envelope, mechanism, auth_data):
        ok = (isinstance(auth_data, LoginPassword) and auth_data.login.decode() == args.user
              and auth_data.password.decode() == password)
        return AuthResult(success=ok, handled=False, auth_data=auth_data)

    tls = ssl.create_default_context(ssl.Purpose.CLIENT_AUTH)
    tls.load_cert_chain(args.cert, args.key)
    controller = Controller(Spool(args.spool), hostname=args.host, port=args.port,
                            tls_context=tls, require_starttls=True, auth_required=True,
                            auth_require_tls=True, authenticator=authenticator,
                            server_hostname="smarthost.test")
    controller.start()
    print(f"smarthost listening on {args.host}:{args.port}", flush=True)
    stop = []
    signal.signal(signal.SIGTERM, lambda *_: stop.append(1))
    signal.signal(signal.SIGINT, lambda *_: stop.append(1))
    try:
        while not stop:
            time.sleep(0.1)
    finally:
        controller.stop()
    return 0


if __name__ == "__main__":
    sys.exit(main())
