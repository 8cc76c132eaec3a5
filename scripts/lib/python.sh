# Sourced by scripts/test.sh: Python tools the tests use, from PyPI, installed only when missing.
#   schemathesis: fuzzes the served OpenAPI document (tests/tests/openapi.rs).
#   selenium: the WebDriver client of the desktop app's window test (src-tauri/tests/window.py),
#     which drives Debian's WebKitWebDriver.
passdesk_schemathesis_version="4.32.5"
if ! schemathesis --version 2> /dev/null | grep -q "$passdesk_schemathesis_version"; then
  echo "installing schemathesis $passdesk_schemathesis_version from PyPI" >&2
  python3 -m pip install -q "schemathesis==$passdesk_schemathesis_version"
fi
passdesk_selenium_version="4.51.0"
if ! python3 -c "import selenium, sys; sys.exit(selenium.__version__ != '$passdesk_selenium_version')" 2> /dev/null; then
  echo "installing selenium $passdesk_selenium_version from PyPI" >&2
  python3 -m pip install -q "selenium==$passdesk_selenium_version"
fi
