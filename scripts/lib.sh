# Shared set-up steps for scripts/demo and scripts/test. Each step installs
# only what is missing, so running a script twice costs nothing extra.

# The Debian packages the build and the tests need: libclang for xmlsec's
# bindings, the libxml2/libxmlsec1 headers, pkg-config, the xmlsec1 tool
# that tests use as an independent signature verifier, and Apache with
# mod_auth_openidc, mod_auth_mellon and the Shibboleth SP 3 (mod_shib and
# its shibd daemon), the real OpenID Connect relying party and SAML service
# providers the OIDC and SAML checks are run against
# (tests/mockta/interop_openidc.rs, tests/mockta/interop_mellon.rs,
# tests/mockta/interop_shibboleth.rs), and Chromium with its driver, the
# browser the web console's test clicks through (tests/mockta/ui_browser.rs).
SYSTEM_PACKAGES=(libclang-dev libxml2-dev libxmlsec1-dev libssl-dev pkg-config xmlsec1 apache2 libapache2-mod-auth-openidc libapache2-mod-auth-mellon libapache2-mod-shib chromium chromium-driver)

as_root() {
    if [ "$(id -u)" -eq 0 ]; then "$@"; else sudo "$@"; fi
}

# Every set-up step prints one line; what apt, pip and npm print goes to this
# log, which is shown only when a step fails.
SETUP_LOG=.local/setup.log

# Runs "$@" with its output in the set-up log; on failure, shows the end of
# the log and stops the script.
quietly() {
    mkdir -p "$(dirname "$SETUP_LOG")"
    if ! "$@" >>"$SETUP_LOG" 2>&1; then
        echo "failed: $* (the end of $SETUP_LOG follows)" >&2
        tail -n 60 "$SETUP_LOG" >&2
        exit 1
    fi
}

# Installs Debian packages, refreshing the package lists at most once per
# script run however many steps need packages.
APT_LISTS_FRESH=0
apt_install() {
    if [ "$APT_LISTS_FRESH" -eq 0 ]; then
        quietly as_root apt-get update -qq
        APT_LISTS_FRESH=1
    fi
    # Packages such as apache2 start their service when installed; the tests
    # start their own servers on free ports, so a policy-rc.d that says "not
    # now" keeps a system Apache off port 80 while apt runs.
    local added_policy=0
    if [ ! -e /usr/sbin/policy-rc.d ]; then
        as_root sh -c 'printf "#!/bin/sh\nexit 101\n" > /usr/sbin/policy-rc.d && chmod 755 /usr/sbin/policy-rc.d'
        added_policy=1
    fi
    quietly as_root env DEBIAN_FRONTEND=noninteractive apt-get install -y -qq "$@"
    if [ "$added_policy" -eq 1 ]; then
        as_root rm -f /usr/sbin/policy-rc.d
    fi
}

ensure_system_packages() {
    local missing=()
    for package in "${SYSTEM_PACKAGES[@]}"; do
        dpkg-query -W -f='${Status}' "$package" 2>/dev/null | grep -q "install ok installed" || missing+=("$package")
    done
    if [ "${#missing[@]}" -gt 0 ]; then
        echo "== system packages: installing ${missing[*]}"
        apt_install "${missing[@]}"
    else
        echo "== system packages: present"
    fi
}

# pysaml2, Authlib and okta-jwt-verifier, the Python SAML and OpenID Connect
# libraries the interop tests run against the mock, Okta's Python management
# SDK (okta), which tests/mockta/interop_okta_sdk.rs drives against the
# mock's management API, and Django with django-scim2, the third-party SCIM
# server the mock provisions, and PyYAML, with which
# tests/mockta/ci_recipe.rs reads the CI recipes in docs/ci/, go into
# .local/venv so nothing is installed system-wide. The copy of
# requirements.txt kept in the venv tells whether the pins changed since the
# last install.
ensure_python_env() {
    local venv=.local/venv
    local stamp="$venv/.requirements"
    if [ -x "$venv/bin/python" ] && cmp -s tests/interop/requirements.txt "$stamp"; then
        echo "== Python test dependencies: present in $venv"
        return
    fi
    echo "== Python test dependencies: installing into $venv"
    if ! python3 -m venv --help >/dev/null 2>&1; then
        apt_install python3 python3-venv
    fi
    quietly python3 -m venv "$venv"
    quietly "$venv/bin/pip" install --quiet --disable-pip-version-check -r tests/interop/requirements.txt
    cp tests/interop/requirements.txt "$stamp"
}

# openid-client and @okta/jwt-verifier, the Node.js OpenID Connect libraries
# the interop tests run against the mock, and Okta's Node.js management SDK
# (@okta/okta-sdk-nodejs), go into .local/node so nothing is
# installed globally. npm ci installs exactly what package-lock.json pins, and
# the copy of the lock kept beside node_modules tells whether the pins changed
# since the last install. The scripts in tests/interop load their modules from
# .local/node/node_modules by a path relative to themselves.
ensure_node_env() {
    local prefix=.local/node
    local stamp="$prefix/.package-lock"
    if [ -d "$prefix/node_modules" ] && cmp -s tests/interop/package-lock.json "$stamp"; then
        echo "== Node.js test dependencies: present in $prefix"
        return
    fi
    echo "== Node.js test dependencies: installing into $prefix"
    if ! command -v node >/dev/null 2>&1 || ! command -v npm >/dev/null 2>&1; then
        apt_install nodejs npm
    fi
    mkdir -p "$prefix"
    cp tests/interop/package.json tests/interop/package-lock.json "$prefix/"
    # npm ci starts from an empty node_modules, so a package dropped from the
    # lock does not linger; audit and funding notices are only noise here.
    quietly bash -c "cd '$prefix' && npm ci --silent --no-audit --no-fund"
    cp tests/interop/package-lock.json "$stamp"
}

# playwright-core, the library the web console's browser test drives
# Debian's Chromium with (it downloads no browser of its own), goes into
# .local/node/browser, apart from .local/node's own npm ci, which would
# remove it. Pinned by tests/interop/browser/package-lock.json; the copy of
# the lock kept beside node_modules tells whether the pin changed.
ensure_browser_env() {
    local prefix=.local/node/browser
    local stamp="$prefix/.package-lock"
    if [ -d "$prefix/node_modules" ] && cmp -s tests/interop/browser/package-lock.json "$stamp"; then
        echo "== browser test dependencies: present in $prefix"
        return
    fi
    echo "== browser test dependencies: installing into $prefix"
    mkdir -p "$prefix"
    cp tests/interop/browser/package.json tests/interop/browser/package-lock.json "$prefix/"
    quietly bash -c "cd '$prefix' && npm ci --silent --no-audit --no-fund"
    cp tests/interop/browser/package-lock.json "$stamp"
}
