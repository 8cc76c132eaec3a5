#!/usr/bin/env python3
"""Checks webhook deliveries as a receiver would, with code Passdesk did not write.

Reads one JSON object on stdin:
  {"secret": "whsec_...", "raw_secret": false,
   "deliveries": [{"name": "...", "body": "<the body as text>", "headers": {...}}]}
and prints one JSON array, an entry per delivery:
  {"name": "...", "standard": "ok" or the library's error,
   "passentry": true / false (null when there is no X-Webhook-Signature)}

- "standard": the Standard Webhooks reference library (PyPI `standardwebhooks`):
  Webhook(secret).verify(body, headers). A `whsec_` secret is handed over as text (the library
  decodes the base64 after the prefix); a plain secret (`raw_secret`) as its bytes.
- "passentry": X-Webhook-Signature recomputed as PassEntry's document describes it, with the
  standard library: the lowercase hex HMAC-SHA256 of the raw body keyed by the secret's text.
"""
import hashlib
import hmac
import json
import sys

try:
    from standardwebhooks import Webhook
except ImportError as e:  # the test says how to install it
    print(f"standardwebhooks is not installed ({e}): run scripts/test.sh", file=sys.stderr)
    sys.exit(3)


def main() -> None:
    request = json.load(sys.stdin)
    secret = request["secret"]
    key = secret.encode() if request.get("raw_secret") else secret
    webhook = Webhook(key)
    results = []
    for d in request["deliveries"]:
        body = d["body"]
        headers = d["headers"]
        try:
            webhook.verify(body, headers, json_parse=False)
            standard = "ok"
        except Exception as e:  # the library's verdict, whatever its class
            standard = f"{type(e).__name__}: {e}"
        given = {k.lower(): v for k, v in headers.items()}.get("x-webhook-signature")
        passentry = None
        if given is not None:
            expected = hmac.new(secret.encode(), body.encode(), hashlib.sha256).hexdigest()
            passentry = hmac.compare_digest(expected, given)
        results.append({"name": d["name"], "standard": standard, "passentry": passentry})
    json.dump(results, sys.stdout)


if __name__ == "__main__":
    main()
