# Shared set-up steps for scripts/demo and scripts/test. Each step installs
# only what is missing, so running a script twice costs nothing extra.

# The Debian packages the build and the tests need: libclang for xmlsec's
# bindings, the libxml2/libxmlsec1 headers, pkg-config, and the xmlsec1 tool
# that tests use as an independent signature verifier.
SYSTEM_PACKAGES=(libclang-dev libxml2-dev libxmlsec1-dev libssl-dev pkg-config xmlsec1)

as_root() {
    if [ "$(id -u)" -eq 0 ]; then "$@"; else sudo "$@"; fi
}

ensure_system_packages() {
    local missing=()
    for package in "${SYSTEM_PACKAGES[@]}"; do
        dpkg-query -W -f='${Status}' "$package" 2>/dev/null | grep -q "install ok installed" || missing+=("$package")
    done
    if [ "${#missing[@]}" -gt 0 ]; then
        echo "Installing missing system packages: ${missing[*]}"
        as_root apt-get update -qq
        as_root env DEBIAN_FRONTEND=noninteractive apt-get install -y -qq "${missing[@]}"
    fi
}

# pysaml2, the Python SAML library the interop tests run against the mock,
# goes into .local/venv so nothing is installed system-wide.
ensure_python_env() {
    local venv=.local/venv
    local stamp="$venv/.requirements"
    if [ -x "$venv/bin/python" ] && cmp -s tests/interop/requirements.txt "$stamp"; then
        return
    fi
    if ! python3 -m venv --help >/dev/null 2>&1; then
        as_root apt-get update -qq
        as_root env DEBIAN_FRONTEND=noninteractive apt-get install -y -qq python3 python3-venv
    fi
    echo "Installing Python test dependencies into $venv"
    python3 -m venv "$venv"
    "$venv/bin/pip" install --quiet --disable-pip-version-check -r tests/interop/requirements.txt
    cp tests/interop/requirements.txt "$stamp"
}
