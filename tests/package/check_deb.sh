#!/usr/bin/env bash
# Checks the .deb that `make package` built (run by `make package-test`): it is one package under 10 MB with both
# programs, the man page, the desktop entry and the icons, at the workspace version; unpacked into a scratch root
# with `dpkg -x` (nothing is installed on this machine), the installed `auditlens` prints that version, seals and
# verifies an archive, refuses it under another key, and upgrades a store written by the previous release
# (tests/fixtures/stores/) after copying it; the installed app starts under Xvfb and shows its window.
set -euo pipefail
cd "$(dirname "$0")/../.."

fail() { echo "check_deb: FAIL: $*" >&2; exit 1; }
ok() { echo "check_deb: ok: $*"; }

shopt -s nullglob
debs=(target/release/bundle/deb/*.deb)
[ "${#debs[@]}" = 1 ] || fail "expected exactly one .deb in target/release/bundle/deb, found ${#debs[@]} (run make package)"
deb=${debs[0]}
version=$(sed -n '/^\[workspace.package\]/,/^\[/s/^version = "\(.*\)"/\1/p' Cargo.toml)
[ -n "$version" ] || fail "no workspace version in Cargo.toml"

size=$(stat -c %s "$deb")
max=10000000
[ "$size" -lt "$max" ] || fail "$deb is $size bytes, over $max"
ok "$deb: $size bytes (< $max)"

[ "$(dpkg-deb -f "$deb" Version)" = "$version" ] || fail "package version $(dpkg-deb -f "$deb" Version), workspace $version"
package=$(dpkg-deb -f "$deb" Package)
ok "package $package $version"

scratch=$(mktemp -d)
trap 'rm -rf "$scratch"' EXIT
root=$scratch/root
dpkg -x "$deb" "$root"

for f in usr/bin/auditlens usr/bin/auditlens-app; do
  [ -x "$root/$f" ] || fail "/$f missing or not executable"
done
[ -f "$root/usr/share/man/man1/auditlens.1" ] || fail "no man page"
desktop=("$root"/usr/share/applications/*.desktop)
[ "${#desktop[@]}" = 1 ] || fail "expected one desktop entry, found ${#desktop[@]}"
grep -q '^Exec=auditlens-app' "${desktop[0]}" || fail "the desktop entry does not start auditlens-app"
icons=("$root"/usr/share/icons/hicolor/*/apps/*.png)
[ "${#icons[@]}" -ge 2 ] || fail "expected icons under /usr/share/icons/hicolor, found ${#icons[@]}"
ok "both programs, man page, $(basename "${desktop[0]}"), ${#icons[@]} icons"

cli=$root/usr/bin/auditlens
[ "$("$cli" --version)" = "auditlens $version" ] || fail "auditlens --version says '$("$cli" --version)'"
ok "auditlens --version: auditlens $version"

# Every command of --help is described in the man page.
commands=$("$cli" --help | sed -n '/^Commands:/,/^$/p' | awk 'NR > 1 && $1 != "help" && NF {print $1}')
[ -n "$commands" ] || fail "no commands in auditlens --help"
for c in $commands; do
  grep -q "^\.B ${c//-/\\\\-}\$" "$root/usr/share/man/man1/auditlens.1" || fail "the man page does not describe '$c'"
done
ok "the man page describes every command:" $commands

# Seal a fixture log with the installed CLI, verify it with its key (exit 0) and with another key (exit 1).
work=$scratch/work
mkdir -p "$work"
"$cli" keygen --name pkg-test --out "$work/keys" >/dev/null
"$cli" keygen --name other --out "$work/keys" >/dev/null
"$cli" seal --key "$work/keys/pkg-test.key" --origin pkg.auditlens.dev/k8s --out "$work/k8s-1.zip" \
  tests/fixtures/logs/k8s_audit/audit2rbac/demo.log >/dev/null
"$cli" verify --trust "$work/keys/pkg-test.pub" "$work/k8s-1.zip" >"$work/verify.out" ||
  fail "verify of a sealed fixture archive: exit $? $(cat "$work/verify.out")"
grep -q 'verified' "$work/verify.out" || fail "verify did not say verified: $(cat "$work/verify.out")"
set +e
"$cli" verify --trust "$work/keys/other.pub" "$work/k8s-1.zip" >/dev/null 2>&1
rc=$?
set -e
[ "$rc" = 1 ] || fail "verify under another key: exit $rc, expected 1"
ok "installed auditlens seals and verifies (exit 0), and refuses another key (exit 1)"

# A store written by the previous release: upgraded with a backup copy, every event kept.
fixture=tests/fixtures/stores/v8-k8s-cloudtrail.db
cp "$fixture" "$work/old.db"
count=$("$cli" search --db "$work/old.db" --count 2>"$work/upgrade.err")
[ "$count" = 58 ] || fail "the upgraded store counts '$count' events, expected 58"
grep -q 'backup-v8' "$work/upgrade.err" || fail "the CLI did not say it upgraded: $(cat "$work/upgrade.err")"
cmp -s "$fixture" "$work/old.db.backup-v8" || fail "the backup copy differs from the old store"
ok "installed auditlens upgrades a store of the previous release (backup copy, 58 events)"

# The installed app under Xvfb: its window appears, it opens its database, and it does not panic.
cat >"$scratch/start_app.sh" <<'EOF'
set -u
"$1" --db "$2" >"$3" 2>&1 &
pid=$!
for _ in $(seq 1 120); do
  if xwininfo -root -tree 2>/dev/null | grep -q '"AuditLens"'; then
    sleep 5
    kill -0 "$pid" 2>/dev/null || { echo "the app exited after showing its window"; exit 1; }
    kill "$pid"; wait "$pid" 2>/dev/null
    exit 0
  fi
  kill -0 "$pid" 2>/dev/null || { echo "the app exited before showing a window"; exit 1; }
  sleep 0.5
done
echo "no AuditLens window after 60 s"
kill "$pid"
exit 1
EOF
export HOME=$scratch/home XDG_DATA_HOME=$scratch/home/.local/share XDG_CONFIG_HOME=$scratch/home/.config
mkdir -p "$HOME"
xvfb-run -a -s "-screen 0 1280x800x24" bash "$scratch/start_app.sh" "$root/usr/bin/auditlens-app" \
  "$work/app.db" "$work/app.log" || fail "the app under Xvfb: $(cat "$work/app.log")"
if grep -q 'panicked' "$work/app.log"; then fail "the app panicked: $(cat "$work/app.log")"; fi
[ -f "$work/app.db" ] || fail "the app did not create its database"
ok "installed auditlens-app shows its window under Xvfb and creates its database"
echo "check_deb: all checks passed ($deb, $size bytes)"
