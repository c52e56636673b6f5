# Sourced (from the repository root) by the tests/cli/test_browser*.sh wrappers: finds chromium
# (sets CHROMIUM), checks node and installs playwright-core from package-lock.json when
# node_modules is missing. Without chromium: exit 1 in CI (a failure), exit 0 with SKIP elsewhere.
CHROMIUM=${CHROMIUM:-$(command -v chromium || command -v chromium-browser || true)}
if [ -z "$CHROMIUM" ]; then
    # CI installs chromium (tools/install_deps.sh): there a missing browser is a failure
    if [ -n "${CI:-}" ]; then echo "FAIL: chromium is not installed"; echo "0 passed, 1 failed"; exit 1; fi
    echo "SKIP: chromium is not installed (apt-get install -y chromium); the browser test did not run"
    exit 0
fi
command -v node >/dev/null || { echo "FAIL: node is required"; echo "0 passed, 1 failed"; exit 1; }
if [ ! -d tests/browser/node_modules/playwright-core ]; then
    (cd tests/browser && npm ci --no-audit --no-fund --silent) || { echo "FAIL: npm ci in tests/browser"; echo "0 passed, 1 failed"; exit 1; }
fi
