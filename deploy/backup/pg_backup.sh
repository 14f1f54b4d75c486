#!/usr/bin/env bash
# Back up Email Engine's Postgres database: one pg_dump custom-format file (-Fc: compressed, restorable
# table by table with pg_restore), timestamped, checked, and files older than the retention removed.
#
# Usage: pg_backup.sh [-d BACKUP_DIR] [-k KEEP_DAYS]
# Environment:
#   DATABASE_URL       required; the same URL the application uses (postgres://user:pass@host:port/db)
#   BACKUP_DIR         where dumps go (default /var/backups/emailengine); -d overrides
#   BACKUP_KEEP_DAYS   dumps older than this many days are deleted after a good backup (default 14; 0 = keep all)
# Prints the path of the new dump on stdout; everything else goes to stderr. Exit code 0 only when the dump
# was written completely and pg_restore can read its table of contents.
#
# The dump does not contain FIELD_ENCRYPTION_KEY: keep that key (and SECRET_KEY) backed up separately,
# or the encrypted columns (DKIM private keys, PMTA API keys) of a restored database are unreadable.
set -euo pipefail

die() { echo "pg_backup: error: $*" >&2; exit 1; }
log() { echo "pg_backup: $*" >&2; }

backup_dir="${BACKUP_DIR:-/var/backups/emailengine}"
keep_days="${BACKUP_KEEP_DAYS:-14}"
while getopts "d:k:h" opt; do
  case "$opt" in
    d) backup_dir="$OPTARG" ;;
    k) keep_days="$OPTARG" ;;
    h) sed -n '2,16p' "$0"; exit 0 ;;
    *) die "usage: $0 [-d BACKUP_DIR] [-k KEEP_DAYS]" ;;
  esac
done

[[ -n "${DATABASE_URL:-}" ]] || die "DATABASE_URL is not set (source the env file, e.g. set -a; . /etc/emailengine/emailengine.env; set +a)"
[[ "$keep_days" =~ ^[0-9]+$ ]] || die "BACKUP_KEEP_DAYS/-k must be a whole number of days, not '$keep_days'"
command -v pg_dump >/dev/null || die "pg_dump not found: install postgresql-client (same major version as the server or newer)"
command -v pg_restore >/dev/null || die "pg_restore not found: install postgresql-client"

# libpq understands postgres:// and postgresql:// URLs; django-environ's other spellings it does not.
url="$DATABASE_URL"
case "$url" in
  postgres://*|postgresql://*) ;;
  pgsql://*|psql://*|postgis://*) url="postgresql://${url#*://}" ;;
  *) die "DATABASE_URL must be a postgres:// URL, got '${url%%://*}://...'" ;;
esac

# Database name: the URL path without query string, for the file name.
dbname="${url#*://}"; dbname="${dbname#*/}"; dbname="${dbname%%\?*}"
[[ "$dbname" != "${url#*://}" && -n "$dbname" ]] || die "DATABASE_URL names no database"
[[ "$dbname" =~ ^[A-Za-z0-9_.-]+$ ]] || die "unexpected characters in the database name '$dbname'"

umask 077   # dumps contain every tenant's data
mkdir -p "$backup_dir" || die "cannot create $backup_dir"
[[ -w "$backup_dir" ]] || die "$backup_dir is not writable by $(id -un)"

stamp="$(date -u +%Y%m%dT%H%M%SZ)"
target="$backup_dir/emailengine-$dbname-$stamp.dump"
[[ ! -e "$target" ]] || target="$backup_dir/emailengine-$dbname-$stamp-$$.dump"
partial="$target.partial"
trap 'rm -f "$partial"' EXIT

started=$SECONDS
log "dumping database '$dbname' to $target"
# A failed or interrupted dump stays a .partial file (removed on exit) and never looks like a backup.
pg_dump --format=custom --compress=6 --no-password --file="$partial" --dbname="$url" \
  || die "pg_dump failed (see the message above); no backup was written"
pg_restore --list "$partial" >/dev/null || die "the new dump is unreadable by pg_restore; kept nothing"
mv "$partial" "$target"
trap - EXIT
size="$(du -h "$target" | cut -f1)"
log "done in $((SECONDS - started))s, $size"

if [[ "$keep_days" -gt 0 ]]; then
  # Only our own, finished dumps of this database; never the one just written.
  while IFS= read -r old; do
    [[ "$old" == "$target" ]] && continue
    rm -f -- "$old" && log "removed $old (older than $keep_days days)"
  done < <(find "$backup_dir" -maxdepth 1 -type f -name "emailengine-$dbname-*.dump" -mtime "+$((keep_days - 1))" -print)
fi

echo "$target"
