#!/usr/bin/env bash
# Builds the Debian package of this checkout and prints its path:
#   packaging/deb/build-deb.sh [OUTDIR]          (default OUTDIR: the current directory)
# The package holds a production install: the tracked package.json, lock file and bin/, the TypeScript compiled
# afresh, `npm ci --omit=dev` with better-sqlite3 compiled here against this machine's Node headers, pruned of
# what nothing reads at run time. Needs git, node and npm (20 or later), dpkg-dev and binutils; compiling the
# TypeScript needs the dev dependencies, installed with `npm ci` when missing.
set -euo pipefail

here=$(cd "$(dirname "$0")" && pwd)
root=$(cd "$here/../.." && pwd)
outdir=$(realpath -m "${1:-.}")
mkdir -p "$outdir"

for tool in git node npm dpkg-deb dpkg-shlibdeps strip; do
  command -v "$tool" >/dev/null || { echo "build-deb: $tool is missing (apt-get install git dpkg-dev binutils; Node 20+)" >&2; exit 1; }
done
node_major=$(node -p 'process.versions.node.split(".")[0]')
if [ "$node_major" -lt 20 ]; then
  echo "build-deb: sgw needs Node 20 or later; this is $(node --version)" >&2
  exit 1
fi
arch=$(dpkg --print-architecture)
if [ "$arch" != amd64 ]; then
  echo "build-deb: better-sqlite3 is native, so the amd64 package is built on amd64, not $arch" >&2
  exit 1
fi

version=$(node -p "require('$root/package.json').version")
debversion="$version-1"
# Reproducible dates in the changelog, the man pages and the archive: those of the commit being packaged.
SOURCE_DATE_EPOCH=$(git -C "$root" log -1 --format=%ct 2>/dev/null || date +%s)
export SOURCE_DATE_EPOCH
maintainer=$(sed -n 's/^Maintainer: //p' "$here/control")

work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT
pkg="$work/pkg"
app="$pkg/usr/lib/sgw"
mkdir -p "$app"

# Tracked files only: nothing a developer has lying around in the work tree gets in.
git -C "$root" ls-files -z -- package.json package-lock.json bin | (cd "$root" && xargs -0 cp --parents -t "$app")

[ -x "$root/node_modules/.bin/tsc" ] || (cd "$root" && npm ci --no-audit --no-fund >&2)
# Compiled into the package rather than copied from dist/: no stale output of deleted sources, no source maps.
(cd "$root" && node_modules/.bin/tsc -p tsconfig.json --outDir "$app/dist" --sourceMap false >&2)

# Native modules are compiled on this machine, not fetched prebuilt. better-sqlite3 (the only dependency with an
# install script) is taken from the checkout's own install when that was compiled here for the same version and
# the same Node ABI, and otherwise compiled afresh; node-gyp takes the headers of the installed Node.
built="$root/node_modules/better-sqlite3/build/Release/better_sqlite3.node"
want=$(node -p "require('$root/package-lock.json').packages['node_modules/better-sqlite3'].version")
have=$(node -p "try { require('$root/node_modules/better-sqlite3/package.json').version } catch { '' }")
if [ -f "$built" ] && [ "$want" = "$have" ] && node -e "process.dlopen({ exports: {} }, '$built')" 2>/dev/null; then
  (cd "$app" && npm ci --omit=dev --ignore-scripts --no-audit --no-fund --loglevel=error >&2)
  install -D -m 0644 "$built" "$app/node_modules/better-sqlite3/build/Release/better_sqlite3.node"
else
  export npm_config_build_from_source=true
  [ -f /usr/include/node/node_version.h ] && export npm_config_nodedir=/usr
  (cd "$app" && npm ci --omit=dev --no-audit --no-fund --loglevel=error >&2)
fi
"$root/node_modules/.bin/oclif" manifest "$app" >&2

# Pruning: build intermediates and sources of the native module, type declarations, docs, repository files.
sqlite="$app/node_modules/better-sqlite3"
find "$sqlite/build" -mindepth 1 -not -path "$sqlite/build/Release" -not -path "$sqlite/build/Release/better_sqlite3.node" -delete
rm -rf "$sqlite/deps" "$sqlite/src" "$app/node_modules/.bin" "$app/node_modules/.package-lock.json"
find "$app/node_modules" -type f \( -name '*.d.ts' -o -name '*.d.mts' -o -name '*.d.cts' -o -name '*.map' -o -name '*.md' \
  -o -name '*.markdown' -o -name '.npmignore' -o -name '.gitignore' -o -name '.gitattributes' -o -name '.editorconfig' \
  -o -name '.eslintrc*' -o -name '.prettierrc*' -o -name '.travis.yml' -o -name '.jshintrc' -o -name 'tsconfig.json' \) -delete
find "$app/node_modules" -depth -type d \( -name '.github' -o -name '.vscode' -o -name test -o -name tests -o -name __tests__ \
  -o -name example -o -name examples -o -name benchmark -o -name benchmarks -o -name docs \) -exec rm -rf {} +
find "$app/node_modules" -type f -name '*.html' -delete
find "$app/node_modules" -depth -type d -empty -delete
find "$app/node_modules" -type f -name '*.node' -exec strip --strip-unneeded --remove-section=.comment --remove-section=.note {} +

mkdir -p "$pkg/usr/bin" "$pkg/usr/lib/systemd/system" "$pkg/etc/sgw" "$pkg/usr/share/doc/sgw" \
  "$pkg/usr/share/bash-completion/completions" "$pkg/usr/share/man/man1" "$pkg/usr/share/man/man8"
ln -s ../lib/sgw/bin/sgw.js "$pkg/usr/bin/sgw"
ln -s ../lib/sgw/bin/sgwd.js "$pkg/usr/bin/sgwd"
cp "$root/packaging/systemd/sgwd.service" "$pkg/usr/lib/systemd/system/sgwd.service"
cp "$here/sgwd.env" "$pkg/etc/sgw/sgwd.env"

node "$here/render-docs.mjs" "$app" "$work/docs" >&2
cp "$work/docs/sgw.bash-completion" "$pkg/usr/share/bash-completion/completions/sgw"
gzip -9n <"$work/docs/sgw.1" >"$pkg/usr/share/man/man1/sgw.1.gz"
gzip -9n <"$work/docs/sgwd.8" >"$pkg/usr/share/man/man8/sgwd.8.gz"
{
  cat "$here/copyright"
  (cd "$app" && node -e '
    const { readdirSync, readFileSync, existsSync } = require("node:fs");
    const seen = [];
    const walk = (dir) => {
      for (const name of readdirSync(dir).sort()) {
        if (name.startsWith(".")) continue;
        const at = `${dir}/${name}`;
        if (name.startsWith("@")) { walk(at); continue; }
        if (!existsSync(`${at}/package.json`)) continue;
        const p = JSON.parse(readFileSync(`${at}/package.json`, "utf8"));
        if (p.name && p.version) seen.push(`   ${p.name} ${p.version}: ${p.license ?? "see its license file"}`);
        if (existsSync(`${at}/node_modules`)) walk(`${at}/node_modules`);
      }
    };
    walk("node_modules");
    console.log([...new Set(seen)].sort().join("\n"));')
} >"$pkg/usr/share/doc/sgw/copyright"
printf 'sgw (%s) unstable; urgency=medium\n\n  * sgw %s, packaged from its own source tree.\n\n -- %s  %s\n' \
  "$debversion" "$version" "$maintainer" "$(date -u -R -d "@$SOURCE_DATE_EPOCH")" | gzip -9n >"$pkg/usr/share/doc/sgw/changelog.Debian.gz"

# Modes as dh_fixperms leaves them: scripts (a #! line) executable, everything else not.
find "$pkg" -type d -exec chmod 0755 {} +
find "$pkg" -type f -exec chmod 0644 {} +
# grep -l also names files with a #! line further down; the loop keeps those that start with one.
{ find "$pkg" -type f -exec grep -lZ --max-count=1 '^#!' {} + || true; } | while IFS= read -r -d '' file; do
  if [ "$(head -c 2 "$file")" = '#!' ]; then chmod 0755 "$file"; fi
done

mkdir -p "$pkg/DEBIAN"
for script in postinst prerm postrm; do install -m 0755 "$here/$script" "$pkg/DEBIAN/$script"; done
echo /etc/sgw/sgwd.env >"$pkg/DEBIAN/conffiles"
mkdir -p "$work/shlibs/debian"
touch "$work/shlibs/debian/control"
mapfile -t natives < <(find "$app" -type f -name '*.node')
# The V8 and Node symbols a module takes from the node process are not in any library: not a missing dependency.
shlibs=$(cd "$work/shlibs" && dpkg-shlibdeps -O "${natives[@]}" 2>/dev/null | sed -n 's/^shlibs:Depends=//p')
[ -n "$shlibs" ] || { echo "build-deb: dpkg-shlibdeps found no library dependencies" >&2; exit 1; }
# better-sqlite3 is built for the ABI of this Node major; Node refuses to load it into another major.
nodejs="nodejs (>= $node_major), nodejs (<< $((node_major + 1)))"
installed_size=$(du -sk --apparent-size --exclude=DEBIAN "$pkg" | cut -f1)
sed -e "s/@VERSION@/$debversion/" -e "s/@INSTALLED_SIZE@/$installed_size/" -e "s/@NODEJS_DEPENDS@/$nodejs/" \
  -e "s/@SHLIBS_DEPENDS@/$shlibs/" "$here/control" >"$pkg/DEBIAN/control"
(cd "$pkg" && find . -path ./DEBIAN -prune -o -path ./etc -prune -o -type f -printf '%P\0' | LC_ALL=C sort -z | xargs -0 md5sum) >"$pkg/DEBIAN/md5sums"

deb="$outdir/sgw_${debversion}_${arch}.deb"
dpkg-deb --root-owner-group -Zxz --build "$pkg" "$deb" >&2
echo "$deb"
