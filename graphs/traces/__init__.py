"""The trace store and what reads it: show, diff, HTML export, fork and replay of recorded runs."""
