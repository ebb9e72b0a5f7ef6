"""Opens a users-service store with nothing but Python's `cryptography`, following
its documented recipe for passwords with Fernet, and prints the usernames.

usage: open_store.py STORE MASTER_PASSWORD [EXPECTED_USERNAME...]
"""
import base64
import json
import sys

from cryptography.fernet import Fernet
from cryptography.hazmat.primitives import hashes
from cryptography.hazmat.primitives.kdf.pbkdf2 import PBKDF2HMAC

store, master, expected = sys.argv[1], sys.argv[2], sys.argv[3:]
header = json.load(open(store))
kdf = header["kdf"]
assert kdf["algorithm"] == "pbkdf2-hmac-sha256", kdf
key = base64.urlsafe_b64encode(
    PBKDF2HMAC(
        algorithm=hashes.SHA256(),
        length=32,
        salt=base64.b64decode(kdf["salt"]),
        iterations=kdf["iterations"],
    ).derive(master.encode())
)
f = Fernet(key)
users = json.loads(f.decrypt(header["data"].encode()))
# Version 2 records carry a stable id, which journal records refer to (a
# rename is one put under the same id); version 1 went by username.
by_id = header["version"] >= 2
if by_id:
    users = {u["id"]: u for u in users.values()}
# Replay the journal: one Fernet token per line.
try:
    lines = open(store + ".journal").read().splitlines()
except FileNotFoundError:
    lines = []
for line in lines:
    entry = json.loads(f.decrypt(line.encode()))
    if entry["seq"] <= header["journal_seq"]:
        continue
    key = "id" if by_id else "username"
    if entry["op"] == "put":
        users[entry["user"][key]] = entry["user"]
    elif entry["op"] == "delete":
        users.pop(entry[key], None)
    # "audit_head" seals the audit log's newest event and changes no user.
if by_id:
    users = {u["username"]: u for u in users.values()}
for name in expected:
    assert name in users, f"{name} missing from {sorted(users)}"
    assert "password_hash" in users[name] and "email" in users[name]
print("store opened by Python:", ", ".join(sorted(users)))
