#!/bin/sh
# compose-init.sh [DIR]: creates once the files docker-compose.yml reads from
# deploy/secrets/ (or DIR). Files that exist are kept, so a real secret put
# there is never overwritten; fake-wechat.json is rewritten from the app
# secrets each time.
#
#   <appid>            app secret, one per app of examples/apps.yaml (random
#                      here: put the real AppSecret in for real WeChat)
#   fake-wechat.json   the apps and secrets the fake WeChat server accepts
#   minio.env          MinIO's root user (MINIO_ROOT_USER, MINIO_ROOT_PASSWORD)
#   s3.env             the S3 user of wxacode (AWS_ACCESS_KEY_ID, ...)
#   dashboard.env      WXACODE_DASHBOARD_TOKEN, the dashboard's bearer token
#
# The containers run as uid 65532 and wxacode refuses secret files that
# group or others can read: app secrets and fake-wechat.json get mode 0400
# and, when run as root, owner 65532. The .env files are read by docker
# compose itself and stay with the user running it (mode 0600).
set -eu

here=$(cd "$(dirname "$0")" && pwd)
dir=${1:-$here/secrets}
umask 077
mkdir -p "$dir"

rand() { od -An -tx1 -N"$1" /dev/urandom | tr -d ' \n'; }

# put NAME CONTENT writes $dir/NAME unless it exists.
put() {
	[ -e "$dir/$1" ] && return 0
	printf '%s\n' "$2" >"$dir/$1"
}

apps=$(sed -n 's/^[[:space:]]*-[[:space:]]*appid:[[:space:]]*\([A-Za-z0-9_-]*\).*/\1/p' "$here/examples/apps.yaml")
[ -n "$apps" ] || { echo "compose-init.sh: no appid in $here/examples/apps.yaml" >&2; exit 1; }

for app in $apps; do
	put "$app" "$(rand 16)"
done
put minio.env "MINIO_ROOT_USER=wxacode-admin
MINIO_ROOT_PASSWORD=$(rand 24)"
put s3.env "AWS_ACCESS_KEY_ID=wxacode
AWS_SECRET_ACCESS_KEY=$(rand 24)"
put dashboard.env "WXACODE_DASHBOARD_TOKEN=$(rand 24)"

# AppSecrets are 32 hex digits: no JSON escaping needed.
rm -f "$dir/fake-wechat.json"
{
	printf '{"apps": {'
	sep=
	for app in $apps; do
		printf '%s"%s": "%s"' "$sep" "$app" "$(tr -d '\r\n' <"$dir/$app")"
		sep=', '
	done
	printf '}}\n'
} >"$dir/fake-wechat.json"

mounted=fake-wechat.json
for app in $apps; do mounted="$mounted $app"; done
for f in $mounted; do chmod 0400 "$dir/$f"; done
chmod 0600 "$dir/minio.env" "$dir/s3.env" "$dir/dashboard.env"
if [ "$(id -u)" -eq 0 ]; then
	for f in $mounted; do chown 65532:65532 "$dir/$f"; done
else
	echo "compose-init.sh: the containers run as uid 65532; give them their files with:" >&2
	echo "  (cd '$dir' && sudo chown 65532:65532 $mounted)" >&2
fi
echo "compose-init.sh: secrets in $dir"
