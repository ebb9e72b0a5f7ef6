"""Signs in over wss:// through nginx (deploy/nginx-users.conf) in front of a
real bridge, from 127.0.0.2 with a made-up X-Forwarded-For of its own, and
checks that the session is recorded under 127.0.0.2, the address nginx saw
and added; and checks who may read /healthz through it.

usage: through_nginx.py PORT CA_FILE PASSWORD
"""
import asyncio
import http.client
import json
import ssl
import sys

import websockets

port, ca_file, password = int(sys.argv[1]), sys.argv[2], sys.argv[3]
tls = ssl.create_default_context(cafile=ca_file)


async def sign_in():
    # What a client claims comes first in X-Forwarded-For; nginx adds the
    # address it sees last, and the bridge takes only that one.
    async with websockets.connect(f"wss://127.0.0.1:{port}/ws", ssl=tls,
                                  local_addr=("127.0.0.2", 0),
                                  additional_headers={"X-Forwarded-For": "203.0.113.66"}) as ws:
        await ws.send(json.dumps({"action": "login", "request_id": 1,
                                  "credentials": {"username": "admin", "password": password}}))
        reply = json.loads(await ws.recv())
        assert reply["status"] == "success", reply
        token = reply["session_token"]
        assert token, reply
        await ws.send(json.dumps({"action": "list_sessions", "request_id": 2,
                                  "session_token": token}))
        reply = json.loads(await ws.recv())
        assert reply["status"] == "success", reply
        current = [s for s in reply["sessions"] if s["current"]]
        assert len(current) == 1, reply
        print("signed in over wss through nginx as " + current[0]["client_address"])


def healthz(source):
    conn = http.client.HTTPSConnection("127.0.0.1", port, context=tls, source_address=(source, 0))
    conn.request("GET", "/healthz")
    status = conn.getresponse().status
    conn.close()
    return status


asyncio.run(sign_in())
assert healthz("127.0.0.1") == 200, "loopback reads /healthz"
assert healthz("127.0.0.2") == 403, "anyone else is refused /healthz"
print("healthz: loopback only")
