#!/usr/bin/env bash
# The Debian package as an admin gets it (label: package; ctest -L package): cpack on the existing build tree
# (no rebuild), its control data (name, version, resolved dependencies, conffile, maintainer scripts), the
# files it holds, and then the demo's steps run with the program extracted into a clean prefix, in a mount
# namespace where the source and build trees are hidden under empty tmpfs mounts — nothing but the package is
# reachable: init, the ingest daemon, storescu of the two sample studies of S014, studies, verify, recist on
# the sample reads, serve, and the UI's index.html and one JS asset fetched through the server. Also
# `cmake --install --prefix` (the same layout, nothing written to /etc) and `systemd-analyze verify` of the
# units when the tool is present.
set -euo pipefail
: "${RCY_SOURCE_DIR:?}" "${RCY_BUILD_DIR:?}"
export TCP_NODELAY=1

fail() { echo "FAIL: $*" >&2; exit 1; }
ok() { echo "ok - $*"; }
free_port() { python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1",0)); print(s.getsockname()[1]); s.close()'; }

# ---- phase 2, inside the namespace: the installed program alone ----
if [ "${1-}" = --installed ]; then
  ROOT=$2
  B=$ROOT/usr/bin/recistry
  cd "$WORK/run"
  for tree in "$RCY_SOURCE_DIR" "$RCY_BUILD_DIR"; do
    [ -z "$(ls -A "$tree" 2>/dev/null)" ] || fail "$tree is still visible in the namespace"
  done
  pids=()
  stop() { for p in "${pids[@]}"; do kill "$p" 2>/dev/null || true; done; wait 2>/dev/null || true; }
  trap stop EXIT

  # The shipped /etc/recistry/core.ini itself, only moved to this test's archive, ports and loopback.
  dicom_port=$(free_port)
  sed -e "s|^path = .*|path = $WORK/archive|" -e "s|^port = 11112$|port = $dicom_port|" \
      -e 's|^;bind = 0.0.0.0$|bind = 127.0.0.1|' -e 's|^port = 8080$|port = 0|' -e 's|^stable_age = 60$|stable_age = 1|' \
      "$ROOT/etc/recistry/core.ini" >core.ini
  grep -q "^port = $dicom_port" core.ini && grep -q '^port = 0' core.ini || fail "the shipped core.ini's keys moved"

  "$B" init --archive "$WORK/archive" >/dev/null || fail "init"
  "$B" ingest --config core.ini 2>ingest.log &
  pids+=($!)
  for _ in $(seq 100); do grep -q "ready: AE" ingest.log && break; sleep 0.1; done
  grep -q "ready: AE" ingest.log || { cat ingest.log >&2; fail "the installed daemon did not start"; }
  n=$(find "$WORK/samples/S014" -name '*.dcm' | wc -l)
  storescu -aet SITE014 -aec FFCD_CORE +sd +r 127.0.0.1 "$dicom_port" "$WORK/samples/S014" 2>storescu.log ||
    { cat storescu.log ingest.log >&2; fail "storescu to the installed daemon"; }
  # Both studies (BL, FU1) indexed with every instance, and checked once stable (stable_age = 1 s).
  for _ in $(seq 50); do
    "$B" studies --archive "$WORK/archive" --json >studies.json
    [ "$(jq '[.[] | select(.status != "receiving")] | length' studies.json)" = 2 ] && break
    sleep 0.2
  done
  jq -e --argjson n "$n" 'length == 2 and ([.[].instances] | add) == $n and all(.status != "receiving")' \
    studies.json >/dev/null || { cat studies.json >&2; fail "studies: 2 checked studies, $n instances"; }
  "$B" verify --archive "$WORK/archive" >/dev/null || fail "verify"
  ok "installed daemon: $n instances of 2 studies stored (storescu), indexed, checked; verify clean"

  "$B" recist "$WORK/samples/reads/central.json" >recist.json || fail "recist"
  [ "$(jq -r '.[] | select(.subject_id == "CIREL-014-0001") | .timepoints[-1].overall_response' recist.json)" = PR ] ||
    { cat recist.json >&2; fail "recist: CIREL-014-0001 (truth: partial_response) not PR at its last timepoint"; }
  ok "installed recist on the sample central reads: CIREL-014-0001 PR (its truth's scenario)"

  # A command that needs ITK: the installed program opens PREFIX/lib/recistry/recistry-imaging.so (the build
  # tree is hidden), whose NRRD writer writes the TARE phantom's label maps.
  "$B" sample --out "$WORK/tare" --tare --phantom accuracy >tare.log 2>&1 || { cat tare.log >&2; fail "sample --tare (imaging module)"; }
  [ -n "$(find "$WORK/tare" -name '*.nrrd' | head -1)" ] || fail "sample --tare wrote no NRRD label map"
  ok "installed imaging module: sample --tare wrote the label maps through ITK"

  # An explicit web_root that is not a built UI stops the server at start, naming the key.
  sed "s|^;web_root = .*|web_root = $WORK/no-ui|" core.ini >bad.ini
  if "$B" serve --config bad.ini >bad.out 2>bad.log; then fail "serve started on a missing web_root"; fi
  grep -q "\[http\] web_root $WORK/no-ui" bad.log || { cat bad.log >&2; fail "missing web_root: no clear message"; }

  "$B" serve --config core.ini >serve.out 2>serve.log &
  pids+=($!)
  for _ in $(seq 100); do grep -q '^listening on' serve.out && break; sleep 0.1; done
  url=$(sed -n 's/^listening on //p' serve.out)
  [ -n "$url" ] || { cat serve.log >&2; fail "the installed server did not start"; }
  web=$(readlink -f "$ROOT/usr/share/recistry/web")
  grep -qF "web UI from $web" serve.log || { cat serve.log >&2; fail "serve's log does not name the installed web root"; }
  curl -sf "$url" -o index.html || fail "GET / from the installed server"
  cmp -s index.html "$web/index.html" || fail "GET / is not the installed index.html"
  asset=$(sed -n 's|.*src="[./]*\(assets/[^"]*\.js\)".*|/\1|p' index.html | sed -n 1p)
  [ -n "$asset" ] || fail "no JS asset in index.html"
  curl -sf "${url%/}$asset" -o asset.js || fail "GET $asset"
  cmp -s asset.js "$web$asset" || fail "$asset differs from the installed file"
  ok "installed server: web UI from $web (log says so); / and $asset served byte for byte"
  exit 0
fi

# ---- phase 1: build the package and look at it ----
for tool in cpack dpkg-deb jq storescu curl strings; do
  command -v "$tool" >/dev/null || { echo "SKIP: $tool not installed"; exit 0; }
done
if grep -q '^RCY_SANITIZE:BOOL=ON' "$RCY_BUILD_DIR/CMakeCache.txt"; then
  echo "SKIP: the package is made from the release build, not a sanitizer build"; exit 0
fi
[ -f "$RCY_SOURCE_DIR/readers/web/dist/index.html" ] ||
  fail "the web UI is not built (scripts/build-ui.sh): the package needs it"
# Outside both trees, so that hiding them in phase 2 leaves this folder visible.
WORK=$(mktemp -d "${TMPDIR:-/tmp}/rcy-package_deb.XXXXXX")
export WORK
trap 'rc=$?; [ "${KEEP:-0}" = 1 ] || rm -rf "$WORK"; exit $rc' EXIT
cd "$WORK"

start_ms=$(date +%s%3N)
cpack --config "$RCY_BUILD_DIR/CPackConfig.cmake" -B "$WORK/pkg" >cpack.log 2>&1 || { cat cpack.log >&2; fail "cpack"; }
ms=$(( $(date +%s%3N) - start_ms ))
version=$(sed -n 's/^CMAKE_PROJECT_VERSION:STATIC=//p' "$RCY_BUILD_DIR/CMakeCache.txt")
deb=$WORK/pkg/recistry_${version}_$(dpkg --print-architecture).deb
[ -f "$deb" ] || { ls "$WORK/pkg" >&2; fail "no $(basename "$deb")"; }
ok "cpack: $(basename "$deb"), $(du -k "$deb" | cut -f1) KiB in $ms ms"

dpkg-deb -f "$deb" Package Version Depends >control.txt
grep -qx "Package: recistry" control.txt && grep -qx "Version: $version" control.txt || { cat control.txt; fail "name/version"; }
# dpkg-shlibdeps found the libraries' packages (DCMTK, ITK, SQLite, libmicrohttpd...), plus adduser.
for dep in adduser libdcmtk libsqlite3 libmicrohttpd libjansson libsodium libc6; do
  grep -q "^Depends:.*$dep" control.txt || { cat control.txt; fail "Depends lacks $dep"; }
done
[ "$(dpkg-deb --ctrl-tarfile "$deb" | tar -xO ./conffiles)" = /etc/recistry/core.ini ] || fail "conffiles"
dpkg-deb --ctrl-tarfile "$deb" | tar -tv >control.files
for script in postinst prerm postrm; do
  grep -q "^-rwxr-xr-x .* \./$script\$" control.files || { cat control.files >&2; fail "no executable $script"; }
done
# Every dependency resolves on this machine's package set (nothing installed: a simulation).
apt-get install --simulate -o Debug::NoLocking=1 "$deb" >apt.log 2>&1 || { cat apt.log >&2; fail "apt-get cannot resolve the package's dependencies"; }
grep -q '^Inst recistry ' apt.log || { cat apt.log >&2; fail "apt-get --simulate did not plan recistry"; }
ok "control: recistry $version, Depends resolve (apt-get --simulate), conffile /etc/recistry/core.ini, postinst/prerm"

ROOT=$WORK/root
dpkg-deb -x "$deb" "$ROOT"
for f in usr/bin/recistry usr/lib/recistry/recistry-imaging.so usr/lib/recistry/recistry-postgresql.so \
         usr/lib/recistry/recistry-render.so \
         usr/share/recistry/web/index.html usr/share/recistry/dose-thresholds.ini \
         usr/share/doc/recistry/README.md usr/share/doc/recistry/install.md usr/share/doc/recistry/ingest.md \
         usr/share/doc/recistry/examples/core.ini usr/share/doc/recistry/examples/core-postgresql.ini \
         usr/lib/systemd/system/recistry-ingest.service usr/lib/systemd/system/recistry-serve.service \
         etc/recistry/core.ini; do
  [ -e "$ROOT/$f" ] || fail "the package lacks /$f"
done
ls "$ROOT"/usr/share/recistry/web/assets/*.js >/dev/null 2>&1 || fail "the package lacks the UI's JS assets"
# No path of this machine's trees compiled in (the modules are found from the program's own path) (the build tree is inside or beside the source tree).
if strings -a "$ROOT/usr/bin/recistry" "$ROOT"/usr/lib/recistry/*.so | grep -F -e "$RCY_SOURCE_DIR" -e "$RCY_BUILD_DIR" >leaks.txt; then
  head leaks.txt >&2; fail "the installed binary holds build-machine paths"
fi
if grep -rlF -e "$RCY_SOURCE_DIR" -e "$RCY_BUILD_DIR" "$ROOT" >leaks.txt; then
  head leaks.txt >&2; fail "packaged files name build-machine paths"
fi
ok "files: program, UI, thresholds, docs, examples, units, /etc conffile; no build-tree path anywhere"

# cmake --install: the same layout under any prefix, and nothing outside it (the /etc conffile is the .deb's).
cmake --install "$RCY_BUILD_DIR" --prefix "$WORK/prefix" >install.log 2>&1 || { cat install.log >&2; fail "cmake --install"; }
(cd "$ROOT/usr" && find . -type f | sort) >deb.files
(cd "$WORK/prefix" && find . -type f | sort) >prefix.files
diff deb.files prefix.files >/dev/null || { diff deb.files prefix.files >&2 || true; fail "cmake --install differs from the .deb's /usr"; }
grep -q '/etc/' install.log && { cat install.log >&2; fail "cmake --install wrote outside its prefix"; }
ok "cmake --install --prefix: $(wc -l <prefix.files) files, the .deb's /usr layout, nothing in /etc"

if command -v systemd-analyze >/dev/null; then
  # verify checks that ExecStart's program exists: point the units at the extracted one.
  mkdir -p units
  for u in recistry-ingest recistry-serve; do
    sed "s|/usr/bin/recistry|$ROOT/usr/bin/recistry|" "$ROOT/usr/lib/systemd/system/$u.service" >"units/$u.service"
  done
  SYSTEMD_LOG_LEVEL=warning systemd-analyze verify --man=no units/recistry-ingest.service \
    units/recistry-serve.service >verify.log 2>&1 || { cat verify.log >&2; fail "systemd-analyze verify"; }
  # verify only warns (exit 0) about an unknown key or a bad value: any output is a failure.
  [ ! -s verify.log ] || { cat verify.log >&2; fail "systemd-analyze verify warns"; }
  # systemd's own hardening score (0 = locked down, 10 = exposed); "OK" is below 2.
  exposure=
  for u in recistry-ingest recistry-serve; do
    e=$(systemd-analyze security --offline=yes "units/$u.service" 2>&1 | sed -n 's/.*Overall exposure level for .*: \([0-9.]*\) .*/\1/p')
    [ -n "$e" ] && awk -v e="$e" 'BEGIN { exit !(e < 2.0) }' || fail "$u: exposure '$e' (systemd-analyze security), not < 2.0"
    exposure="$exposure $u $e"
  done
  ok "systemd-analyze verify: both units clean; exposure (systemd-analyze security):$exposure"
fi

# The maintainer scripts for real, on a throwaway copy of this machine: / under an overlay whose upper layer is a
# tmpfs, in a private mount namespace, chrooted; nothing reaches the real /etc, /var or dpkg database.
# Install (user, archive, conffile mode), a local edit surviving a reinstall (an upgrade's configure), remove
# (program gone, archive kept), purge (conffile gone, archive still kept).
if [ "$(id -u)" = 0 ] && unshare -m --propagation private true 2>/dev/null; then
  mkdir -p overlay overlay-mnt
  cp "$deb" overlay/recistry.deb
  cat >overlay/inside.sh <<'SH'
set -eu
fail() { echo "FAIL (maintainer scripts): $*" >&2; exit 1; }
dpkg -i /tmp/recistry.deb >/tmp/dpkg.log 2>&1 || { cat /tmp/dpkg.log >&2; fail "dpkg -i"; }
getent passwd recistry | grep -q ':/var/lib/recistry:/usr/sbin/nologin$' || fail "system user recistry"
[ "$(stat -c '%U:%G %a' /var/lib/recistry)" = "recistry:recistry 750" ] || fail "/var/lib/recistry owner/mode"
[ "$(stat -c '%U:%G %a' /etc/recistry/core.ini)" = "root:recistry 640" ] || fail "/etc/recistry/core.ini owner/mode"
[ "$(stat -c '%U' /var/lib/recistry/archive/recistry.db)" = recistry ] || fail "first install: no archive made as recistry"
runuser -u recistry -- recistry studies --archive /var/lib/recistry/archive >/dev/null || fail "studies as recistry"
dpkg-query -W -f='${Conffiles}
' recistry | grep -q '^ /etc/recistry/core.ini ' || fail "conffile not registered"
echo "; local edit" >>/etc/recistry/core.ini
chmod 0600 /etc/recistry/core.ini
touch /var/lib/recistry/archive/marker
dpkg -i /tmp/recistry.deb >/tmp/dpkg.log 2>&1 || { cat /tmp/dpkg.log >&2; fail "reinstall"; }
tail -1 /etc/recistry/core.ini | grep -q '^; local edit$' || fail "reinstall overwrote the admin's edit"
[ "$(stat -c '%a' /etc/recistry/core.ini)" = 600 ] || fail "reinstall reset the admin's mode of core.ini"
[ -e /var/lib/recistry/archive/marker ] || fail "reinstall touched the archive"
dpkg -r recistry >/tmp/dpkg.log 2>&1 || { cat /tmp/dpkg.log >&2; fail "dpkg -r"; }
[ ! -e /usr/bin/recistry ] && [ -e /etc/recistry/core.ini ] && [ -e /var/lib/recistry/archive/recistry.db ] ||
  fail "remove: program gone, config and archive kept"
dpkg -P recistry >/tmp/dpkg.log 2>&1 || { cat /tmp/dpkg.log >&2; fail "dpkg -P"; }
[ ! -e /etc/recistry/core.ini ] && [ -e /var/lib/recistry/archive/recistry.db ] || fail "purge: config gone, archive kept"
SH
  unshare -m --propagation private bash -c '
    set -e
    o=$1
    mount -t tmpfs -o size=256m rcy-overlay "$o"
    mkdir -p "$o/u" "$o/w" "$o/m"
    mount -t overlay overlay -o "lowerdir=/,upperdir=$o/u,workdir=$o/w" "$o/m"
    mount --bind /proc "$o/m/proc"
    mount --bind /dev "$o/m/dev"
    mount -t tmpfs tmp "$o/m/tmp"
    mount -t tmpfs run "$o/m/run"
    cp "$2/recistry.deb" "$2/inside.sh" "$o/m/tmp/"
    exec chroot "$o/m" bash /tmp/inside.sh' _ "$WORK/overlay-mnt" "$WORK/overlay" >maint.log 2>&1 ||
    { cat maint.log >&2; fail "the maintainer scripts"; }
  ok "dpkg -i / reinstall / -r / -P in an overlay of this machine: user, archive, conffile kept on reinstall, archive kept on purge"
fi

# The demo's inputs copied out of the source tree, which phase 2 hides.
mkdir -p samples run
cp -r "$RCY_SOURCE_DIR/sample-dicom/S014" "$RCY_SOURCE_DIR/sample-dicom/reads" samples/
if [ "$(id -u)" = 0 ] && unshare -m --propagation private true 2>/dev/null; then
  cp "$0" "$WORK/phase2.sh"
  unshare -m --propagation private bash -c '
    mount -t tmpfs -o size=1m,mode=0755 rcy-hidden "$RCY_SOURCE_DIR"
    case "$RCY_BUILD_DIR/" in "$RCY_SOURCE_DIR"/*) ;; *) mount -t tmpfs -o size=1m rcy-hidden "$RCY_BUILD_DIR" ;; esac
    exec bash "$WORK/phase2.sh" --installed "$1"' _ "$ROOT"
else
  echo "note: not root or no mount namespaces: phase 2 runs with the trees visible (the binary has no path to them)"
  RCY_SOURCE_DIR=/nonexistent RCY_BUILD_DIR=/nonexistent bash "$0" --installed "$ROOT"
fi
