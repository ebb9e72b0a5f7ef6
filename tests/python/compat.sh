#!/usr/bin/env bash
# Runs the original's Python client code, unchanged, against users-service.
# Started under `unshare -n`: a private network namespace, so the scripts'
# fixed tcp://localhost:5556 is ours alone and nothing outside can interfere.
# usage: compat.sh SERVICE_BINARY WORK_DIR REPO_ROOT
set -euo pipefail
bin=$1 dir=$2 root=$3
ip link set lo up
export USERS_SERVICE_PASSWORD=compat-master-password
"$bin" 5556 "$dir/users.json" --pbkdf2-iterations 1000 --kdf-iterations 1000 >"$dir/service.log" 2>&1 &
pid=$!
trap 'kill -TERM $pid 2>/dev/null; wait $pid' EXIT
python3 - <<'PY'
import json, time, zmq
ctx = zmq.Context()
for _ in range(200):
    s = ctx.socket(zmq.REQ); s.setsockopt(zmq.LINGER, 0); s.setsockopt(zmq.RCVTIMEO, 200)
    s.connect("tcp://localhost:5556")
    s.send_string(json.dumps({"action": "health_check"}))
    try:
        if json.loads(s.recv_string())["status"] == "success":
            break
    except zmq.Again:
        pass
    finally:
        s.close()
    time.sleep(0.05)
else:
    raise SystemExit("users-service did not answer")
PY
cd "$root/examples/python"
python3 test_secure_service.py
python3 readme_example.py
python3 "$root/tests/python/open_store.py" "$dir/users.json" "$USERS_SERVICE_PASSWORD" admin testuser alice_updated
