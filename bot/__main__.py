"""Lets `python -m bot` run the copbot command line."""

from bot.cli import main

main()
