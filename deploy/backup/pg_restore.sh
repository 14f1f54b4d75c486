#!/usr/bin/env bash
# Restore a pg_backup.sh dump into a named database on the server DATABASE_URL points at.
#
# Usage: pg_restore.sh [--drop-existing] DUMP_FILE TARGET_DATABASE
#   The target is created; if it exists the restore refuses, unless --drop-existing, which drops it first
#   (terminating its connections). Restoring into the live database: stop web, workers and beat first.
#   Objects are owned by the role in DATABASE_URL (--no-owner), so a dump from another server restores too.
# Environment:
#   DATABASE_URL   required; its user, password, host and port are used (its database name is not)
#   ADMIN_DATABASE maintenance database to connect to for CREATE/DROP DATABASE (default postgres)
# The role needs CREATEDB (or be the owner of an existing target with --drop-existing).
# The restore runs in one transaction: it lands completely or not at all.
set -euo pipefail

die() { echo "pg_restore: error: $*" >&2; exit 1; }
log() { echo "pg_restore: $*" >&2; }
usage="usage: $0 [--drop-existing] DUMP_FILE TARGET_DATABASE"

drop=0
args=()
for arg in "$@"; do
  case "$arg" in
    --drop-existing) drop=1 ;;
    -h|--help) sed -n '2,14p' "$0"; exit 0 ;;
    -*) die "unknown option $arg; $usage" ;;
    *) args+=("$arg") ;;
  esac
done
[[ ${#args[@]} -eq 2 ]] || die "$usage"
dump="${args[0]}"
target="${args[1]}"

[[ -n "${DATABASE_URL:-}" ]] || die "DATABASE_URL is not set (source the env file, e.g. set -a; . /etc/emailengine/emailengine.env; set +a)"
[[ -f "$dump" && -r "$dump" ]] || die "cannot read dump file '$dump'"
# The name goes into SQL and URLs: keep it to plain identifiers.
[[ "$target" =~ ^[A-Za-z_][A-Za-z0-9_]{0,62}$ ]] || die "target database name '$target' must be letters, digits and _ (max 63), not starting with a digit"
for tool in pg_restore psql; do
  command -v "$tool" >/dev/null || die "$tool not found: install postgresql-client"
done
pg_restore --list "$dump" >/dev/null 2>&1 || die "'$dump' is not a pg_dump custom-format archive (pg_backup.sh writes those)"

url="$DATABASE_URL"
case "$url" in
  postgres://*|postgresql://*) ;;
  pgsql://*|psql://*|postgis://*) url="postgresql://${url#*://}" ;;
  *) die "DATABASE_URL must be a postgres:// URL, got '${url%%://*}://...'" ;;
esac
# Same server and credentials, another database: swap the URL's path, keep its query string.
with_db() {
  local rest="${url#*://}" scheme="${url%%://*}" authority query=""
  authority="${rest%%/*}"
  if [[ "$rest" == *\?* ]]; then query="?${rest#*\?}"; fi
  if [[ "$authority" == *\?* ]]; then authority="${authority%%\?*}"; fi
  printf '%s://%s/%s%s' "$scheme" "$authority" "$1" "$query"
}
[[ "$target" != "${ADMIN_DATABASE:-postgres}" ]] || die "cannot restore into the maintenance database '$target'"
admin_url="$(with_db "${ADMIN_DATABASE:-postgres}")"
target_url="$(with_db "$target")"

psql_admin() { psql --no-psqlrc --no-password --quiet --tuples-only --no-align -v ON_ERROR_STOP=1 --dbname="$admin_url" "$@"; }

exists="$(psql_admin -c "SELECT 1 FROM pg_database WHERE datname = '$target'")" \
  || die "cannot connect to the server with DATABASE_URL (database ${ADMIN_DATABASE:-postgres})"
if [[ "$exists" == "1" ]]; then
  [[ "$drop" -eq 1 ]] || die "database '$target' already exists; pick a new name or pass --drop-existing to replace it"
  log "dropping existing database '$target'"
  psql_admin -c "DROP DATABASE \"$target\" WITH (FORCE)" || die "could not drop '$target'"
fi
log "creating database '$target'"
psql_admin -c "CREATE DATABASE \"$target\"" || die "could not create '$target' (does the role have CREATEDB?)"

started=$SECONDS
log "restoring $dump into '$target'"
if ! pg_restore --no-owner --no-acl --no-password --exit-on-error --single-transaction \
  --dbname="$target_url" "$dump"; then
  die "pg_restore failed; nothing was restored (single transaction). '$target' exists but is empty"
fi
tables="$(psql --no-psqlrc --no-password -tAq -v ON_ERROR_STOP=1 --dbname="$target_url" \
  -c "SELECT count(*) FROM pg_tables WHERE schemaname NOT IN ('pg_catalog', 'information_schema')")"
log "done in $((SECONDS - started))s: $tables tables in '$target'"
