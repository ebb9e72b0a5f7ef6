import zmq
import json

# Setup
context = zmq.Context()
socket = context.socket(zmq.REQ)
socket.connect("tcp://localhost:5556")

# 1. Create account
request = {
    "action": "create_user",
    "user_data": {
        "username": "alice",
        "email": "alice@example.com",
        "password": "SecurePass123!",
        "full_name": "Alice Smith"
    }
}

socket.send_string(json.dumps(request))
response = json.loads(socket.recv_string())

if response["status"] == "success":
    print(f"Account created: {response['username']}")

# 2. Login
request = {
    "action": "login",
    "credentials": {
        "username": "alice",  # or use email
        "password": "SecurePass123!"
    }
}

socket.send_string(json.dumps(request))
response = json.loads(socket.recv_string())

if response["status"] == "success":
    session_token = response["session_token"]
    print(f"Logged in! Session: {session_token}")

# Continuing from login example...

# 3. Update username (requires session)
request = {
    "action": "update_user",
    "session_token": session_token,
    "update_data": {
        "username": "alice_updated"
    }
}

socket.send_string(json.dumps(request))
response = json.loads(socket.recv_string())

if response["status"] == "success":
    updated_user = response["user"]
    print(f"New username: {updated_user['username']}")

# 4. Update password (requires current password)
request = {
    "action": "update_user", 
    "session_token": session_token,
    "update_data": {
        "current_password": "SecurePass123!",
        "password": "NewSecurePass456!"
    }
}

socket.send_string(json.dumps(request))
response = json.loads(socket.recv_string())

if response["status"] == "success":
    print("Password updated successfully")

# 5. Logout
request = {
    "action": "logout",
    "session_token": session_token
}

socket.send_string(json.dumps(request))
socket.close()
context.term()
