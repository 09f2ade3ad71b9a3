#!/usr/bin/env bash
# Regenerate the templates from the code, merge them into every catalog, fill English from the
# msgids, compile, and print the coverage report. Run from the repository root.
# Two domains: `messages` (the bot, every language) and `admin` (the staff web, de and en).
set -euo pipefail
py=${PYTHON:-.venv/bin/python}
"$py" -m babel.messages.frontend extract -F babel.cfg -k N_ -k label --add-comments=TRANSLATORS: \
  --no-location --sort-output --omit-header -o locales/messages.pot . >/dev/null 2>&1
"$py" -m babel.messages.frontend update -i locales/messages.pot -d locales --no-fuzzy-matching \
  --ignore-obsolete >/dev/null 2>&1
# The admin domain: A_() in Python under bot/ and _() in the staff web's templates.
"$py" -m bot.i18n_check --extract-admin >/dev/null
for code in de en; do
  po=locales/$code/LC_MESSAGES/admin.po
  if [ -f "$po" ]; then
    "$py" -m babel.messages.frontend update -D admin -i locales/admin.pot -l "$code" -o "$po" \
      --no-fuzzy-matching --ignore-obsolete >/dev/null 2>&1
  else
    "$py" -m babel.messages.frontend init -D admin -i locales/admin.pot -l "$code" -o "$po" >/dev/null 2>&1
  fi
done
"$py" -m bot.i18n_check --fill-english >/dev/null || true
"$py" -m babel.messages.frontend compile -d locales --statistics 2>&1 | grep -v "^compiling" || true
"$py" -m babel.messages.frontend compile -D admin -d locales -l de --statistics 2>&1 | grep -v "^compiling" || true
"$py" -m babel.messages.frontend compile -D admin -d locales -l en --statistics 2>&1 | grep -v "^compiling" || true
"$py" -m bot.i18n_check
