"""Run the simulated server from a shell: see `python -m helpers.llm_server --help`."""

from helpers.llm_server.cli import main

main()
