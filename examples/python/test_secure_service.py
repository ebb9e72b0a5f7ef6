# test_secure_service.py
import zmq
import json

def test_secure_service():
    context = zmq.Context()
    socket = context.socket(zmq.REQ)
    socket.connect("tcp://localhost:5556")
    
    # Test 1: Create account
    request = {
        "action": "create_user",
        "user_data": {
            "username": "testuser",
            "email": "test@example.com",
            "password": "TestPass123"
        }
    }
    socket.send_string(json.dumps(request))
    response = json.loads(socket.recv_string())
    assert response["status"] == "success"
    print("✓ Account creation")
    
    # Test 2: Login
    request = {
        "action": "login",
        "credentials": {
            "username": "testuser",
            "password": "TestPass123"
        }
    }
    socket.send_string(json.dumps(request))
    response = json.loads(socket.recv_string())
    assert response["status"] == "success"
    session = response["session_token"]
    print("✓ Login successful")
    
    # Test 3: Update email
    request = {
        "action": "update_user",
        "session_token": session,
        "update_data": {"email": "newemail@example.com"}
    }
    socket.send_string(json.dumps(request))
    response = json.loads(socket.recv_string())
    assert response["status"] == "success"
    print("✓ Email update")
    
    print("\nAll tests passed!")
    socket.close()
    context.term()

if __name__ == "__main__":
    test_secure_service()
