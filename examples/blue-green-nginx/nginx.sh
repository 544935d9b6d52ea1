#!/bin/sh
# nginx.sh - a private nginx for this example, under its own prefix
# (default: ./nginx next to this script; NGINX_PREFIX overrides).
#
#   ./nginx.sh start PORT SLOT...   listen on 127.0.0.1:PORT, proxy to the
#                                   SLOTs (ports on 127.0.0.1)
#   ./nginx.sh switch SLOT [WEIGHT] point the upstream at SLOT (WEIGHT: the
#                                   percent SLOT gets, the rest stays on the
#                                   other servers: canary), reload nginx and
#                                   wait until the new workers run
#   ./nginx.sh stop                 stop it
#
# The upstream lives in $NGINX_PREFIX/upstream.conf, rewritten atomically.
# A request that fails to connect to one server is retried on the next
# (proxy_next_upstream), which is what lets a rolling deploy list both ports.
set -eu
here=$(cd "$(dirname "$0")" && pwd)
prefix=${NGINX_PREFIX:-$here/nginx}
nginx=${NGINX_BIN:-$(command -v nginx || echo /usr/sbin/nginx)}

run_nginx() {
	"$nginx" -p "$prefix" -c "$prefix/nginx.conf" -e "$prefix/error.log" "$@"
}

write_upstream() {     # write_upstream LINE... (atomically)
	printf '%s\n' "$@" > "$prefix/upstream.conf.new"
	mv -f "$prefix/upstream.conf.new" "$prefix/upstream.conf"
}

# The pids of the worker processes of the master in nginx.pid.
workers() {
	master=$(cat "$prefix/nginx.pid")
	if command -v pgrep >/dev/null; then
		echo $(pgrep -P "$master")
		return 0
	fi
	for d in /proc/[0-9]*; do
		set -- $(cat "$d/stat" 2>/dev/null | sed 's/^.*) //') || continue
		[ "${2:-}" = "$master" ] && printf '%s ' "${d#/proc/}"
	done
	return 0
}

case "${1:-}" in
start)
	port=$2
	shift 2
	mkdir -p "$prefix/tmp"
	user=
	[ "$(id -u)" = 0 ] && user="user $(id -un);"
	cat > "$prefix/nginx.conf" <<CONF
$user
worker_processes 1;
pid $prefix/nginx.pid;
error_log $prefix/error.log warn;
events { worker_connections 1024; }
http {
	access_log off;
	client_body_temp_path $prefix/tmp/body;
	proxy_temp_path $prefix/tmp/proxy;
	fastcgi_temp_path $prefix/tmp/fastcgi;
	uwsgi_temp_path $prefix/tmp/uwsgi;
	scgi_temp_path $prefix/tmp/scgi;
	upstream app {
		include $prefix/upstream.conf;
	}
	server {
		listen 127.0.0.1:$port;
		location / {
			proxy_pass http://app;
			proxy_connect_timeout 2s;
			proxy_next_upstream error timeout;
			proxy_next_upstream_tries 0;
		}
	}
}
CONF
	lines=
	for slot in "$@"; do
		lines="$lines server 127.0.0.1:$slot max_fails=0;"
	done
	write_upstream "$lines"
	run_nginx
	;;
switch)
	slot=$2
	weight=${3:-100}
	old=$(grep -o '127.0.0.1:[0-9]*' "$prefix/upstream.conf" | cut -d: -f2 |
	      grep -vx "$slot" || true)
	if [ "$weight" -ge 100 ] || [ -z "$old" ]; then
		write_upstream "server 127.0.0.1:$slot max_fails=0;"
	elif [ "$weight" -le 0 ]; then
		write_upstream "$(for o in $old; do
			printf 'server 127.0.0.1:%s max_fails=0; ' "$o"; done)"
	else
		write_upstream "server 127.0.0.1:$slot weight=$weight max_fails=0;" \
			"$(for o in $old; do printf 'server 127.0.0.1:%s weight=%s max_fails=0; ' \
				"$o" $((100 - weight)); done)"
	fi
	before=$(workers)
	run_nginx -t -q
	run_nginx -s reload
	# nginx -s reload only signals the master: wait until it has started
	# workers with the new upstream (the old ones finish their requests)
	i=0
	while [ "$(workers)" = "$before" ] || [ -z "$(workers)" ]; do
		i=$((i + 1))
		[ $i -gt 100 ] && { echo "nginx did not reload" >&2; exit 1; }
		sleep 0.05
	done
	;;
stop)
	[ -f "$prefix/nginx.pid" ] && run_nginx -s quit
	;;
*)
	echo "usage: $0 start PORT SLOT... | switch SLOT [WEIGHT] | stop" >&2
	exit 2
	;;
esac
