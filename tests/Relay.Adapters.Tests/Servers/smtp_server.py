"""An SMTP server for Relay's adapter tests (aiosmtpd from Debian's python3-aiosmtpd).

Listens on 127.0.0.1:--port and writes every accepted mail to --folder as <name>.eml (the bytes received) beside
<name>.json (the envelope: mail_from, rcpt_tos, login, tls). Recipients whose local part starts with 'reject' are
refused with 550, with 'busy' with 451. A mail to a 'flaky' recipient is stored and then answered 451 the first
time its Message-ID is seen, as a server that loses its reply after the write. AUTH PLAIN/LOGIN accepts
--user/--password (without TLS: this is a test server on loopback); with --cert and --key it offers STARTTLS.
The server ends when its parent does.
"""
import argparse
import asyncio
import json
import os
import ssl
import threading
import time
import uuid
from email.parser import BytesHeaderParser

from aiosmtpd.smtp import SMTP, AuthResult, LoginPassword

parser = argparse.ArgumentParser()
parser.add_argument("--port", type=int, required=True)
parser.add_argument("--folder", required=True)
parser.add_argument("--user", default="relay")
parser.add_argument("--password", default="secret")
parser.add_argument("--cert")
parser.add_argument("--key")
args = parser.parse_args()
os.makedirs(args.folder, exist_ok=True)


def local_part(address):
    return address.split("@")[0].lower()


class Handler:
    def __init__(self):
        self.failed_once = set()

    async def handle_RCPT(self, server, session, envelope, address, rcpt_options):
        if local_part(address).startswith("reject"):
            return "550 5.1.1 Mailbox unavailable"
        if local_part(address).startswith("busy"):
            return "451 4.2.1 Mailbox busy, try again later"
        envelope.rcpt_tos.append(address)
        return "250 OK"

    async def handle_DATA(self, server, session, envelope):
        name = "mail-%d-%s" % (time.time_ns(), uuid.uuid4().hex[:8])
        content = envelope.original_content or envelope.content
        login = None
        if isinstance(session.auth_data, LoginPassword):
            login = session.auth_data.login.decode("utf-8")
        meta = {
            "mail_from": envelope.mail_from,
            "rcpt_tos": envelope.rcpt_tos,
            "login": login,
            "tls": session.ssl is not None,
        }
        write(os.path.join(args.folder, name + ".json"), json.dumps(meta).encode("utf-8"))
        write(os.path.join(args.folder, name + ".eml"), content)
        message_id = BytesHeaderParser().parsebytes(content).get("Message-ID")
        if any(local_part(r).startswith("flaky") for r in envelope.rcpt_tos) and message_id not in self.failed_once:
            self.failed_once.add(message_id)
            return "451 4.3.0 Simulated failure after the mail was stored"
        return "250 2.0.0 Ok: queued as " + name


def write(path, data):
    # Written aside and renamed, so a test never reads half a file.
    with open(path + ".tmp", "wb") as f:
        f.write(data)
    os.replace(path + ".tmp", path)


def authenticator(server, session, envelope, mechanism, auth_data):
    if isinstance(auth_data, LoginPassword) and auth_data.login == args.user.encode() and auth_data.password == args.password.encode():
        return AuthResult(success=True, auth_data=auth_data)
    return AuthResult(success=False, handled=False)


tls_context = None
if args.cert:
    tls_context = ssl.create_default_context(ssl.Purpose.CLIENT_AUTH)
    tls_context.load_cert_chain(args.cert, args.key)

handler = Handler()


def factory():
    return SMTP(handler, hostname="relay-test", decode_data=False, enable_SMTPUTF8=True,
                authenticator=authenticator, auth_required=False, auth_require_tls=False,
                tls_context=tls_context, require_starttls=False)


parent = os.getppid()


def watch_parent():
    while True:
        time.sleep(0.5)
        if os.getppid() != parent:
            os._exit(0)


threading.Thread(target=watch_parent, daemon=True).start()
loop = asyncio.new_event_loop()
asyncio.set_event_loop(loop)
server = loop.run_until_complete(loop.create_server(factory, host="127.0.0.1", port=args.port))
print("ready", flush=True)
loop.run_forever()
