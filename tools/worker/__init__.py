"""Entry points that run inside sandboxed child processes."""
