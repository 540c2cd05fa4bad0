#!/usr/bin/env python3
"""A headless OpenID Connect relying party built on Authlib and okta-jwt-verifier,
used by mockta's interop tests against the mock.

Usage (from the repository root, with the venv that scripts/lib.sh builds):
  .local/venv/bin/python tests/interop/oidc_authlib.py --issuer URL --client-id ID
      [--client-secret S] --redirect-uri URI --login-hint LOGIN [--audience AUD]
      [--scope "openid profile email"] [--rotate-url URL --api-token TOKEN]

It discovers the issuer, builds an authorization request with Authlib's
OAuth2Session (code flow, PKCE S256, state, nonce, login_hint), fetches it
without following redirects the way a browser with a live session would, and
hands the redirect it gets back to OAuth2Session.fetch_token, which checks
state and redeems the code with the code_verifier (client_secret_basic with
--client-secret, a public client otherwise). Authlib's own ID token check,
OpenIDMixin.parse_id_token, then verifies the signature against the keys at
jwks_uri and the iss, aud, exp, iat, nonce and at_hash claims. With
--audience, okta_jwt_verifier.AccessTokenVerifier verifies the access token.
With --rotate-url, the signing keys are rotated through the mock's API and a
second sign-in runs with the same session, key cache and verifier, so both
must pick up the new key on their own.

Prints exactly one JSON object on stdout and exits 0 whenever it reaches a
verdict:
  {"ok": true, "id_token_claims": {...}, "access_token_claims": {...} | null,
   "after_rotation": null | {"ok": ..., "id_token_claims": ..., ...}}
  {"ok": false, "stage": "authorize" | "callback" | "id_token" | "access_token" | "rotate",
   "error": "<class>: <message>"}
It exits 2 on usage errors and 1 on crashes that are not a verdict.
"""
import argparse
import asyncio
import json
import logging
import sys
import warnings
from urllib.parse import parse_qsl, urljoin, urlsplit

import requests
from authlib.common.security import generate_token
from authlib.integrations.base_client import OAuthError
from authlib.integrations.base_client.sync_openid import OpenIDMixin
from authlib.integrations.requests_client import OAuth2Session
from okta_jwt_verifier import AccessTokenVerifier, JWTUtils
from okta_jwt_verifier import jwt_verifier as okta_jwt_verifier_module
from okta_jwt_verifier.config_validator import ConfigValidator

# The test reads stdout as a single JSON object, so library logging and
# deprecation warnings go to stderr, where they still help debugging.
logging.basicConfig(level=logging.WARNING, stream=sys.stderr)
warnings.simplefilter("default")

TIMEOUT_SECONDS = 30

# No clock skew is allowed, so a token that is expired or not yet valid is
# rejected rather than tolerated. Authlib's parse_id_token would allow 120
# seconds and okta-jwt-verifier 120 as well; openid-client allows none, and
# both interop scripts should give the same verdict on the same token.
LEEWAY_SECONDS = 0


class StageError(Exception):
    """A failure at a known stage of the flow; it becomes {"ok": false, ...}."""

    def __init__(self, stage, cause, note=""):
        super().__init__(f"{type(cause).__name__}: {cause}{note}")
        self.stage = stage


class HttpIssuerConfigValidator(ConfigValidator):
    """okta-jwt-verifier's config check with its HTTPS rule turned off.

    okta-jwt-verifier 0.5.0 has no public switch for http:// issuers: every
    verifier's constructor calls ConfigValidator(config).validate_config(),
    which calls validate_issuer() with its https_check parameter left at
    True, so an http:// issuer raises JWTInvalidConfigException. The
    parameter exists but nothing lets a caller pass it, so this subclass
    passes https_check=False and is put in the verifier module's place for
    ConfigValidator; every other check of the issuer still runs.
    """

    def validate_issuer(self, issuer=None, https_check=True):
        super().validate_issuer(issuer, https_check=False)


class Provider(OpenIDMixin):
    """The discovered provider plus Authlib's own ID token check.

    OpenIDMixin is what Authlib's Flask, Django and Starlette clients use to
    validate ID tokens: it imports the key set from jwks_uri with joserfc,
    caches it, fetches it again when a token names an unknown kid, and checks
    the claims with authlib.oidc.core.CodeIDToken. It needs only the client
    id, the discovery metadata and a way to make HTTP requests, given here.
    """

    def __init__(self, issuer, client_id):
        self.client_id = client_id
        with requests.get(
            issuer.rstrip("/") + "/.well-known/openid-configuration",
            timeout=TIMEOUT_SECONDS,
        ) as response:
            response.raise_for_status()
            self.server_metadata = response.json()
        # OpenID Connect Discovery 1.0 section 4.3: the issuer in the
        # document must be exactly the one asked for.
        if self.server_metadata.get("issuer") != issuer:
            raise ValueError(
                f"discovery document names issuer {self.server_metadata.get('issuer')}, expected {issuer}"
            )

    def load_server_metadata(self):
        return self.server_metadata

    def _get_session(self):
        return OAuth2Session(default_timeout=TIMEOUT_SECONDS)

    def parse_id_token(self, token, nonce):
        return super().parse_id_token(
            token,
            nonce,
            # Authlib checks iss by default but aud only through azp, so the
            # audience must be named to be checked exactly.
            claims_options={
                "iss": {"essential": True, "values": [self.server_metadata["issuer"]]},
                "aud": {"essential": True, "values": [self.client_id]},
            },
            leeway=LEEWAY_SECONDS,
        )


def parse_args(argv):
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--issuer", required=True)
    parser.add_argument("--client-id", required=True)
    parser.add_argument("--client-secret")
    parser.add_argument("--redirect-uri", required=True)
    parser.add_argument("--login-hint", required=True)
    parser.add_argument("--audience")
    parser.add_argument("--scope", default="openid profile email")
    parser.add_argument("--rotate-url")
    parser.add_argument("--api-token")
    args = parser.parse_args(argv)
    if bool(args.rotate_url) != bool(args.api_token):
        parser.error("--rotate-url and --api-token go together")
    return args


def make_session(args):
    return OAuth2Session(
        client_id=args.client_id,
        client_secret=args.client_secret,
        token_endpoint_auth_method="client_secret_basic" if args.client_secret else "none",
        scope=args.scope,
        redirect_uri=args.redirect_uri,
        code_challenge_method="S256",
        default_timeout=TIMEOUT_SECONDS,
    )


def make_verifier(args):
    if args.issuer.startswith("http://"):
        okta_jwt_verifier_module.ConfigValidator = HttpIssuerConfigValidator
    return AccessTokenVerifier(issuer=args.issuer, audience=args.audience, leeway=LEEWAY_SECONDS)


async def sign_in(args, provider, session, verifier):
    """One complete sign-in; returns the claims or raises StageError."""
    metadata = provider.load_server_metadata()
    code_verifier = generate_token(48)
    nonce = generate_token(20)
    try:
        url, state = session.create_authorization_url(
            metadata["authorization_endpoint"],
            code_verifier=code_verifier,
            nonce=nonce,
            login_hint=args.login_hint,
        )
        # The browser's part: one GET, and the redirect is not followed.
        with requests.get(url, allow_redirects=False, timeout=TIMEOUT_SECONDS) as response:
            location = response.headers.get("Location")
            if not response.is_redirect or not location:
                raise RuntimeError(
                    f"authorization endpoint answered HTTP {response.status_code} without a redirect: "
                    f"{response.text[:300]}"
                )
        callback_url = urljoin(url, location)
    except Exception as error:
        raise StageError("authorize", error) from error

    try:
        # Authlib's web framework clients turn an error redirect into
        # OAuthError before fetching a token; OAuth2Session leaves it to them.
        params = dict(parse_qsl(urlsplit(callback_url).query))
        if "error" in params:
            raise OAuthError(error=params["error"], description=params.get("error_description"))
        token = session.fetch_token(
            metadata["token_endpoint"],
            authorization_response=callback_url,
            state=state,
            code_verifier=code_verifier,
        )
    except Exception as error:
        raise StageError("callback", error) from error

    try:
        if "id_token" not in token:
            raise ValueError("the token response has no id_token")
        id_token_claims = dict(provider.parse_id_token(token, nonce))
    except Exception as error:
        raise StageError("id_token", error) from error

    access_token_claims = None
    if verifier is not None:
        try:
            await verifier.verify(token["access_token"])
            access_token_claims = JWTUtils.parse_token(token["access_token"])[1]
        except Exception as error:
            raise StageError("access_token", error) from error
    return {"ok": True, "id_token_claims": id_token_claims, "access_token_claims": access_token_claims}


def rotate_keys(args):
    with requests.post(
        args.rotate_url,
        headers={
            "Authorization": f"SSWS {args.api_token}",
            "Content-Type": "application/json",
            "Accept": "application/json",
        },
        data=json.dumps({"use": "sig"}),
        timeout=TIMEOUT_SECONDS,
    ) as response:
        if not 200 <= response.status_code <= 299:
            raise RuntimeError(f"key rotation answered HTTP {response.status_code}: {response.text[:300]}")


def failure(error):
    return {"ok": False, "stage": error.stage, "error": str(error)}


async def run(args):
    try:
        provider = Provider(args.issuer, args.client_id)
    except Exception as error:
        return failure(StageError("authorize", error))
    session = make_session(args)
    verifier = None
    if args.audience:
        try:
            verifier = make_verifier(args)
        except Exception as error:
            return failure(StageError("access_token", error))

    try:
        first = await sign_in(args, provider, session, verifier)
    except StageError as error:
        return failure(error)
    if not args.rotate_url:
        return {**first, "after_rotation": None}

    try:
        rotate_keys(args)
    except Exception as error:
        return failure(StageError("rotate", error))
    try:
        second = await sign_in(args, provider, session, verifier)
    except StageError as error:
        second = failure(error)
    return {**first, "after_rotation": second}


def main(argv):
    args = parse_args(argv)
    # One event loop for the whole run: okta-jwt-verifier's JWKS cache is
    # asynchronous and must outlive the first sign-in for the rotation check.
    verdict = asyncio.run(run(args))
    print(json.dumps(verdict))


if __name__ == "__main__":
    main(sys.argv[1:])
