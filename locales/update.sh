#!/usr/bin/env bash
# Regenerate the template from the code, merge it into every catalog, fill English from the
# msgids, compile, and print the coverage report. Run from the repository root.
set -euo pipefail
py=${PYTHON:-.venv/bin/python}
"$py" -m babel.messages.frontend extract -F babel.cfg -k N_ -k label --add-comments=TRANSLATORS: \
  --no-location --sort-output --omit-header -o locales/messages.pot . >/dev/null 2>&1
"$py" -m babel.messages.frontend update -i locales/messages.pot -d locales --no-fuzzy-matching \
  --ignore-obsolete >/dev/null 2>&1
"$py" -m bot.i18n_check --fill-english >/dev/null || true
"$py" -m babel.messages.frontend compile -d locales --statistics 2>&1 | grep -v "^compiling" || true
"$py" -m bot.i18n_check
