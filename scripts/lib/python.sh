# Sourced by scripts/test.sh: Python tools the tests use, from PyPI, installed only when missing.
#   schemathesis: fuzzes the served OpenAPI document (tests/tests/openapi.rs).
passdesk_schemathesis_version="4.32.5"
if ! schemathesis --version 2> /dev/null | grep -q "$passdesk_schemathesis_version"; then
  echo "installing schemathesis $passdesk_schemathesis_version from PyPI" >&2
  python3 -m pip install -q "schemathesis==$passdesk_schemathesis_version"
fi
