"""Every example of the OpenEyes Patient API docs (seed 004), run as printed against a real HTTP server.

Only the base URL (https://openeyes.example.com -> the test server) and the Python example's password
('secure_password' -> the sandbox's 'password') are changed. The docs' response example says John Smith
(born 1970-03-15) is "54": that is his age from 2024-03-15 to 2025-03-14, so the sandbox clock is frozen
at 2024-06-01 here; on today's date he would be older.
"""

from __future__ import annotations

import json
import subprocess
import threading
from datetime import UTC, datetime

import pytest
import requests
from werkzeug.serving import make_server

from opescare_sandbox import create_app
from opescare_sandbox.domain import clock

DOCS_BASE_URL = "https://openeyes.example.com"
DOCS_TODAY = datetime(2024, 6, 1, 12, tzinfo=UTC)

# The docs' "Response Example", verbatim.
RESPONSE_EXAMPLE = json.loads("""
[
  {
    "id": 12345,
    "first_name": "John",
    "last_name": "Smith",
    "age": "54",
    "genderletter": "M",
    "dob": "1970-03-15",
    "is_deceased": false,
    "patient_identifiers": [
      {
        "title": "Hospital Number",
        "value": "H123456"
      },
      {
        "title": "NHS Number",
        "value": "1234567890"
      }
    ],
    "primary_patient_identifiers": {
      "title": "Hospital Number",
      "value": "H123456"
    }
  },
  {
    "id": 12346,
    "first_name": "Jane",
    "last_name": "Smith",
    "age": "Deceased",
    "genderletter": "F",
    "dob": "1945-07-22",
    "is_deceased": true,
    "patient_identifiers": [
      {
        "title": "Hospital Number",
        "value": "H789012"
      }
    ],
    "primary_patient_identifiers": {
      "title": "Hospital Number",
      "value": "H789012"
    }
  }
]
""")
JOHN = RESPONSE_EXAMPLE[:1]

# The docs' curl examples, verbatim, with what each returns on the default world.
CURL_EXAMPLES = [
    ('curl -u api_user:password \\\n  "https://openeyes.example.com/api/v1/patient/search?term=Smith"',
     RESPONSE_EXAMPLE),
    ('curl -u api_user:password \\\n  "https://openeyes.example.com/api/v1/patient/search?term=H123456"', JOHN),
    ('curl -u api_user:password \\\n  "https://openeyes.example.com/api/v1/patient/search?term=1234567890"', JOHN),
    (('curl -u api_user:password \\\n  "https://openeyes.example.com/api/v1/patient/search?term=123456'
      '&patient_identifier_type=2"'), []),
]


@pytest.fixture(scope="module")
def base_url():
    """A real server (werkzeug, threaded) on a free port, on the default seeded world, clock at DOCS_TODAY."""
    app = create_app({"TESTING": True, "IN_MEMORY": True, "RATE_LIMIT_ENABLED": False})
    clock.set_now(app.extensions["opescare_sandbox"].store.world("default"), DOCS_TODAY, frozen=True)
    server = make_server("127.0.0.1", 0, app, threaded=True)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    yield f"http://127.0.0.1:{server.server_port}"
    server.shutdown()
    thread.join()


@pytest.mark.parametrize("command,expected", CURL_EXAMPLES, ids=["name", "hospital-number", "nhs-number", "type"])
def test_curl_example_as_printed(base_url, command, expected):
    run = subprocess.run(["bash", "-c", command.replace(DOCS_BASE_URL, base_url)], capture_output=True,
                         text=True, timeout=30, check=True)
    assert json.loads(run.stdout) == expected


# The docs' "Integration Example (Python)", verbatim (trailing spaces included), run with exec so that
# nothing of it is re-typed: only the base URL and the password are substituted.
PYTHON_EXAMPLE = """\
import requests
from requests.auth import HTTPBasicAuth

class OpenEyesPatientAPI:
    def __init__(self, base_url, username, password):
        self.base_url = base_url
        self.auth = HTTPBasicAuth(username, password)

    def search_patients(self, term, identifier_type=None):
        url = f"{self.base_url}/api/v1/patient/search"
        params = {'term': term}

        if identifier_type:
            params['patient_identifier_type'] = identifier_type

        response = requests.get(url, params=params, auth=self.auth)
        response.raise_for_status()
        return response.json()

    def get_patient_by_hospital_number(self, hos_num):
        patients = self.search_patients(hos_num)
        return patients[0] if patients else None

# Usage
api = OpenEyesPatientAPI(
    'https://openeyes.example.com',
    'api_user',
    'secure_password'
)

results = api.search_patients('Smith')
for patient in results:
    print(f"{patient['first_name']} {patient['last_name']} - {patient['age']}")
"""


def run_python_example(base_url: str, password: str = "password") -> dict:
    namespace: dict = {}
    source = PYTHON_EXAMPLE.replace(DOCS_BASE_URL, base_url).replace("'secure_password'", repr(password))
    exec(compile(source, "openeyes_docs_example.py", "exec"), namespace)  # noqa: S102 - our own docs' example
    return namespace


def test_python_integration_example_as_printed(base_url, capsys):
    namespace = run_python_example(base_url)
    assert namespace["results"] == RESPONSE_EXAMPLE
    assert capsys.readouterr().out == "John Smith - 54\nJane Smith - Deceased\n"


def test_python_example_helpers(base_url, capsys):
    api = run_python_example(base_url)["api"]
    assert api.get_patient_by_hospital_number("H123456") == RESPONSE_EXAMPLE[0]
    assert api.get_patient_by_hospital_number("H000000") is None
    assert api.search_patients("123456", identifier_type=2) == []
    assert api.search_patients("1234567890", identifier_type=2) == [
        {**RESPONSE_EXAMPLE[0], "primary_patient_identifiers": {"title": "N/A", "value": "None"}}]


def test_python_example_with_the_docs_password_raises_401(base_url):
    with pytest.raises(requests.HTTPError) as raised:
        run_python_example(base_url, password="secure_password")
    response = raised.value.response
    assert (response.status_code, response.json(), response.headers["WWW-Authenticate"]) == (
        401, "401 Unauthorized", 'Basic realm="OpenEyes"')
