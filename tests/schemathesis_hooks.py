"""Schemathesis CLI hooks (SCHEMATHESIS_HOOKS): the credentials each operation's security asks for.

A fresh demo-client token per case, minted by the server under test: a generated `POST /sandbox/clock` may
move the sandbox clock years ahead, and a token minted before it would then be expired.
"""

from __future__ import annotations

import base64
import os

import requests
import schemathesis

BASE_URL = os.environ["SANDBOX_URL"]
DEMO_CLIENT = {"grant_type": "client_credentials", "client_id": "demo_dev_sandbox",
               "client_secret": "demo_secret_sandbox_2026"}
OPENEYES_BASIC = "Basic " + base64.b64encode(b"api_user:password").decode()


@schemathesis.auth(refresh_interval=None)
class SandboxCredentials:
    def get(self, case, context):
        schemes = {name for requirement in case.operation.definition.raw.get("security") or [] for name in requirement}
        if "openEyesBasic" in schemes:
            return OPENEYES_BASIC
        if "bearerAuth" in schemes:
            token = requests.post(f"{BASE_URL}/api/v1/connect/auth/token", json=DEMO_CLIENT, timeout=10)
            return f"Bearer {token.json()['access_token']}"
        return None

    def set(self, case, data, context):
        if data is not None:
            case.headers = {**(case.headers or {}), "Authorization": data}


# A reset builds a template world of `patients` people: keep generated sizes small so the run stays fast.
MAX_RESET_PATIENTS = 50


@schemathesis.hook
def before_call(context, case, **kwargs):
    if case.path == "/sandbox/reset" and isinstance(case.body, dict):
        patients = case.body.get("patients")
        if isinstance(patients, int) and not isinstance(patients, bool) and patients > MAX_RESET_PATIENTS:
            case.body["patients"] = patients % (MAX_RESET_PATIENTS + 1)
