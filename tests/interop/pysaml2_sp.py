#!/usr/bin/env python3
"""A tiny SAML service provider built on pysaml2, used by mockta's interop tests.

Subcommands:
  request --metadata FILE --entity-id ID --acs URL
      Prints {"id": ..., "url": ...}: an AuthnRequest sent with HTTP-Redirect.
  verify --metadata FILE --entity-id ID --acs URL --response B64 [--in-response-to ID]
         [--key-file PEM --cert-file PEM]
      Prints {"accepted": true, "name_id": ..., "attributes": {...}} or
      {"accepted": false, "error": "..."}; exits 0 either way. With a key
      and certificate, pysaml2 decrypts an EncryptedAssertion with them.
"""
import argparse
import json
import logging
import sys

from saml2 import BINDING_HTTP_POST, BINDING_HTTP_REDIRECT
from saml2.client import Saml2Client
from saml2.config import SPConfig
from saml2.sigver import get_xmlsec_binary

# The test reads stdout as a single JSON line, so pysaml2's own logging must
# stay out of the way; warnings still go to stderr where they help debugging.
logging.basicConfig(level=logging.WARNING, stream=sys.stderr)


class ErrorLog(logging.Handler):
    """Keeps pysaml2's logged errors, because some rejections are only logged."""

    def __init__(self):
        super().__init__(level=logging.ERROR)
        self.messages = []

    def emit(self, record):
        self.messages.append(record.getMessage())


ERRORS = ErrorLog()
logging.getLogger("saml2").addHandler(ERRORS)


def make_client(args, allow_unsolicited):
    config = SPConfig()
    # The SP's encryption key pair, when given: pysaml2 decrypts an
    # EncryptedAssertion with the keys listed in encryption_keypairs.
    keys = {}
    if getattr(args, "key_file", None):
        keys = {
            "key_file": args.key_file,
            "cert_file": args.cert_file,
            "encryption_keypairs": [{"key_file": args.key_file, "cert_file": args.cert_file}],
        }
    config.load(
        {
            **keys,
            "entityid": args.entity_id,
            # The IdP is trusted only through the certificate in its metadata,
            # which is how a real SP is set up against Okta; no chain is built.
            "metadata": {"local": [args.metadata]},
            "xmlsec_binary": get_xmlsec_binary(["/usr/bin", "/usr/local/bin"]),
            # Okta sends attributes with Basic/unspecified name formats that
            # pysaml2 has no attribute map for; they must still come through.
            "allow_unknown_attributes": True,
            # No clock skew is allowed, so a response that is expired or not
            # yet valid is rejected rather than tolerated.
            "accepted_time_diff": 0,
            "service": {
                "sp": {
                    "endpoints": {
                        "assertion_consumer_service": [(args.acs, BINDING_HTTP_POST)],
                    },
                    "allow_unsolicited": allow_unsolicited,
                    # The SP has no key of its own, so it cannot sign requests.
                    "authn_requests_signed": False,
                    # At least one of Response and Assertion must carry a
                    # signature, and pysaml2 verifies every signature present.
                    "want_assertions_or_response_signed": True,
                    "want_response_signed": False,
                    "want_assertions_signed": False,
                },
            },
        }
    )
    return Saml2Client(config=config)


def cmd_request(args):
    client = make_client(args, allow_unsolicited=False)
    request_id, info = client.prepare_for_authenticate(
        relay_state="/after-login", binding=BINDING_HTTP_REDIRECT
    )
    url = dict(info["headers"])["Location"]
    return {"id": request_id, "url": url}


def cmd_verify(args):
    solicited = args.in_response_to is not None
    client = make_client(args, allow_unsolicited=not solicited)
    outstanding = {args.in_response_to: "/"} if solicited else None
    try:
        response = client.parse_authn_request_response(
            args.response, BINDING_HTTP_POST, outstanding=outstanding
        )
        # pysaml2 does not always raise: it returns None for some rejections,
        # and when Response.verify() fails (for example on a Destination that
        # is not our ACS) it ignores the result and returns a response with no
        # assertion. Both are rejections; the logged error says why.
        if response is None or not getattr(response, "assertion", None):
            why = "; ".join(ERRORS.messages) or "no verified assertion"
            return {"accepted": False, "error": f"Rejected: {why}"}
        return {
            "accepted": True,
            "name_id": response.get_subject().text,
            "attributes": response.ava,
        }
    except Exception as exc:  # Any rejection is a result, not a crash.
        return {"accepted": False, "error": f"{type(exc).__name__}: {exc}"}


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    sub = parser.add_subparsers(dest="command", required=True)
    for name in ("request", "verify"):
        p = sub.add_parser(name)
        p.add_argument("--metadata", required=True)
        p.add_argument("--entity-id", required=True)
        p.add_argument("--acs", required=True)
        if name == "verify":
            p.add_argument("--response", required=True)
            p.add_argument("--in-response-to")
            p.add_argument("--key-file")
            p.add_argument("--cert-file")
    args = parser.parse_args()
    result = cmd_request(args) if args.command == "request" else cmd_verify(args)
    print(json.dumps(result, sort_keys=True))


if __name__ == "__main__":
    main()
