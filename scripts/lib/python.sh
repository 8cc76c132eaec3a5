# Sourced by scripts/test.sh: Python tools the tests use, from PyPI, installed only when missing.
#   schemathesis: fuzzes the served OpenAPI document (tests/tests/openapi.rs).
#   openapi-spec-validator: checks that document against the OpenAPI specification
#     (tests/tests/openapi_lint.rs; Redocly's lint there comes from ui/'s npm packages).
#   standardwebhooks: the Standard Webhooks reference library, which checks the signatures of
#     every webhook format (tests/tests/webhook_formats.rs through tests/webhooks/verify.py).
#   selenium: the WebDriver client of the desktop app's window test (src-tauri/tests/window.py),
#     which drives Debian's WebKitWebDriver.
passdesk_schemathesis_version="4.32.5"
if ! schemathesis --version 2> /dev/null | grep -q "$passdesk_schemathesis_version"; then
  echo "installing schemathesis $passdesk_schemathesis_version from PyPI" >&2
  python3 -m pip install -q "schemathesis==$passdesk_schemathesis_version"
fi
passdesk_spec_validator_version="0.9.0"
if ! openapi-spec-validator --version 2> /dev/null | grep -q "$passdesk_spec_validator_version"; then
  echo "installing openapi-spec-validator $passdesk_spec_validator_version from PyPI" >&2
  python3 -m pip install -q "openapi-spec-validator==$passdesk_spec_validator_version"
fi
passdesk_standardwebhooks_version="1.1.0"
if ! python3 -c "import importlib.metadata as m, sys; sys.exit(m.version('standardwebhooks') != '$passdesk_standardwebhooks_version')" 2> /dev/null; then
  echo "installing standardwebhooks $passdesk_standardwebhooks_version from PyPI" >&2
  python3 -m pip install -q "standardwebhooks==$passdesk_standardwebhooks_version"
fi
passdesk_selenium_version="4.51.0"
if ! python3 -c "import selenium, sys; sys.exit(selenium.__version__ != '$passdesk_selenium_version')" 2> /dev/null; then
  echo "installing selenium $passdesk_selenium_version from PyPI" >&2
  python3 -m pip install -q "selenium==$passdesk_selenium_version"
fi
