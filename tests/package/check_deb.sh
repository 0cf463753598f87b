#!/usr/bin/env bash
# Checks the .deb that `make package` built (run by `make package-test`): it is one package under 10 MB with both
# programs, the man page, the desktop entry and the icons, at the workspace version; unpacked into a scratch root
# with `dpkg -x` (nothing is installed on this machine), the installed `auditlens` prints that version, seals and
# verifies an archive, refuses it under another key, and upgrades a store written by the previous release
# (tests/fixtures/stores/) after copying it; the installed app is driven by WebDriver under Xvfb (first screen,
# About box, upgraded and refused stores); and a real dpkg install, upgrade and purge in a scratch root keeps every
# file of the auditor's.
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

# The installed app driven by WebDriver (tauri-driver + WebKitWebDriver under Xvfb, as the end-to-end tests drive
# the development build): its first screen, the About box at the package's version, a store of the previous release
# shown upgraded, a store of a newer release refused in the window and left unchanged (installed_app.test.mjs).
PATH="$HOME/.cargo/bin:$PATH" AUDITLENS_APP="$root/usr/bin/auditlens-app" AUDITLENS_VERSION="$version" \
  xvfb-run -a -s "-screen 0 1440x900x24" node --test --test-concurrency=1 tests/package/installed_app.test.mjs \
  >"$work/app.log" 2>&1 || fail "the installed app: $(tail -n 60 "$work/app.log")"
ok "installed auditlens-app: first screen, About $version, a previous store upgraded, a newer store refused (screenshots: target/e2e-screenshots/package-*.png)"

# A real dpkg install, upgrade and removal in a scratch root (dpkg --root, its own package database: nothing on this
# machine changes; --force-depends because the libraries the package depends on are on the host, not in the root).
# The "previous" package is this one relabelled with a lower version (its files are the same; what an upgrade does to
# a store written by the previous release is checked above with the committed fixture): what is checked here is what
# the package manager does on upgrade and removal to the auditor's files, which live in the home directory.
export HOME=$scratch/home XDG_DATA_HOME=$scratch/home/.local/share XDG_CONFIG_HOME=$scratch/home/.config
export XDG_CACHE_HOME=$scratch/cache
mkdir -p "$HOME"
dpkg_root=$scratch/dpkg-root
mkdir -p "$dpkg_root/var/lib/dpkg/info" "$dpkg_root/var/lib/dpkg/updates"
touch "$dpkg_root/var/lib/dpkg/status"
dpkg_in() { dpkg --force-not-root --root="$dpkg_root" --force-depends "$@" >>"$work/dpkg.log" 2>&1 || fail "dpkg $*: $(tail -n 20 "$work/dpkg.log")"; }
rm -rf "$scratch/prev"
dpkg-deb -R "$deb" "$scratch/prev"
sed -i "s/^Version: .*/Version: ${version}~prev/" "$scratch/prev/DEBIAN/control"
dpkg-deb -b "$scratch/prev" "$scratch/prev.deb" >/dev/null
dpkg_in -i "$scratch/prev.deb"
[ "$(dpkg-query --admindir="$dpkg_root/var/lib/dpkg" -W -f='${Version}' "$package")" = "${version}~prev" ] || fail "the previous package is not installed"
# The auditor's files as the previous install left them: the previous app, started once with `--trust`, saved the
# key to its keyring and created its default store; the settings choose an engagement store of the previous release
# elsewhere in the home directory.
data="$HOME/.local/share/dev.auditlens.app"
mkdir -p "$HOME/cases/acme"
"$dpkg_root/usr/bin/auditlens" keygen --name upgrade-test --out "$work/keys" >/dev/null
setsid xvfb-run -a -s "-screen 0 1280x800x24" "$dpkg_root/usr/bin/auditlens-app" --trust "$work/keys/upgrade-test.pub" \
  >"$work/prev-app.log" 2>&1 &
prev_app=$!
for _ in $(seq 1 120); do [ -s "$data/keyring.json" ] && [ -f "$data/auditlens.db" ] && break; sleep 0.5; done
sleep 2
kill -- -"$prev_app" 2>/dev/null || true
wait "$prev_app" 2>/dev/null || true
grep -q upgrade-test "$data/keyring.json" 2>/dev/null || fail "the previous app did not save its keyring: $(cat "$work/prev-app.log")"
rm -f "$data"/auditlens.db-wal "$data"/auditlens.db-shm
cp "$fixture" "$HOME/cases/acme/evidence.db"
printf '{\n  "db_path": "%s",\n  "theme": "dark",\n  "time_zone": "utc",\n  "columns": ["time", "actor"]\n}\n' \
  "$HOME/cases/acme/evidence.db" >"$data/settings.json"
before=$(cd "$HOME" && find . -type f -print0 | sort -z | xargs -0 sha256sum)
dpkg_in -i "$deb"
[ "$(dpkg-query --admindir="$dpkg_root/var/lib/dpkg" -W -f='${Version}' "$package")" = "$version" ] || fail "the upgrade did not install $version"
[ "$("$dpkg_root/usr/bin/auditlens" --version)" = "auditlens $version" ] || fail "the upgraded auditlens says $("$dpkg_root/usr/bin/auditlens" --version)"
[ "$(cd "$HOME" && find . -type f -print0 | sort -z | xargs -0 sha256sum)" = "$before" ] || fail "the upgrade changed the auditor's files"
[ "$("$dpkg_root/usr/bin/auditlens" search --db "$HOME/cases/acme/evidence.db" --count 2>/dev/null)" = 58 ] ||
  fail "the engagement store after the upgrade"
ok "dpkg upgrade ${version}~prev -> $version in a scratch root: the keyring, settings and stores unchanged by it; the engagement store opens (58 events)"
after_use=$(cd "$HOME" && find . -type f -print0 | sort -z | xargs -0 sha256sum)
dpkg_in --purge "$package"
[ ! -e "$dpkg_root/usr/bin/auditlens" ] && [ ! -e "$dpkg_root/usr/bin/auditlens-app" ] || fail "dpkg --purge left the programs"
[ "$(cd "$HOME" && find . -type f -print0 | sort -z | xargs -0 sha256sum)" = "$after_use" ] || fail "removing the package changed the auditor's files"
ok "dpkg --purge removes both programs and leaves the auditor's files"
echo "check_deb: all checks passed ($deb, $size bytes)"
