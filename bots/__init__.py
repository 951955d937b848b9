"""Front ends: the terminal (cli.py) and Telegram; they translate and render, nothing more."""
