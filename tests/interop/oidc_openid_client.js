#!/usr/bin/env node
/*
 * A headless OpenID Connect relying party built on openid-client and
 * @okta/jwt-verifier, used by mockta's interop tests against the mock.
 *
 * Usage (from the repository root):
 *   node tests/interop/oidc_openid_client.js --issuer URL --client-id ID
 *       [--client-secret S] --redirect-uri URI --login-hint LOGIN
 *       [--audience AUD] [--scope "openid profile email"]
 *       [--rotate-url URL --api-token TOKEN]
 *
 * It discovers the issuer, builds an authorization request (code flow, PKCE
 * S256, state, nonce, login_hint), fetches it without following redirects the
 * way a browser with a live session would, and hands the redirect it gets back
 * to openid-client, which checks state, redeems the code with the
 * code_verifier and validates the ID token. With --audience, the access token
 * then goes through @okta/jwt-verifier. With --rotate-url, the signing keys are
 * rotated through the mock's API and a second sign-in runs with the same
 * client and verifier, so both must pick up the new key on their own.
 *
 * Prints exactly one JSON object on stdout and exits 0 whenever it reaches a
 * verdict:
 *   {"ok": true, "id_token_claims": {...}, "access_token_claims": {...}|null,
 *    "after_rotation": null|{"ok": ..., "id_token_claims": ..., ...}}
 *   {"ok": false, "stage": "authorize"|"callback"|"id_token"|"access_token"|"rotate",
 *    "error": "<class>: <message>"}
 * It exits 2 on usage errors and 1 on crashes that are not a verdict.
 *
 * Modules: scripts/lib.sh (ensure_node_env) installs the exact versions in
 * tests/interop/package-lock.json into .local/node/node_modules. They are
 * loaded through createRequire() anchored at .local/node, found relative to
 * this file, so the script works from any working directory; NODE_PATH is
 * still searched after that, for modules installed somewhere else.
 *
 * Why openid-client 5 and not 6: version 6 (built on oauth4webapi) does not
 * check the signature of an ID token that comes from the token endpoint
 * unless enableNonRepudiationChecks() is turned on (oauth4webapi's
 * validateJwt() only decodes and checks claims; TLS is what it trusts there).
 * Version 5 always verifies it: Client#callback() calls
 * Client#validateIdToken(), whose validateJWT() looks the key up by kid in the
 * issuer's jwks_uri and runs jose.compactVerify() over the token. These tests
 * exist to catch a mock that signs badly, so they need the version that looks.
 * Version 5 also needs no switch for an http:// issuer: its HTTP helper picks
 * the http or https module by the URL's scheme and has no HTTPS-only rule.
 */
'use strict';

const http = require('http');
const https = require('https');
const path = require('path');
const { createRequire } = require('module');
const { parseArgs } = require('util');

const requireFromPrefix = createRequire(path.join(__dirname, '..', '..', '.local', 'node', 'package.json'));

function requireInstalled(name) {
    try {
        return requireFromPrefix(name);
    } catch (err) {
        if (err.code === 'MODULE_NOT_FOUND') {
            err.message += '\nrun ./scripts/test (its ensure_node_env installs the modules into .local/node) or set NODE_PATH';
        }
        throw err;
    }
}

const USAGE =
    'usage: node tests/interop/oidc_openid_client.js --issuer URL --client-id ID [--client-secret S] ' +
    '--redirect-uri URI --login-hint LOGIN [--audience AUD] [--scope SCOPE] [--rotate-url URL --api-token TOKEN] ' +
    '[--auth-method METHOD] [--par]';

// openid-client 5 fetches the JWKS again for an unknown kid only when its
// last fetch is more than a minute old (lib/helpers/issuer.js, queryKeyStore),
// so a sign-in right after a rotation to a key that was not yet published
// would fail on the library's throttle rather than on anything the mock did.
// (After a scheduled rotation the new key was published ahead as the next
// key, so it is already in the cached JWKS and no refetch happens at all.)
// Before the second sign-in, the clock the library reads (Date.now, which
// both its throttle and its exp check use) is moved on by this much, as if
// the rotation had happened a while after the first sign-in; the key is then
// found by the library's own unknown-kid refetch. Tokens live far longer than
// this, so the shift changes no other verdict.
const JWKS_REFETCH_THROTTLE_MS = 61 * 1000;

class UsageError extends Error {}

/** A failure at a known stage of the flow; it becomes {"ok": false, ...}. */
class StageError extends Error {
    constructor(stage, cause) {
        super(describe(cause));
        this.stage = stage;
    }
}

function describe(err) {
    if (err instanceof Error) {
        const name = err.constructor && err.constructor.name !== 'Error' ? err.constructor.name : err.name;
        return `${name}: ${err.message}`;
    }
    // jwks-rsa and njwt sometimes hand plain strings to their callbacks.
    return `Error: ${String(err)}`;
}

function parseCommandLine(argv) {
    let parsed;
    try {
        parsed = parseArgs({
            args: argv,
            options: {
                issuer: { type: 'string' },
                'client-id': { type: 'string' },
                'client-secret': { type: 'string' },
                'redirect-uri': { type: 'string' },
                'login-hint': { type: 'string' },
                audience: { type: 'string' },
                scope: { type: 'string', default: 'openid profile email' },
                'rotate-url': { type: 'string' },
                'api-token': { type: 'string' },
                // The token endpoint authentication method; by default
                // client_secret_basic with a secret and none without.
                'auth-method': { type: 'string' },
                // Push the authorization request to the PAR endpoint (RFC 9126)
                // and send only its request_uri through the browser.
                par: { type: 'boolean' },
                help: { type: 'boolean', short: 'h' },
            },
            strict: true,
            allowPositionals: false,
        }).values;
    } catch (err) {
        throw new UsageError(err.message);
    }
    if (parsed.help) {
        process.stdout.write(`${USAGE}\n`);
        process.exit(0);
    }
    for (const required of ['issuer', 'client-id', 'redirect-uri', 'login-hint']) {
        if (!parsed[required]) {
            throw new UsageError(`--${required} is required`);
        }
    }
    if (Boolean(parsed['rotate-url']) !== Boolean(parsed['api-token'])) {
        throw new UsageError('--rotate-url and --api-token go together');
    }
    return parsed;
}

/**
 * One plain HTTP request that never follows redirects, standing in for the
 * browser: the authorization request and the key rotation call go through it.
 */
function send(method, url, headers = {}, body = undefined) {
    return new Promise((resolve, reject) => {
        const target = new URL(url);
        const transport = target.protocol === 'https:' ? https : http;
        const payload = body === undefined ? undefined : Buffer.from(body, 'utf8');
        if (payload) {
            // A fixed length rather than chunked encoding, as curl and the
            // Okta SDKs send it.
            headers = { ...headers, 'Content-Length': String(payload.length) };
        }
        const request = transport.request(target, { method, headers, timeout: 30000 }, (response) => {
            const chunks = [];
            response.on('data', (chunk) => chunks.push(chunk));
            response.on('end', () =>
                resolve({
                    status: response.statusCode,
                    headers: response.headers,
                    body: Buffer.concat(chunks).toString('utf8'),
                }),
            );
            response.on('error', reject);
        });
        request.on('timeout', () => request.destroy(new Error(`request to ${url} timed out`)));
        request.on('error', reject);
        if (payload) {
            request.write(payload);
        }
        request.end();
    });
}

/**
 * Discovers the issuer and builds the client. Validation errors thrown from
 * inside validateIdToken are tagged, because callback() also throws for
 * state and token endpoint problems and the tests need to tell them apart.
 */
async function makeClient(options, openidClient) {
    const { Issuer } = openidClient;
    const issuer = await Issuer.discover(options.issuer);
    // OpenID Connect Discovery 1.0 section 4.3: the issuer in the document
    // must be exactly the one asked for. openid-client 5 does not check it.
    if (issuer.issuer !== options.issuer) {
        throw new Error(`discovery document names issuer ${issuer.issuer}, expected ${options.issuer}`);
    }

    class TaggingClient extends issuer.Client {
        async validateIdToken(...args) {
            try {
                return await super.validateIdToken(...args);
            } catch (err) {
                err.idTokenValidation = true;
                throw err;
            }
        }
    }

    const secret = options['client-secret'];
    return new TaggingClient({
        client_id: options['client-id'],
        ...(secret ? { client_secret: secret } : {}),
        redirect_uris: [options['redirect-uri']],
        response_types: ['code'],
        token_endpoint_auth_method: options['auth-method'] || (secret ? 'client_secret_basic' : 'none'),
        // Okta's discovery documents name no token_endpoint_auth_signing_alg_values_supported,
        // so openid-client needs the assertion algorithm from the client, as it does against Okta.
        ...(options['auth-method'] === 'client_secret_jwt' ? { token_endpoint_auth_signing_alg: 'HS256' } : {}),
        id_token_signed_response_alg: 'RS256',
    });
}

function makeVerifier(options, OktaJwtVerifier) {
    return new OktaJwtVerifier({
        issuer: options.issuer,
        // The library's documented test switch: it refuses http:// issuers
        // otherwise. It prints a warning to stderr, which stays out of stdout.
        testing: { disableHttpsCheck: true },
    });
}

/** One complete sign-in; returns the claims or throws a StageError. */
async function signIn(options, client, verifier, openidClient) {
    const { generators } = openidClient;
    const codeVerifier = generators.codeVerifier();
    const state = generators.state();
    const nonce = generators.nonce();

    const authorizationParams = {
        scope: options.scope,
        response_type: 'code',
        code_challenge: generators.codeChallenge(codeVerifier),
        code_challenge_method: 'S256',
        state,
        nonce,
        login_hint: options['login-hint'],
    };
    // Okta wants a client assertion's aud to be the URL of the endpoint it is
    // sent to; openid-client 5 names the issuer unless told otherwise. (The
    // PAR endpoint accepts the issuer, as RFC 9126 section 2 requires.)
    const assertionFor = (endpoint) =>
        (options['auth-method'] || '').endsWith('_jwt') ? { clientAssertionPayload: { aud: endpoint } } : {};

    let callbackUrl;
    try {
        let authorizationUrl;
        if (options.par) {
            const pushed = await client.pushedAuthorizationRequest(authorizationParams);
            authorizationUrl = client.authorizationUrl({ request_uri: pushed.request_uri });
        } else {
            authorizationUrl = client.authorizationUrl(authorizationParams);
        }
        const response = await send('GET', authorizationUrl);
        const location = response.headers.location;
        if (response.status < 300 || response.status > 399 || !location) {
            throw new Error(
                `authorization endpoint answered HTTP ${response.status} without a redirect: ${response.body.slice(0, 300)}`,
            );
        }
        callbackUrl = new URL(location, authorizationUrl).href;
    } catch (err) {
        throw new StageError('authorize', err);
    }

    let tokenSet;
    try {
        const params = client.callbackParams(callbackUrl);
        tokenSet = await client.callback(options['redirect-uri'], params, {
            response_type: 'code',
            state,
            nonce,
            code_verifier: codeVerifier,
        }, assertionFor(client.issuer.token_endpoint));
    } catch (err) {
        if (err.idTokenValidation) {
            const stageError = new StageError('id_token', err);
            stageError.message += ' (raised by openid-client Client#validateIdToken inside Client#callback)';
            throw stageError;
        }
        throw new StageError('callback', err);
    }
    const idTokenClaims = tokenSet.claims();

    let accessTokenClaims = null;
    if (verifier) {
        try {
            const jwt = await verifier.verifyAccessToken(tokenSet.access_token, options.audience);
            accessTokenClaims = { ...jwt.claims };
        } catch (err) {
            throw new StageError('access_token', err);
        }
    }
    return { ok: true, id_token_claims: idTokenClaims, access_token_claims: accessTokenClaims };
}

async function rotateKeys(options) {
    const response = await send(
        'POST',
        options['rotate-url'],
        {
            Authorization: `SSWS ${options['api-token']}`,
            'Content-Type': 'application/json',
            Accept: 'application/json',
        },
        JSON.stringify({ use: 'sig' }),
    );
    if (response.status < 200 || response.status > 299) {
        throw new Error(`key rotation answered HTTP ${response.status}: ${response.body.slice(0, 300)}`);
    }
}

function advanceLibraryClock(milliseconds) {
    const realNow = Date.now;
    Date.now = () => realNow.call(Date) + milliseconds;
}

function failure(err) {
    return { ok: false, stage: err.stage, error: err.message };
}

async function run(options) {
    const openidClient = requireInstalled('openid-client');
    const OktaJwtVerifier = requireInstalled('@okta/jwt-verifier');

    let client;
    try {
        client = await makeClient(options, openidClient);
    } catch (err) {
        return failure(new StageError('authorize', err));
    }
    let verifier = null;
    if (options.audience) {
        try {
            verifier = makeVerifier(options, OktaJwtVerifier);
        } catch (err) {
            return failure(new StageError('access_token', err));
        }
    }

    let first;
    try {
        first = await signIn(options, client, verifier, openidClient);
    } catch (err) {
        if (err instanceof StageError) return failure(err);
        throw err;
    }
    if (!options['rotate-url']) {
        return { ...first, after_rotation: null };
    }

    try {
        await rotateKeys(options);
    } catch (err) {
        return failure(new StageError('rotate', err));
    }
    advanceLibraryClock(JWKS_REFETCH_THROTTLE_MS);
    let second;
    try {
        second = await signIn(options, client, verifier, openidClient);
    } catch (err) {
        if (!(err instanceof StageError)) throw err;
        second = failure(err);
    }
    return { ...first, after_rotation: second };
}

async function main() {
    let options;
    try {
        options = parseCommandLine(process.argv.slice(2));
    } catch (err) {
        if (err instanceof UsageError) {
            process.stderr.write(`${err.message}\n${USAGE}\n`);
            process.exit(2);
        }
        throw err;
    }
    const verdict = await run(options);
    process.stdout.write(`${JSON.stringify(verdict)}\n`);
}

main().catch((err) => {
    process.stderr.write(`${err && err.stack ? err.stack : String(err)}\n`);
    process.exit(1);
});
