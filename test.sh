#!/usr/bin/env bash
# The whole test suite, as the README gives it: installs the Debian packages the tests start when they are missing
# (PostgreSQL, slapd and libldap, python3-pyftpdlib, python3-openssl, python3-aiosmtpd, Chromium; as root, or through
# sudo), then runs `dotnet test Silo.sln` with any arguments given (e.g. --filter ...). CI runs exactly this.
set -euo pipefail
cd "$(dirname "$0")"

export DOTNET_CLI_TELEMETRY_OPTOUT=1 DOTNET_NOLOGO=1

if ! command -v dotnet >/dev/null 2>&1; then
  echo "The .NET 10 SDK is required (dotnet not on PATH)." >&2
  exit 1
fi

# Debian packages the tests start for real: PostgreSQL (cluster tests); for the adapter tests an FTP server
# (pyftpdlib, with pyOpenSSL for FTPS), an SMTP server (aiosmtpd), an LDAP server (slapd) and libldap, which
# System.DirectoryServices.Protocols loads; Chromium for the portal's browser tests. The test servers run on
# Debian's own /usr/bin/python3.
need=()
command -v pg_ctl >/dev/null 2>&1 || ls /usr/lib/postgresql/*/bin/pg_ctl >/dev/null 2>&1 || need+=(postgresql)
/usr/bin/python3 -c 'import pyftpdlib' >/dev/null 2>&1 || need+=(python3-pyftpdlib)
/usr/bin/python3 -c 'import OpenSSL' >/dev/null 2>&1 || need+=(python3-openssl)
/usr/bin/python3 -c 'import aiosmtpd' >/dev/null 2>&1 || need+=(python3-aiosmtpd)
[ -x /usr/sbin/slapd ] && [ -x /usr/sbin/slapcat ] || need+=(slapd)
ls /usr/lib/*/libldap*.so.* >/dev/null 2>&1 || need+=(libldap-2.5-0)
# openssl makes the LDAP tests' private CA and server certificate (LDAPS, StartTLS).
command -v openssl >/dev/null 2>&1 || need+=(openssl)
# The portal's browser tests drive Debian's Chromium through Playwright (which cannot download its own browsers here).
[ -x /usr/bin/chromium ] || need+=(chromium)
if [ ${#need[@]} -gt 0 ]; then
  if [ "$(id -u)" -eq 0 ]; then SUDO=""; else SUDO="sudo"; fi
  # The tests give slapd a throw-away configuration of their own: no system directory is wanted.
  echo "slapd slapd/no_configuration boolean true" | $SUDO debconf-set-selections
  $SUDO apt-get update -qq
  DEBIAN_FRONTEND=noninteractive $SUDO apt-get install -y -qq --no-install-recommends "${need[@]}"
fi

# Hygiene: nothing the repository ignores (logs, pid files, bench output, databases) may be committed.
if command -v git >/dev/null 2>&1 && git rev-parse --is-inside-work-tree >/dev/null 2>&1; then
  ignored=$(git ls-files --cached --ignored --exclude-standard)
  if [ -n "$ignored" ]; then
    echo "These committed files match .gitignore (a command's output, logs, pid files?); remove them:" >&2
    echo "$ignored" >&2
    exit 1
  fi
fi

dotnet test Silo.sln "$@"
