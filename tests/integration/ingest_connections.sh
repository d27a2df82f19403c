# Idle TCP connections against the daemon (issue 9, item 3). The acceptor used to read each A-ASSOCIATE-RQ
# itself with a 30 s timeout, so one silent socket delayed every site's association by 30 s and a handful
# made them fail. Now each connection is read on its own thread with its own timeout (association_timeout),
# connections are capped per peer address (max_connections_per_host) and in total (max_connections), and an
# over-cap connection is answered A-ASSOCIATE-RJ (transient, local limit exceeded) at once, with a log line.
# Part 1 uses the default configuration.
source "$(dirname "$0")/lib/ingest.sh"
ingest_setup
PORT=$(free_port)
LIB=$(dirname "$0")/lib
"$RECISTRY" init --archive "$WORK/archive" >/dev/null
write_config "$WORK/c.ini" "$PORT" reject 2
start_daemon "$WORK/c.ini"
ms() { date +%s%3N; }

# 15 idle connections from 127.0.0.3 (another host as far as the daemon can tell)
python3 "$LIB/idle.py" 127.0.0.1 "$PORT" 127.0.0.3 15 "$WORK/idle3" & EXTRA_PIDS="$!"
for _ in $(seq 50); do [ -f "$WORK/idle3" ] && break; sleep 0.1; done
sleep 0.5
t0=$(ms)
timeout 25 echoscu -ta 20 -aet SITE014 -aec FFCD_CORE 127.0.0.1 "$PORT" || fail "C-ECHO with 15 idle connections open ($(( $(ms) - t0 )) ms)"
t1=$(ms)
echo "# C-ECHO with 15 idle connections from another address: $((t1 - t0)) ms"
[ $((t1 - t0)) -lt 2000 ] || fail "C-ECHO took $((t1 - t0)) ms with idle connections open"
ok "C-ECHO promptly ($((t1 - t0)) ms) while 15 idle connections are open"

make_series "$WORK/good" 2
t0=$(ms)
timeout 25 storescu -ta 20 -aet SITE014 -aec FFCD_CORE 127.0.0.1 "$PORT" "$WORK"/good/*.dcm || fail "C-STORE with idle connections open"
t1=$(ms)
[ "$(sql 'SELECT COUNT(*) FROM instances')" = 2 ] || fail "2 instances stored"
[ $((t1 - t0)) -lt 3000 ] || fail "C-STORE took $((t1 - t0)) ms with idle connections open"
ok "C-STORE promptly ($((t1 - t0)) ms) while idle connections are open"

# the per-address cap (default 8): 7 of the 15 refused at once with A-ASSOCIATE-RJ, logged
for _ in $(seq 30); do grep -q "rj=7" "$WORK/idle3" && break; sleep 0.1; done
grep -q "open=8 rj=7" "$WORK/idle3" || fail "per-address cap: $(cat "$WORK/idle3")"
grep -q "connection from 127.0.0.3 refused: 8 connections already open from this address" "$WORK/daemon.log" || fail "no log line for the over-cap connections"
ok "over-cap connections from one address refused (A-ASSOCIATE-RJ): $(cat "$WORK/idle3")"

# another address still gets through while 127.0.0.3 is at its cap
python3 "$LIB/rawdicom.py" echo 127.0.0.1 "$PORT" SITE027 FFCD_CORE --bind 127.0.0.2 >/dev/null || fail "C-ECHO from 127.0.0.2"
ok "another address (127.0.0.2) still served"

# idle connections are closed after association_timeout (default 10 s)
for _ in $(seq 150); do grep -q "open=0" "$WORK/idle3" && break; sleep 0.1; done
grep -q "open=0 rj=7 closed=8" "$WORK/idle3" || fail "idle connections not closed after the timeout: $(cat "$WORK/idle3")"
grep -q "connection from 127.0.0.3 closed: no association request within 10 s" "$WORK/daemon.log" || fail "no log line for the timeout"
ok "idle connections closed after the association timeout"
stop_daemon
kill $EXTRA_PIDS 2>/dev/null || true; wait 2>/dev/null || true; EXTRA_PIDS=

# Part 2: the keys, and the global cap
cat >>"$WORK/c.ini" <<INI
INI
sed -i 's/^max_associations = 8$/max_associations = 8\nmax_connections = 4\nmax_connections_per_host = 2\nassociation_timeout = 3/' "$WORK/c.ini"
start_daemon "$WORK/c.ini"
python3 "$LIB/idle.py" 127.0.0.1 "$PORT" 127.0.0.3 3 "$WORK/idle3b" & EXTRA_PIDS="$!"
python3 "$LIB/idle.py" 127.0.0.1 "$PORT" 127.0.0.4 2 "$WORK/idle4" & EXTRA_PIDS="$EXTRA_PIDS $!"
for _ in $(seq 50); do [ -f "$WORK/idle3b" ] && [ -f "$WORK/idle4" ] && grep -q "rj=1" "$WORK/idle3b" && break; sleep 0.1; done
sleep 0.3
grep -q "open=2 rj=1" "$WORK/idle3b" || fail "per-address cap 2: $(cat "$WORK/idle3b")"
grep -q "open=2 rj=0" "$WORK/idle4" || fail "127.0.0.4: $(cat "$WORK/idle4")"
if echoscu -ta 5 -aet SITE014 -aec FFCD_CORE 127.0.0.1 "$PORT" 2>"$WORK/e.log"; then fail "C-ECHO accepted above max_connections"; fi
grep -q "connection from 127.0.0.1 refused: 4 connections already open" "$WORK/daemon.log" || fail "no log line for the global cap"
ok "global cap (max_connections = 4) refuses a fifth connection"
for _ in $(seq 60); do grep -q "open=0" "$WORK/idle4" && break; sleep 0.1; done
grep -q "open=0" "$WORK/idle4" || fail "association_timeout = 3 not applied: $(cat "$WORK/idle4")"
echoscu -ta 5 -aet SITE014 -aec FFCD_CORE 127.0.0.1 "$PORT" || fail "C-ECHO after the idle connections timed out"
ok "association_timeout = 3 frees the slots; C-ECHO served again"
stop_daemon
