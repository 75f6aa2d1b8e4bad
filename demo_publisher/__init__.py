"""Klimop Rekenrups, a demo publisher that signs pupils in through Thuisportaal.

A separate Django application in one module, run in its own process (`make run` starts it on
port 8001). It uses Authlib's OpenID Connect client exactly as a publisher would: discovery,
authorization code with PKCE S256, state and nonce, ID-token signature and claims checked.
"""
