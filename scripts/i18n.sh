#!/usr/bin/env bash
# Refresh the Simplified Chinese catalogue and compile it.
#
#   scripts/i18n.sh            extract new strings into guanxi/locale/zh_Hans/LC_MESSAGES/django.po
#                              and compile django.mo
#   scripts/i18n.sh --check    also fail when an entry is untranslated or fuzzy
#
# makemessages keeps existing translations; new msgids arrive with an empty msgstr (or marked
# fuzzy when gettext guessed one) and need a translator before the next release. The .mo
# file is committed, so a machine without gettext still serves Chinese.
set -euo pipefail
cd "$(dirname "${BASH_SOURCE[0]}")/.."

PY=.venv/bin/python
LOCALE=zh_Hans
PO="guanxi/locale/$LOCALE/LC_MESSAGES/django.po"
CHECK=0
for arg in "$@"; do
    case "$arg" in
        --check) CHECK=1 ;;
        *) echo "i18n: unknown argument $arg" >&2; exit 2 ;;
    esac
done

command -v msgfmt >/dev/null 2>&1 || {
    echo "i18n: gettext is needed (Debian/Ubuntu: apt-get install -y gettext)" >&2
    exit 1
}
mkdir -p "guanxi/locale/$LOCALE/LC_MESSAGES"
BEFORE="$(mktemp)"
trap 'rm -f "$BEFORE"' EXIT
[ -f "$PO" ] && cp "$PO" "$BEFORE"

# LOCALE_PATHS[0] is guanxi/locale, so every string of the project lands in one catalogue.
# Test modules are left out: they only repeat msgids of the code they test.
"$PY" manage.py makemessages --locale "$LOCALE" --domain django \
    --add-location=file --no-wrap --no-obsolete \
    --ignore ".venv/*" --ignore "node_modules/*" --ignore "var/*" --ignore "bench/*" \
    --ignore "guanxi/static/vendor/*" --ignore "static/vendor/*" --ignore "*/static/vendor/*" \
    --ignore "tests"

# Chinese has one plural form; makemessages writes the template's placeholder header.
sed -i 's/^"Plural-Forms: .*\\n"$/"Plural-Forms: nplurals=1; plural=0;\\n"/' "$PO"
sed -i 's/^"Language: .*\\n"$/"Language: zh_Hans\\n"/' "$PO"

# Only the creation date changed: keep the file as it was, so a run without new strings
# leaves nothing to commit.
without_date() { grep -v '^"POT-Creation-Date: ' "$1"; }
if [ -s "$BEFORE" ] && cmp -s <(without_date "$BEFORE") <(without_date "$PO"); then
    cp "$BEFORE" "$PO"
fi

msgfmt --check --statistics -o "${PO%.po}.mo" "$PO"

untranslated="$(msgattrib --untranslated --no-wrap "$PO" | grep -c '^msgid ' || true)"
fuzzy="$(msgattrib --only-fuzzy --no-wrap "$PO" | grep -c '^msgid ' || true)"
# msgattrib prints the header entry too when anything else is printed.
[ "$untranslated" -gt 0 ] && untranslated=$((untranslated - 1))
[ "$fuzzy" -gt 0 ] && fuzzy=$((fuzzy - 1))
echo "i18n: $PO: $untranslated untranslated, $fuzzy fuzzy"
if [ "$CHECK" = 1 ] && [ $((untranslated + fuzzy)) -gt 0 ]; then
    echo "i18n: translate the entries above before committing" >&2
    exit 1
fi
