"""Lets `python -m copbot` run the copbot command line."""

from copbot.cli import main

main()
