#!/bin/sh
# Removes the Haven agent from a Mac (run as root, e.g. from a Jamf policy). macOS packages have no
# uninstaller of their own. Pass --purge to remove the device credential, the outbox and the logs too.
set -u
[ "$(id -u)" -eq 0 ] || { echo "uninstall.sh: run as root" >&2; exit 1; }
for uid in $(ps -axo uid=,comm= | awk '$2 ~ /\/loginwindow$/ { print $1 }' | sort -u); do
  launchctl bootout "gui/$uid/uk.org.haven.agent.session" 2>/dev/null || true
done
launchctl bootout system/uk.org.haven.agent.service 2>/dev/null || true
rm -f /Library/LaunchDaemons/uk.org.haven.agent.service.plist /Library/LaunchAgents/uk.org.haven.agent.session.plist
rm -rf "/Library/Application Support/Haven/Haven Agent.app"
if [ "${1:-}" = "--purge" ]; then
  rm -rf "/Library/Application Support/Haven" /Library/Logs/Haven
fi
pkgutil --forget uk.org.haven.agent.pkg >/dev/null 2>&1 || true
exit 0
