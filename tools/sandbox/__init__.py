"""Running untrusted code: the operating-system sandbox, its child processes and what comes back from them."""
