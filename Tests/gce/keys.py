"""Throwaway service-account keys for the tests: an RSA key made now, in the JSON layout IAM
hands out, with `token_uri` pointing at the fake."""
import json
import os

from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric import rsa


def write_service_account_key(path, token_uri, email="robot@p1.iam.gserviceaccount.com", project="p1"):
    key = rsa.generate_private_key(public_exponent=65537, key_size=2048)
    pem = key.private_bytes(serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8, serialization.NoEncryption()).decode()
    data = {"type": "service_account", "project_id": project, "private_key_id": os.urandom(20).hex(), "private_key": pem,
            "client_email": email, "client_id": "1234567890", "token_uri": token_uri,
            "auth_uri": "https://accounts.google.com/o/oauth2/auth"}
    with open(path, "w") as f:
        json.dump(data, f)
    os.chmod(path, 0o600)


if __name__ == "__main__":
    import sys
    write_service_account_key(sys.argv[1], sys.argv[2])
